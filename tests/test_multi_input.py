"""Several inputs merged before the head, encoders started from another's state, and masking."""

import keras
import numpy as np
import pytest

from rnnlab.errors import InvalidInputError
from rnnlab.models import ModelSpec
from rnnlab.models.inputs import EncoderSpec

TWO = ModelSpec(name="title-body", vocab_size=50, embedding_dim=4, units=6, mask_zero=True,
                inputs=[EncoderSpec("title", maxlen=4), EncoderSpec("body", maxlen=10, units=[8, 6])])
SEEDED = TWO.replace(inputs=[EncoderSpec("title", maxlen=4), EncoderSpec("body", maxlen=10, initial_state_from="title")])


def _ids(rows, steps, seed):
    return np.random.default_rng(seed).integers(1, 50, size=(rows, steps)).astype("int32")


def _same_weights(source, target):
    for layer in target.layers:
        if layer.weights:
            layer.set_weights(source.get_layer(layer.name).get_weights())


def test_two_inputs_build_with_their_own_encoders_and_round_trip():
    assert ModelSpec.from_json(TWO.to_json()) == TWO
    model = TWO.build()
    assert [t.name for t in model.inputs] == ["title", "body"]
    assert model.get_layer("title_embedding").output.shape == (None, 4, 4)
    assert model.get_layer("body_lstm_2").output.shape == (None, 6)
    assert model.get_layer("merge").output.shape == (None, 12)
    lstm = lambda n, m: 4 * (n * n + n * m + n)  # noqa: E731
    assert model.count_params() == 2 * 50 * 4 + lstm(6, 4) + lstm(8, 4) + lstm(6, 8) + 12 + 1
    out = model.predict({"title": _ids(3, 4, 0), "body": _ids(3, 10, 1)}, verbose=0)
    assert out.shape == (3, 1)
    summed = TWO.replace(input_merge="average", inputs=[EncoderSpec("title", maxlen=4), EncoderSpec("body")])
    assert summed.build().get_layer("merge").output.shape == (None, 6)


def test_bad_encoder_specs_name_the_problem():
    with pytest.raises(InvalidInputError, match="widths must be equal"):
        TWO.replace(input_merge="sum", inputs=[EncoderSpec("title"), EncoderSpec("body", units=8)])
    with pytest.raises(InvalidInputError, match="not one of the inputs"):
        TWO.replace(inputs=[EncoderSpec("body", initial_state_from="title")])
    with pytest.raises(InvalidInputError, match="cell and width"):
        TWO.replace(inputs=[EncoderSpec("title", units=5), EncoderSpec("body", initial_state_from="title")])
    with pytest.raises(InvalidInputError, match="cycle"):
        TWO.replace(inputs=[EncoderSpec("a", initial_state_from="b"), EncoderSpec("b", initial_state_from="a")])
    with pytest.raises(InvalidInputError, match="unique"):
        TWO.replace(inputs=[EncoderSpec("a"), EncoderSpec("a")])
    with pytest.raises(InvalidInputError, match="Unknown EncoderSpec field"):
        ModelSpec.from_dict({"inputs": [{"name": "a", "width": 3}]})


@pytest.mark.smoke
def test_return_state_initialises_the_body_encoder():
    keras.utils.set_random_seed(0)
    model = SEEDED.build()
    assert ModelSpec.from_json(SEEDED.to_json()) == SEEDED
    title_lstm = model.get_layer("title_lstm_1")
    assert title_lstm.return_state
    output, h, c = title_lstm.output
    assert tuple(output.shape) == tuple(h.shape) == tuple(c.shape) == (None, 6)

    zero_start = TWO.replace(inputs=[EncoderSpec("title", maxlen=4), EncoderSpec("body", maxlen=10)]).build()
    assert zero_start.count_params() == model.count_params()  # an initial state adds no weights
    _same_weights(model, zero_start)
    x = {"title": _ids(4, 4, 0), "body": _ids(4, 10, 1)}
    assert np.abs(model.predict(x, verbose=0) - zero_start.predict(x, verbose=0)).max() > 1e-4

    # The body encoder's own output now depends on the title; without the state it does not.
    body = keras.Model(model.inputs, model.get_layer("body_lstm_1").output)
    body_alone = keras.Model(zero_start.inputs, zero_start.get_layer("body_lstm_1").output)
    other_title = {"title": _ids(4, 4, 7), "body": x["body"]}
    assert np.abs(body.predict(x, verbose=0) - body.predict(other_title, verbose=0)).max() > 1e-4
    np.testing.assert_allclose(body_alone.predict(x, verbose=0), body_alone.predict(other_title, verbose=0))


