"""Call a Keras model on small batches fast: one compiled function, a few fixed batch sizes.

`model.predict` pays for a data adapter and a callback loop on every call, and a plain eager
`model(x)` runs the recurrent loop op by op (over 100 ms for one review on JAX). A request
holds one to a few dozen texts, so per-call cost is what matters: under JAX the model's
`stateless_call` is jitted once, and batches are padded with empty rows up to a fixed size
so a new batch size never triggers a new compilation while serving.
"""

from __future__ import annotations

import numpy as np

from rnnlab._backend import backend_name
from rnnlab.models.outputs import class_probabilities

BATCH_SIZES = (1, 8, 64)


class CompiledModel:
    """A Keras model's outputs for id matrices, padded to fixed batch sizes.

    Args:
        model: a built Keras model taking an int id matrix ``(n, maxlen)``.
        batch_sizes: the batch sizes compiled for (default ``(1, 8, 64)``); a larger batch
            is padded to a multiple of the largest.

    The weights are copied when it is made: later changes to the model are not seen.

    Example:
        >>> compiled = CompiledModel(bundle.model)  # doctest: +SKIP
        >>> compiled.probabilities(bundle.preprocessor.transform(["An excellent movie!"]))  # doctest: +SKIP
        array([[0.08, 0.92]])
    """

    def __init__(self, model, batch_sizes: tuple[int, ...] = BATCH_SIZES):
        self.model = model
        self.batch_sizes = tuple(sorted(set(int(b) for b in batch_sizes)))
        if not self.batch_sizes or self.batch_sizes[0] < 1:
            raise ValueError(f"batch_sizes must be positive integers, got {batch_sizes!r}.")
        self._forward = _jax_forward(model) if backend_name() == "jax" else model.predict_on_batch

    def padded_size(self, n: int) -> int:
        """The batch size `n` rows are padded to."""
        for size in self.batch_sizes:
            if n <= size:
                return size
        largest = self.batch_sizes[-1]
        return -(-n // largest) * largest

    def outputs(self, x) -> list[np.ndarray]:
        """Every model output for the rows of ``x`` (an array, or a dict of arrays for a model with
        named inputs), as numpy arrays with the padding rows removed."""
        arrays = x if isinstance(x, dict) else {None: x}
        arrays = {k: np.asarray(v) if np.asarray(v).dtype.kind == "f" else np.asarray(v, dtype="int32")
                  for k, v in arrays.items()}
        n = len(next(iter(arrays.values())))
        size = self.padded_size(n)
        if size != n:
            # Zero rows are all padding: a valid input whose outputs are dropped below.
            arrays = {k: np.concatenate([v, np.zeros((size - n,) + v.shape[1:], dtype=v.dtype)])
                      for k, v in arrays.items()}
        result = self._forward(arrays[None] if None in arrays else arrays)
        if not isinstance(result, (list, tuple)):
            result = [result]
        return [np.asarray(r)[:n] for r in result]

    def probabilities(self, ids: np.ndarray) -> np.ndarray:
        """Class probabilities ``(n, num_classes)`` in float64, as `rnnlab.training.metrics.probabilities`."""
        return class_probabilities(self.outputs(ids)[0])

    def warm_up(self, sizes, example) -> None:
        """Compile for each padded batch size in ``sizes`` now rather than on a request.

        ``example`` is one encoded row batch (an array or a dict of arrays); its first row is
        repeated to each size.
        """
        for size in sorted({self.padded_size(int(s)) for s in sizes}):
            if isinstance(example, dict):
                self.outputs({k: np.repeat(v[:1], size, axis=0) for k, v in example.items()})
            else:
                self.outputs(np.repeat(np.asarray(example)[:1], size, axis=0))


def _jax_forward(model):
    import jax
    import jax.numpy as jnp

    # Copies, because Keras' own `predict` donates the variables' buffers to XLA and replaces
    # them: a reference taken here would be a deleted buffer after any `model.predict` call.
    trainable = [jnp.array(v.value, copy=True) for v in model.trainable_variables]
    non_trainable = [jnp.array(v.value, copy=True) for v in model.non_trainable_variables]

    # Weights are arguments, not closed-over constants, so XLA does not fold the embedding
    # matrix into every compiled batch size.
    @jax.jit
    def forward(trainable, non_trainable, ids):
        outputs, _ = model.stateless_call(trainable, non_trainable, ids, training=False)
        return outputs

    return lambda ids: forward(trainable, non_trainable, ids)
