"""The compiled recurrent kernels compute what Keras' layers compute.

Each case builds a model with Keras' layers, copies it, gives the copy the kernels and compares
outputs (1e-5) and gradients of every weight and input (1e-4, relative to the gradient's scale)
on the same weights: over cells (SimpleRNN, LSTM, GRU with either reset convention), masks,
directions, widths, biases and wrappers drawn by hypothesis. Then the things around them: a
bundle trained with the kernels predicts the same through Keras' layers, results do not depend
on the thread count, parameter counts are Keras' own, and a real model trained with the kernels
learns IMDB.
"""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from keras import layers

from rnnlab.errors import InvalidInputError
from rnnlab.models import kernels
from rnnlab.models.kernels import accelerate, uses_kernel

pytestmark = pytest.mark.skipif(not kernels.enabled(), reason="the recurrent kernels are not available here")

CELLS = {
    "simple": lambda units, **kw: layers.SimpleRNN(units, **kw),
    "lstm": lambda units, **kw: layers.LSTM(units, **kw),
    "gru": lambda units, **kw: layers.GRU(units, **kw),
    "gru-reset-before": lambda units, **kw: layers.GRU(units, reset_after=False, **kw),
}


def _pair(build, x, masked: bool):
    """The same model twice, Keras' loops and the kernels, with the same weights."""
    keras.utils.set_random_seed(3)
    inputs = keras.Input(x.shape[1:], dtype=x.dtype)
    h = layers.Embedding(40, 6, mask_zero=True)(inputs) if masked else inputs
    outputs = build(h)
    reference = keras.Model(inputs, outputs)
    fast = keras.Model.from_config(reference.get_config())
    fast.set_weights([w * 2.0 for w in reference.get_weights()])  # larger weights reach the gates' tails
    reference.set_weights(fast.get_weights())
    accelerate(fast)
    assert any(uses_kernel(layer) for layer in fast._flatten_layers())
    assert not any(uses_kernel(layer) for layer in reference._flatten_layers())
    return reference, fast


def _differences(reference, fast, x):
    def loss(model, weights, inputs):
        out, _ = model.stateless_call(weights, [v.value for v in model.non_trainable_variables], inputs)
        return sum(jnp.sum(jnp.sin(t) * (i + 1)) for i, t in enumerate(jax.tree.leaves(out)))

    forward = max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(jax.tree.leaves(reference(x)), jax.tree.leaves(fast(x))))
    weights = [v.value for v in reference.trainable_variables]
    wrt_inputs = not np.issubdtype(x.dtype, np.integer)
    argnums = (0, 1) if wrt_inputs else 0
    ga = jax.jit(jax.grad(lambda w, i: loss(reference, w, i), argnums=argnums))(weights, x)
    gb = jax.jit(jax.grad(lambda w, i: loss(fast, w, i), argnums=argnums))(weights, x)
    grads = max(float(jnp.max(jnp.abs(a - b)) / (1.0 + jnp.max(jnp.abs(a))))
                for a, b in zip(jax.tree.leaves(ga), jax.tree.leaves(gb)))
    return forward, grads


@pytest.mark.slow
@pytest.mark.timeout(600)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cell=st.sampled_from(sorted(CELLS)),
    batch=st.integers(1, 14),
    steps=st.integers(1, 9),
    units=st.integers(1, 20),
    features=st.integers(1, 18),
    masked=st.booleans(),
    backwards=st.booleans(),
    sequences=st.booleans(),
    bias=st.booleans(),
    wrapper=st.sampled_from(["none", "bidirectional", "stacked", "zero-output"]),
    seed=st.integers(0, 2**16),
)
def test_kernels_match_keras_layers(cell, batch, steps, units, features, masked, backwards, sequences, bias,
                                    wrapper, seed):
    rng = np.random.default_rng(seed)
    if masked:
        x = rng.integers(0, 40, size=(batch, steps)).astype("int32")
        x[rng.random((batch, steps)) < 0.3] = 0  # padding anywhere, whole rows of it included
    else:
        x = rng.normal(size=(batch, steps, features)).astype("float32")
    make = CELLS[cell]
    options = dict(go_backwards=backwards, return_sequences=sequences, use_bias=bias)

    def build(h):
        if wrapper == "bidirectional":  # its backward copy reverses; Keras refuses go_backwards inside
            return layers.Bidirectional(make(units, **{**options, "go_backwards": False}))(h)
        if wrapper == "stacked":
            return make(units, **{**options, "return_state": True})(make(units + 1, return_sequences=True)(h))
        if wrapper == "zero-output":
            return make(units, zero_output_for_mask=True, return_state=True, **options)(h)
        return make(units, return_state=True, **options)(h)

    forward, grads = _differences(*_pair(build, x, masked), x)
    assert forward < 1e-5
    assert grads < 1e-4