def _reviews(amazon_file, n=6, maxlen=120):
    from rnnlab.data import load_amazon
    from rnnlab.text import Preprocessor

    texts = load_amazon(amazon_file).texts[:n]
    prep = Preprocessor(vocab_size=200, maxlen=maxlen).fit(texts)
    ids = prep.vocabulary.encode(prep.tokenizer.tokenize_many(texts))
    return [np.asarray(i[:maxlen], dtype="int32") for i in ids], prep


@pytest.mark.smoke
def test_mask_zero_makes_padding_invisible(amazon_file):
    """mask_zero + post-padding == each review fed alone == mask_zero + pre-padding, same weights."""
    from rnnlab.text import pad

    sequences, _ = _reviews(amazon_file, maxlen=120)
    spec = ModelSpec(vocab_size=200, embedding_dim=8, units=[8, 6], maxlen=120, mask_zero=True)
    keras.utils.set_random_seed(0)
    masked = spec.build()
    unmasked_free = spec.replace(mask_zero=False, maxlen=None).build()
    unmasked_free.set_weights(masked.get_weights())
    post = masked.predict(pad([s.tolist() for s in sequences], 120, padding="post"), verbose=0)
    pre = masked.predict(pad([s.tolist() for s in sequences], 120, padding="pre"), verbose=0)
    alone = np.concatenate([unmasked_free.predict(s[None], verbose=0) for s in sequences])
    np.testing.assert_allclose(post, alone, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(pre, alone, rtol=1e-5, atol=1e-6)
    assert sum(len(s) < 120 for s in sequences) >= 3  # rows really are padded


@pytest.mark.smoke
def test_unmasked_pre_padding_matches_only_when_padding_cannot_move_the_state(amazon_file):
    """Without a mask the padding steps are read. From a zero state they keep it at zero only if
    the padding embedding is zero and the candidate bias is zero (a fresh LSTM's is)."""
    from rnnlab.text import pad

    sequences, _ = _reviews(amazon_file, maxlen=120)
    # Short texts (review openings): a fresh LSTM forgets fast, so the padding's trace must not
    # sit behind a hundred real tokens for the difference to show.
    sequences = [s[:8] for s in sequences]
    spec = ModelSpec(vocab_size=200, embedding_dim=8, units=6, maxlen=120, mask_zero=True)
    keras.utils.set_random_seed(1)
    masked = spec.build()
    unmasked = spec.replace(mask_zero=False).build()
    unmasked.set_weights(masked.get_weights())
    post_masked = masked.predict(pad([s.tolist() for s in sequences], 120, padding="post"), verbose=0)
    pre_ids = pad([s.tolist() for s in sequences], 120, padding="pre")
    embedding = unmasked.get_layer("embedding")
    table = embedding.get_weights()[0]
    table[0] = np.random.default_rng(0).normal(0.0, 0.5, size=table.shape[1])  # as a trained row would be
    embedding.set_weights([table])
    assert np.abs(unmasked.predict(pre_ids, verbose=0) - post_masked).max() > 1e-3
    table[0] = 0.0
    embedding.set_weights([table])
    np.testing.assert_allclose(unmasked.predict(pre_ids, verbose=0), post_masked, rtol=1e-5, atol=1e-6)


def test_amazon_title_and_body_train_as_two_inputs(amazon_file, tmp_path):
    from rnnlab.training.engine import prepare_for, resolve
    from rnnlab.training.engine import config_from_recipe, fit

    spec = SEEDED.replace(vocab_size=2000, embedding_dim=8, units=8,
                          inputs=[EncoderSpec("title", maxlen=12), EncoderSpec("body", maxlen=60,
                                                                               initial_state_from="title")])
    spec, recipe = resolve(spec, dataset="amazon", epochs=1, batch_size=64)
    data = prepare_for(spec, recipe, seed=0)
    assert set(data.x_train) == {"title", "body"}
    assert data.x_train["title"].shape == (640, 12) and data.x_test["body"].shape == (200, 60)
    assert data.info["inputs"] == {"title": 12, "body": 60}
    result = fit(spec, data, config_from_recipe(recipe), recipe=recipe, verbose=0)
    assert result.test["examples"] == 200
    path = result.save(tmp_path / "bundle")
    reloaded = keras.saving.load_model(path / "model.keras", compile=False, safe_mode=True)
    np.testing.assert_allclose(reloaded.predict(data.x_test, verbose=0), result.model.predict(data.x_test, verbose=0),
                               rtol=1e-5, atol=1e-6)
