"""Stateful models: the state really is carried across chunks, matches a whole-sequence pass, and resets."""

import json

import keras
import numpy as np
import pytest

from rnnlab.errors import InvalidInputError
from rnnlab.training.calibration import scale
from rnnlab.training.metrics import probabilities
from rnnlab.models import ModelSpec
from rnnlab.training.stateful import (ChunkPlan, carried_states, fit_stateful, predict_stateful, reset_states, state_values,
                             stateless_twin)

SPEC = ModelSpec(name="tiny-stateful", vocab_size=30, embedding_dim=4, units=[6, 5], maxlen=15, mask_zero=True,
                 stateful=True, batch_size=3, chunk_length=5, num_classes=3)


def _tokens(rows=3, steps=15, seed=0):
    return np.random.default_rng(seed).integers(1, 30, size=(rows, steps)).astype("int32")


def _model(spec=SPEC, seed=0):
    keras.utils.set_random_seed(seed)
    return spec.build()


@pytest.mark.smoke
def test_state_after_first_chunk_is_nonzero_and_feeds_the_second():
    model = _model()
    x = _tokens()
    with carried_states(model):
        reset_states(model)
        assert all(np.all(s == 0) for s in state_values(model))
        model.predict_on_batch(x[:, :5])
        after_first = state_values(model)
        assert len(after_first) == 4  # (h, c) of each of the two LSTM layers
        assert all(np.abs(s).max() > 1e-4 for s in after_first)
        carried = np.asarray(model.predict_on_batch(x[:, 5:10]))
        reset_states(model)
        fresh = np.asarray(model.predict_on_batch(x[:, 5:10]))
    # The same chunk read from a zero state gives another answer: the first chunk's state was used.
    assert np.abs(carried - fresh).max() > 1e-4


@pytest.mark.smoke
def test_chunked_stateful_pass_equals_whole_sequence_pass():
    model = _model()
    twin = stateless_twin(SPEC).build()
    twin.set_weights(model.get_weights())
    x = _tokens(rows=7)
    x[1, :6] = 0   # pre-padded rows of other lengths, one shorter than a chunk
    x[4, :12] = 0
    chunked = predict_stateful(model, x)
    whole = np.asarray(twin.predict(x, verbose=0))
    np.testing.assert_allclose(chunked, whole, rtol=1e-5, atol=1e-6)
    # Reading only the last chunk would be something else: the earlier chunks matter.
    twin5 = stateless_twin(SPEC, maxlen=5).build()
    twin5.set_weights(model.get_weights())
    last_only = np.asarray(twin5.predict(x[:, -5:], verbose=0))
    assert np.abs(last_only - whole)[[0, 2, 3, 5, 6]].max() > 1e-4


@pytest.mark.smoke
def test_reset_really_zeroes_the_state():
    model = _model()
    x = _tokens()
    with carried_states(model):
        reset_states(model)
        first = np.asarray(model.predict_on_batch(x[:, :5]))
        model.predict_on_batch(x[:, 5:10])
        assert any(np.abs(s).max() > 0 for s in state_values(model))
        reset_states(model)
        assert all(np.all(s == 0) for s in state_values(model))
        again = np.asarray(model.predict_on_batch(x[:, :5]))
    np.testing.assert_allclose(again, first, rtol=1e-6, atol=1e-7)
    # Prediction leaves no state behind, so predicting twice gives the same outputs.
    np.testing.assert_allclose(predict_stateful(model, _tokens(5)), predict_stateful(model, _tokens(5)))