@pytest.mark.timeout(300)
@pytest.mark.parametrize("cell", sorted(CELLS))
def test_textbook_sizes_and_dropout_match(cell):
    """A textbook-sized batch (128 reviews x 200 steps, 32 units), input dropout and a stateful layer."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 200, 32)).astype("float32")
    forward, grads = _differences(*_pair(lambda h: CELLS[cell](32)(h), x, False), x)
    assert forward < 1e-5 and grads < 1e-4

    # Input dropout while training: the same mask in both (Keras draws it from the layer's seed).
    keras.utils.set_random_seed(5)
    reference = CELLS[cell](8, dropout=0.5, seed=11)
    keras.utils.set_random_seed(5)
    fast = CELLS[cell](8, dropout=0.5, seed=11)
    small = x[:4, :10, :6]
    reference.build(small.shape)
    fast.build(small.shape)
    fast.set_weights(reference.get_weights())
    holder = keras.Sequential([fast])
    accelerate(holder)
    assert uses_kernel(fast)
    np.testing.assert_allclose(reference(small, training=True), fast(small, training=True), atol=1e-5)

    # Stateful: states carried from one chunk to the next agree chunk after chunk.
    def stateful():
        keras.utils.set_random_seed(7)
        inputs = keras.Input(batch_shape=(4, 5, 6))
        return keras.Model(inputs, CELLS[cell](8, stateful=True, return_sequences=True)(inputs))

    reference, fast = stateful(), stateful()
    fast.set_weights(reference.get_weights())
    accelerate(fast)
    for chunk in (x[:4, :5, :6], x[:4, 5:10, :6], x[:4, 10:15, :6]):
        np.testing.assert_allclose(reference(chunk), fast(chunk), atol=1e-5)


@pytest.mark.timeout(120)
def test_results_do_not_depend_on_the_thread_count(monkeypatch):
    from rnnlab.models.kernels.ops import lstm

    rng = np.random.default_rng(1)
    args = [rng.normal(size=s).astype("float32") for s in ((37, 11, 5), (37, 11), (5, 16), (4, 16), (16,), (37, 4), (37, 4))]
    args[1] = (args[1] > -0.5).astype("float32")

    def grads(threads):
        return jax.grad(lambda *a: jnp.sum(jnp.sin(lstm(*a, False, threads)[0])), argnums=(0, 2, 3, 4, 5, 6))(*args)

    for a, b in zip(grads(1), grads(3)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.timeout(60)
def test_unknown_kernel_choice_is_one_line(monkeypatch):
    monkeypatch.setenv(kernels.KERNEL_ENV, "fastest")
    with pytest.raises(InvalidInputError, match="RNNLAB_RECURRENT_KERNEL='fastest' is not one of auto, keras"):
        kernels.choice()
    monkeypatch.setenv(kernels.KERNEL_ENV, "keras")
    model = keras.Sequential([keras.Input((3, 2)), layers.LSTM(4)])
    assert not uses_kernel(accelerate(model).layers[0])


@pytest.mark.timeout(900)
def test_trained_with_kernels_predicts_the_same_through_keras_layers(imdb_archive, tmp_path, monkeypatch):
    """The textbook GRU (reset_after=False) trained on IMDB with the kernels: it learns, and its bundle
    predicts the same with Keras' own layers (`RNNLAB_RECURRENT_KERNEL=keras`)."""
    from rnnlab.inference.bundle import Bundle
    from rnnlab.training.engine import train

    out = tmp_path / "gru"
    result = train("gru", out=out, limit=5000, epochs=4, seed=1, verbose=0)
    assert any(uses_kernel(layer) for layer in result.model._flatten_layers())
    assert result.test_accuracy > 0.62  # 0.72 measured (the same as with Keras' layers)
    texts = ["A wonderful, moving film.", "Dull and far too long; I left early.", "It was fine."]
    loaded = Bundle.load(out)
    assert any(uses_kernel(layer) for layer in loaded.model._flatten_layers())
    with_kernels = loaded.predict(texts)
    monkeypatch.setenv(kernels.KERNEL_ENV, "keras")
    loaded = Bundle.load(out)
    assert not any(uses_kernel(layer) for layer in loaded.model._flatten_layers())
    through_keras = loaded.predict(texts)
    for a, b in zip(with_kernels, through_keras):
        assert abs(a.probability - b.probability) < 1e-5


