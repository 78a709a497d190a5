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
rng = np.random.default_rng(0)
worst = [0, 0]
def compare(make, x, mask_zero=False, extra=None):
    keras.utils.set_random_seed(1)
    inp = keras.Input(x.shape[1:], dtype=x.dtype)
    h = inp
    if mask_zero:
        h = layers.Embedding(50, 8, mask_zero=True)(h)
    out = make(h)
    outs = out if isinstance(out, (list, tuple)) else [out]
    ref = keras.Model(inp, outs)
    fast = keras.Model.from_config(ref.get_config())
    fast.set_weights(ref.get_weights())
    accelerate(fast)
    assert any(uses_kernel(l) for l in fast._flatten_layers()), "no kernel attached"
    a = ref(x); b = fast(x)
    f = max(float(jnp.max(jnp.abs(p - q))) for p, q in zip(jax.tree.leaves(a), jax.tree.leaves(b)))
    def loss(m, tv, x):
        o, _ = m.stateless_call(tv, [v.value for v in m.non_trainable_variables], x)
        return sum(jnp.sum(jnp.sin(t) * (i + 1)) for i, t in enumerate(jax.tree.leaves(o)))
    ga = jax.grad(lambda tv: loss(ref, tv, x))([v.value for v in ref.trainable_variables])
    gb = jax.grad(lambda tv: loss(fast, tv, x))([v.value for v in fast.trainable_variables])
    g = max(float(jnp.max(jnp.abs(p - q)) / (1 + jnp.max(jnp.abs(p)))) for p, q in zip(ga, gb))
    worst[0] = max(worst[0], f); worst[1] = max(worst[1], g)
    return f, g
ids = rng.integers(1, 50, size=(9, 13)); ids[:4, :5] = 0; ids[5, 9:] = 0; ids[6, :] = 0; ids[7, 3:6] = 0
xf = rng.normal(size=(9, 13, 7)).astype("float32")
cases = {}
for cname, mk in {"lstm": lambda n, **k: layers.LSTM(n, **k), "gru": lambda n, **k: layers.GRU(n, **k),
                  "gru-before": lambda n, **k: layers.GRU(n, reset_after=False, **k), "simple": lambda n, **k: layers.SimpleRNN(n, **k)}.items():
    cases.update({
      f"{cname} last": (lambda h, mk=mk: mk(16)(h), xf, False),
      f"{cname} seq+state": (lambda h, mk=mk: mk(16, return_sequences=True, return_state=True)(h), xf, False),
      f"{cname} backwards": (lambda h, mk=mk: mk(16, go_backwards=True, return_sequences=True)(h), xf, False),
      f"{cname} odd units": (lambda h, mk=mk: mk(13, return_state=True)(h), xf, False),
      f"{cname} no bias": (lambda h, mk=mk: mk(8, use_bias=False, return_sequences=True)(h), xf, False),
      f"{cname} masked": (lambda h, mk=mk: mk(16, return_sequences=True, return_state=True)(h), ids, True),
      f"{cname} masked backwards": (lambda h, mk=mk: mk(16, go_backwards=True, return_state=True)(h), ids, True),
      f"{cname} masked zero-output": (lambda h, mk=mk: mk(16, return_sequences=True, zero_output_for_mask=True)(h), ids, True),
      f"{cname} bi masked seq": (lambda h, mk=mk: layers.Bidirectional(mk(16, return_sequences=True))(h), ids, True),
      f"{cname} bi masked last": (lambda h, mk=mk: layers.Bidirectional(mk(16), merge_mode="ave")(h), ids, True),
      f"{cname} stacked masked": (lambda h, mk=mk: mk(8)(mk(16, return_sequences=True)(h)), ids, True),
      f"{cname} wide": (lambda h, mk=mk: mk(40, return_sequences=True)(h), xf, False),
    })
for name, (make, x, mz) in cases.items():
    f, g = compare(make, x, mz)
    print(f"{name:28s} forward {f:.1e} grad {g:.1e}")
print(f"{len(cases)} cases; largest forward difference {worst[0]:.1e}, largest relative gradient difference {worst[1]:.1e}")