@pytest.mark.smoke
def test_training_walks_chunks_and_learns_from_an_early_chunk():
    """The answer sits in the first chunk; only a state carried to the last chunk can find it."""
    spec = SPEC.replace(units=8, maxlen=10, optimizer="adam", learning_rate=0.03, num_classes=2, batch_size=32)
    model = _model(spec)
    rng = np.random.default_rng(1)
    x = rng.integers(3, 30, size=(64, 10)).astype("int32")
    y = rng.integers(0, 2, size=64)
    x[:, 0] = 1 + y  # token 1 or 2 at the very start, noise after it
    history = fit_stateful(model, x, y, epochs=10, validation=(x, y), verbose=0, seed=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history.history["val_accuracy"][-1] > 0.9, history.history


def test_chunk_plan_blocks_and_padding():
    x = np.zeros((5, 12), dtype="int32")
    x[0, -3:] = 1            # 3 tokens: last chunk only
    x[1, -9:] = 1            # 9 tokens: the last two chunks of 5 (12 is left-padded to 15)
    x[3, 2:4] = 1            # post-padded row
    plan = ChunkPlan(x, chunk_length=5)
    assert plan.x.shape == (5, 15) and plan.n_chunks == 3
    assert plan.has_real[0].tolist() == [False, False, True]
    assert plan.has_real[1].tolist() == [False, True, True]
    assert (plan.first[3], plan.last[3]) == (1, 1)
    assert plan.last[2] == 2  # an empty row is read as one chunk of padding
    blocks = plan.blocks(2)
    assert sorted(np.concatenate(blocks).tolist()) == [0, 1, 2, 3, 4]
    steps = [(j, chunk.shape, real.tolist()) for j, chunk, real in plan.walk(np.array([0, 1]), 3)]
    assert steps == [(1, (3, 5), [False, True, False]), (2, (3, 5), [True, True, False])]


def test_stateful_spec_round_trips_and_validates():
    assert ModelSpec.from_json(SPEC.to_json()) == SPEC
    assert json.loads(SPEC.to_json())["chunk_length"] == 5
    model = SPEC.build()
    assert model.input_shape == (3, 5)
    assert model.count_params() == stateless_twin(SPEC).build().count_params()
    with pytest.raises(InvalidInputError, match="chunk_length"):
        ModelSpec(stateful=True)
    with pytest.raises(InvalidInputError, match="bidirectional"):
        ModelSpec(stateful=True, chunk_length=10, bidirectional=True)
    with pytest.raises(InvalidInputError, match="stateful=true"):
        ModelSpec(chunk_length=10)
    with pytest.raises(InvalidInputError, match="batch size"):
        ModelSpec(stateful=True, chunk_length=10).build()


def test_train_reads_real_reviews_in_chunks_and_bundle_predicts(tmp_path, imdb_archive):
    from rnnlab.inference.bundle import Bundle
    from rnnlab.training.engine import resolve, train

    spec, recipe = resolve("lstm", maxlen=120, chunk_length=40, batch_size=32, vocab_size=2000)
    assert spec.stateful and spec.batch_size == 32 and recipe.batch_size == 32
    result = train(spec.replace(units=8, spatial_dropout=0.0, output_dropout=0.0, mask_zero=True), limit=300,
                   epochs=1, verbose=0, out=tmp_path / "stateful")
    assert result.test["examples"] == 300
    assert set(result.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    loaded = Bundle.load(tmp_path / "stateful")
    texts = ["A wonderful film. " * 30, "Dull and far too long."]
    # The reloaded model walks the same chunks as the trained one.
    direct = scale(probabilities(result.model, result.preprocessor.transform(texts)), result.temperature)
    np.testing.assert_allclose(loaded.predict_proba(texts), direct, rtol=1e-5, atol=1e-6)


@pytest.mark.smoke
def test_numeric_sequences_walk_in_chunks_too():
    spec = ModelSpec(features=2, maxlen=12, mask_value=0.0, units=5, stateful=True, batch_size=2, chunk_length=4)
    model = _model(spec)
    twin = stateless_twin(spec).build()
    twin.set_weights(model.get_weights())
    x = np.random.default_rng(3).normal(size=(3, 12, 2)).astype("float32")
    x[0, :7] = 0.0  # pre-padded with the mask value
    np.testing.assert_allclose(predict_stateful(model, x), twin.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