def test_kernel_threads_follow_the_environment(monkeypatch):
    monkeypatch.setenv(kernels.THREADS_ENV, "3")
    assert kernels.threads() == 3
    monkeypatch.delenv(kernels.THREADS_ENV)
    monkeypatch.setenv("RNNLAB_WORKER_THREADS", "1")
    assert kernels.threads() == 1
    monkeypatch.delenv("RNNLAB_WORKER_THREADS")
    assert kernels.threads() == len(os.sched_getaffinity(0))


@pytest.mark.timeout(300)
def test_trained_with_keras_layers_predicts_the_same_with_kernels(amazon_file, tmp_path, monkeypatch):
    """The reverse: a bidirectional LSTM bundle trained on Keras' layers, loaded with the kernels."""
    from rnnlab.inference.bundle import Bundle
    from rnnlab.training.engine import train

    monkeypatch.setenv(kernels.KERNEL_ENV, "keras")
    out = tmp_path / "bilstm"
    train("bilstm", dataset=str(amazon_file), limit=300, epochs=1, vocab_size=2000, maxlen=64, out=out, verbose=0)
    texts = ["Broke after two days.", "Exactly what I wanted, works great.", "ok"]
    through_keras = Bundle.load(out).predict(texts)
    monkeypatch.delenv(kernels.KERNEL_ENV)
    loaded = Bundle.load(out)
    assert any(uses_kernel(layer) for layer in loaded.model._flatten_layers())
    for a, b in zip(through_keras, loaded.predict(texts)):
        assert abs(a.probability - b.probability) < 1e-5


NO_COMPILER = """
import logging, sys
logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(message)s")
import rnnlab
import keras
import numpy as np
from rnnlab.models import kernels
from rnnlab.models.kernels import accelerate, uses_kernel
model = accelerate(keras.Sequential([keras.Input((5, 3)), keras.layers.GRU(4)]))
print("KERNEL", uses_kernel(model.layers[0]), model(np.ones((2, 5, 3), "float32")).shape)
"""


@pytest.mark.timeout(120)
def test_without_a_compiler_keras_layers_run_and_it_is_said_once(tmp_path):
    import subprocess
    import sys

    env = {**os.environ, "CXX": str(tmp_path / "no-such-compiler"), "RNNLAB_KERNEL_DIR": str(tmp_path / "kernels")}
    done = subprocess.run([sys.executable, "-c", NO_COMPILER], capture_output=True, text=True, env=env, timeout=110)
    assert done.returncode == 0, done.stderr
    assert "KERNEL False (2, 4)" in done.stdout
    said = [line for line in done.stderr.splitlines() if "recurrent kernels are not available" in line]
    assert len(said) == 1 and "no-such-compiler" in said[0], done.stderr


def test_kernel_folder_follows_the_environment(tmp_path, monkeypatch):
    from rnnlab.models.kernels.build import library_path

    monkeypatch.setenv("RNNLAB_KERNEL_DIR", str(tmp_path))
    assert library_path().parent == tmp_path
