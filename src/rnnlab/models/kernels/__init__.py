"""rnnlab's recurrent kernels: Keras' recurrent layers, computed by compiled CPU code.

`accelerate(model)` gives every eligible recurrent layer of a model (stacked, inside
`Bidirectional`, stateful) a faster inner loop: the whole sequence and its gradient in one
compiled call each (`recurrent.cc`, through `jax.ffi`), instead of Keras' `lax.scan` of one
small step. Nothing else changes: the layers stay Keras' own classes with Keras' weights, so a
model saved after training with the kernels loads and predicts with Keras' layers, and the
reverse; `RNNLAB_RECURRENT_KERNEL=keras` turns the kernels off.

A layer uses the kernel when all of these hold, and Keras' own loop otherwise: the JAX backend
on CPU, no Keras distribution (data-parallel training shards the batch), float32, the default
activations (tanh, sigmoid), no recurrent dropout while training, no `unroll`, and a layer
class the kernels implement (`SimpleRNN`, `LSTM`, `GRU` with either reset convention). Masks, `go_backwards`,
`return_sequences`, `return_state`, initial and stateful states and dropout on the inputs all
keep Keras' semantics.
"""

from __future__ import annotations

import logging
import os
import types

KERNEL_ENV = "RNNLAB_RECURRENT_KERNEL"  # "auto" (default) or "keras"
THREADS_ENV = "RNNLAB_KERNEL_THREADS"
CHOICES = ("auto", "keras")

log = logging.getLogger(__name__)
_unavailable: str | None = None  # why the kernels cannot be used in this process, once known


def choice() -> str:
    """``auto`` (kernels where they apply) or ``keras`` (Keras' own loops), from the environment."""
    from rnnlab.errors import InvalidInputError

    value = os.environ.get(KERNEL_ENV, "auto").strip().lower() or "auto"
    if value not in CHOICES:
        raise InvalidInputError(f"{KERNEL_ENV}={value!r} is not one of {', '.join(CHOICES)}; unset it or pick one.")
    return value


def threads() -> int:
    """Threads a kernel call may use: ``$RNNLAB_KERNEL_THREADS``, a worker's allowance, else this process's cores."""
    for name in (THREADS_ENV, "RNNLAB_WORKER_THREADS"):
        value = os.environ.get(name)
        if value and value.strip().isdigit() and int(value) > 0:
            return int(value)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def available() -> bool:
    """Whether the kernels can run in this process (built and loaded on first call)."""
    global _unavailable
    if _unavailable is not None:
        return False
    from rnnlab._backend import backend_name

    if backend_name() != "jax":
        return False
    import jax

    if jax.default_backend() != "cpu":
        return False
    try:
        from rnnlab.models.kernels.ops import load

        load()
    except Exception as err:  # noqa: BLE001 - any failure means Keras' own loops, said once
        _unavailable = str(err) or type(err).__name__
        log.warning("rnnlab's recurrent kernels are not available (%s); using Keras' layers.", _unavailable)
        return False
    return True


def enabled() -> bool:
    """Whether models built or loaded now get the kernels."""
    return choice() == "auto" and available()


def accelerate(model):
    """Give `model`'s eligible recurrent layers the compiled inner loop; returns the model.

    Idempotent, and a no-op where the kernels are off or unavailable. Each layer still checks
    at call time that its settings allow the kernel, and uses Keras' loop otherwise.
    """
    if not enabled():
        return model
    from rnnlab.models.kernels.layers import fast_inner_loop

    for layer in model._flatten_layers(include_self=False, recursive=True):
        loop = fast_inner_loop(layer)
        if loop is not None and not getattr(layer, "_rnnlab_kernel", False):
            object.__setattr__(layer, "inner_loop", types.MethodType(loop, layer))
            object.__setattr__(layer, "_rnnlab_kernel", True)
    return model


def uses_kernel(layer) -> bool:
    """Whether `layer` was given the compiled inner loop (its call may still fall back)."""
    return bool(getattr(layer, "_rnnlab_kernel", False))
