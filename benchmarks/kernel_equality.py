"""How far rnnlab's recurrent kernels are from Keras' layers: 48 fixed cases, 12 settings for
each of SimpleRNN, LSTM, GRU and GRU(reset_after=False): last state, sequences with states,
go_backwards, 13 units, no bias, masked (padding at the start, in the middle, at the end and a
whole padded row), masked backwards, zero outputs at masked steps, Bidirectional with sequences
and with the last state, two stacked layers, 40 units. Each case builds a model with Keras'
layers, a copy with the kernels and the same weights, and prints the largest absolute difference
of the outputs and the largest difference of any gradient (weights and embedding), relative to
that gradient's largest value plus one.

    .venv/bin/python benchmarks/kernel_equality.py

The test suite checks the same over cases drawn by hypothesis (tests/test_kernels.py).
"""

import numpy as np

import rnnlab  # noqa: F401  (chooses the Keras backend, so it comes before Keras)

import jax
import jax.numpy as jnp
import keras
from keras import layers

from rnnlab.models.kernels import accelerate, uses_kernel


CELLS = {
    "lstm": layers.LSTM,
    "gru": layers.GRU,
    "gru-before": lambda units, **options: layers.GRU(units, reset_after=False, **options),
    "simple": layers.SimpleRNN,
}


def settings(make, plain, ids) -> dict:
    """The 12 settings of one cell: name -> (build on a tensor, input, embedded with a mask)."""
    return {
        "last": (lambda h: make(16)(h), plain, False),
        "seq+state": (lambda h: make(16, return_sequences=True, return_state=True)(h), plain, False),
        "backwards": (lambda h: make(16, go_backwards=True, return_sequences=True)(h), plain, False),
        "odd units": (lambda h: make(13, return_state=True)(h), plain, False),
        "no bias": (lambda h: make(8, use_bias=False, return_sequences=True)(h), plain, False),
        "masked": (lambda h: make(16, return_sequences=True, return_state=True)(h), ids, True),
        "masked backwards": (lambda h: make(16, go_backwards=True, return_state=True)(h), ids, True),
        "masked zero-output": (lambda h: make(16, return_sequences=True, zero_output_for_mask=True)(h), ids, True),
        "bi masked seq": (lambda h: layers.Bidirectional(make(16, return_sequences=True))(h), ids, True),
        "bi masked last": (lambda h: layers.Bidirectional(make(16), merge_mode="ave")(h), ids, True),
        "stacked masked": (lambda h: make(8)(make(16, return_sequences=True)(h)), ids, True),
        "wide": (lambda h: make(40, return_sequences=True)(h), plain, False),
    }


def differences(build, x, masked: bool) -> tuple[float, float]:
    """(largest output difference, largest relative gradient difference) of one case."""
    keras.utils.set_random_seed(1)
    inputs = keras.Input(x.shape[1:], dtype=x.dtype)
    h = layers.Embedding(50, 8, mask_zero=True)(inputs) if masked else inputs
    outputs = build(h)
    reference = keras.Model(inputs, outputs if isinstance(outputs, (list, tuple)) else [outputs])
    fast = keras.Model.from_config(reference.get_config())
    fast.set_weights(reference.get_weights())
    accelerate(fast)
    assert any(uses_kernel(layer) for layer in fast._flatten_layers()), "no kernel attached"
    forward = max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(jax.tree.leaves(reference(x)), jax.tree.leaves(fast(x))))

    def loss(model, weights):
        out, _ = model.stateless_call(weights, [v.value for v in model.non_trainable_variables], x)
        return sum(jnp.sum(jnp.sin(t) * (i + 1)) for i, t in enumerate(jax.tree.leaves(out)))

    ga = jax.grad(lambda w: loss(reference, w))([v.value for v in reference.trainable_variables])
    gb = jax.grad(lambda w: loss(fast, w))([v.value for v in fast.trainable_variables])
    grads = max(float(jnp.max(jnp.abs(a - b)) / (1 + jnp.max(jnp.abs(a)))) for a, b in zip(ga, gb))
    return forward, grads


def main() -> None:
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 50, size=(9, 13)).astype("int32")
    ids[:4, :5] = 0  # padding at the start
    ids[5, 9:] = 0  # at the end
    ids[6, :] = 0  # a whole row
    ids[7, 3:6] = 0  # in the middle
    plain = rng.normal(size=(9, 13, 7)).astype("float32")
    worst = [0.0, 0.0]
    count = 0
    for cell, make in CELLS.items():
        for name, (build, x, masked) in settings(make, plain, ids).items():
            forward, grads = differences(build, x, masked)
            worst = [max(worst[0], forward), max(worst[1], grads)]
            count += 1
            print(f"{cell + ' ' + name:28s} forward {forward:.1e} grad {grads:.1e}", flush=True)
    print(f"{count} cases; largest forward difference {worst[0]:.1e}, largest relative gradient difference {worst[1]:.1e}")


if __name__ == "__main__":
    main()
