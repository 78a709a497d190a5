"""Pooling over recurrent states: masked max, concat(max, mean, last) and additive attention."""

import numpy as np
import pytest
from fastapi.testclient import TestClient

from rnnlab.models import ModelSpec
from rnnlab.models.layers import AttentionPooling

ROWS = np.array([[0, 0, 0, 5, 6, 7], [0, 0, 0, 0, 8, 9], [3, 4, 5, 6, 7, 8]])


def _spec(pooling, **changes):
    base = dict(vocab_size=50, maxlen=None, embedding_dim=8, mask_zero=True, cell="gru", units=4,
                bidirectional=True, pooling=pooling)
    return ModelSpec(**{**base, **changes})


@pytest.mark.smoke
@pytest.mark.parametrize("pooling", ["max", "concat", "attention", "avg"])
def test_masked_pooling_ignores_padding(pooling):
    model = _spec(pooling).build()
    more_padding = np.concatenate([np.zeros((3, 5), dtype=ROWS.dtype), ROWS], axis=1)
    np.testing.assert_allclose(model.predict(ROWS, verbose=0), model.predict(more_padding, verbose=0), atol=1e-6)


def test_unmasked_max_pooling_sees_padding_steps():
    """Without a mask every step counts, as in Keras' GlobalMaxPooling1D: padding can change the output."""
    model = _spec("max", mask_zero=False).build()
    more_padding = np.concatenate([np.zeros((3, 40), dtype=ROWS.dtype), ROWS], axis=1)
    assert np.abs(model.predict(ROWS, verbose=0) - model.predict(more_padding, verbose=0)).max() > 1e-6


def test_pooling_widths_and_parameter_counts():
    # BiGRU(4) states are 8 wide; concat hands 3 x 8 = 24 to the output unit.
    max_model, concat_model = _spec("max").build(), _spec("concat").build()
    assert concat_model.get_layer("output").kernel.shape == (24, 1)
    assert concat_model.count_params() - max_model.count_params() == 16
    attention = _spec("attention").build().get_layer("attention")
    # W: 8 x 8, bias 8, scoring vector 8.
    assert attention.count_params() == 8 * 8 + 8 + 8


def test_attention_weights_sum_to_one_over_real_tokens():
    import keras

    model = _spec("attention").build()
    layer = model.get_layer("attention")
    probe = keras.Model(model.inputs, layer.output[1])
    weights = np.asarray(probe.predict(ROWS, verbose=0))
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-5)
    assert np.all(weights[ROWS == 0] < 1e-6)


def test_attention_layer_round_trips_its_config():
    layer = AttentionPooling(units=16, name="attention")
    assert AttentionPooling.from_config(layer.get_config()).units == 16


@pytest.fixture(scope="module")
def attention_bundle(tmp_path_factory, imdb_archive):
    from rnnlab.training.engine import train

    spec = ModelSpec(name="attention-gru", vocab_size=5000, maxlen=200, embedding_dim=32, mask_zero=True,
                     cell="gru", units=16, pooling="attention", optimizer="adam", learning_rate=3e-3)
    out = tmp_path_factory.mktemp("bundles") / "attention"
    result = train(spec, out=out, limit=3000, epochs=2, seed=0, verbose=0)
    return result, out


def test_attention_model_learns_and_explains_with_its_weights(attention_bundle):
    from rnnlab.inference.bundle import Bundle
    from rnnlab.serve import create_app

    result, out = attention_bundle
    assert result.test_accuracy > 0.7
    bundle = Bundle.load(out)
    text = ["A wonderful, moving film."]
    from rnnlab.training.calibration import scale

    positive = result.model.predict(bundle.preprocessor.encode(text).ids, verbose=0)[:, 0]
    # The model's probability, scaled by the temperature fitted on the validation rows.
    assert bundle.temperature == pytest.approx(result.temperature)
    expected = scale(np.stack([1 - positive, positive], axis=1), bundle.temperature)[:, 1]
    np.testing.assert_allclose(bundle.predict_proba(text)[:, 1], expected, atol=1e-5)
    client = TestClient(create_app(out, warm_up=False))
    body = client.post("/v1/explain", json={"text": "A wonderful film, but the ending was awful."}).json()
    assert body["method"] == "attention"
    scores = [t["score"] for t in body["tokens"]]
    assert len(scores) == 8 and abs(sum(scores) - 1.0) < 1e-4 and min(scores) >= 0
