"""Named models reproduce the tutorials' parameter counts; specs round-trip and build."""

import json

import numpy as np
import pytest

from rnnlab.errors import InvalidInputError, UnknownNameError
from rnnlab.models import DenseSpec, ModelSpec, get, names
from rnnlab.models.weights import recurrent_weights

# Published parameter counts (total, recurrent layer) from the tutorials.
EXPECTED = {
    "rnn": 258_113,
    "lstm": 264_353,
    "gru": 262_273,
    "bilstm": 272_705,
    "stacked-lstm": 272_673,
    "amazon-stacked-lstm": 381_025,
    "cell-loop-rnn": 1_018_881,
    "stacked-simplernn": 1_018_881,
    "SS_RSF_LSTM": 427_137,
    "MS_RSF_biGRU": 485_505,
}
RECURRENT = {"rnn": 2_080, "lstm": 8_320, "gru": 6_240, "bilstm": 16_640}


@pytest.mark.smoke
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_named_model_parameter_counts(name):
    model = get(name).spec.build(compile=False)
    assert model.count_params() == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(RECURRENT))
def test_recurrent_layer_counts_match_formulas(name):
    rows = recurrent_weights(get(name).spec.build(compile=False))
    assert all(r.ok for r in rows)
    assert sum(r.params for r in rows) == RECURRENT[name]


def test_all_twelve_arrangements_exist_and_pair_up():
    arrangements = [n for n in names() if n.startswith(("SS_", "MS_"))]
    assert len(arrangements) == 12
    for name in arrangements:
        if "_RSF_" in name:
            twin = name.replace("_RSF_", "_RST_")
            # Output type changes nothing in the parameter count: pooling has no weights.
            assert get(name).spec.build(compile=False).count_params() == get(twin).spec.build(
                compile=False).count_params()


def test_gru_reset_after_changes_bias_shape():
    keras_default = recurrent_weights(get("MS_RSF_biGRU").spec.build(compile=False))[0]
    textbook = recurrent_weights(get("gru").spec.build(compile=False))[0]
    assert keras_default.bias == (2, 384) and keras_default.formula == "3(n²+nm+2n)"
    assert textbook.bias == (96,) and textbook.formula == "3(n²+nm+n)"


def test_spec_json_round_trip_builds_same_model(tmp_path):
    spec = ModelSpec(cell="gru", units=[16, 8], bidirectional=True, merge_mode="sum", pooling="max",
                     head=[DenseSpec(8, "tanh", 0.1)], num_classes=3, rnn_options={"reset_after": False})
    path = tmp_path / "spec.json"
    path.write_text(spec.to_json())
    loaded = ModelSpec.load(path)
    assert loaded == spec
    model = loaded.build()
    assert model.output_shape == (None, 3)
    assert model.count_params() == spec.build().count_params()


def test_embedding_matrix_is_used(tmp_path):
    matrix = np.random.default_rng(0).normal(size=(50, 4)).astype("float32")
    np.save(tmp_path / "emb.npy", matrix)
    spec = ModelSpec(vocab_size=50, embedding_dim=4, maxlen=10, units=4, embedding_matrix=str(tmp_path / "emb.npy"),
                     embedding_trainable=False)
    model = spec.build()
    np.testing.assert_allclose(model.get_layer("embedding").get_weights()[0], matrix)
    assert not model.get_layer("embedding").trainable
    with pytest.raises(InvalidInputError, match="shape"):
        spec.replace(vocab_size=60).build()


def test_bad_specs_name_the_field():
    with pytest.raises(UnknownNameError, match="Did you mean 'lstm'"):
        ModelSpec(cell="lstn")
    with pytest.raises(InvalidInputError, match="dropout"):
        ModelSpec(dropout=1.5)
    with pytest.raises(InvalidInputError, match="Unknown ModelSpec field"):
        ModelSpec.from_dict({"cells": "lstm"})
    with pytest.raises(InvalidInputError, match="not valid JSON"):
        ModelSpec.from_json("{cell: lstm")


def test_unknown_model_name_suggests_close_match():
    with pytest.raises(UnknownNameError) as info:
        get("bilstn")
    assert "Did you mean 'bilstm'" in str(info.value)


@pytest.mark.smoke
def test_cell_loop_model_learns_and_matches_spec():
    """The hand-written loop trains under jit (dropout masks must not leak between traces)."""
    spec = get("cell-loop-rnn").spec.replace(vocab_size=30, maxlen=12, embedding_dim=8, units=8, learning_rate=0.01)
    model = spec.build()
    rng = np.random.default_rng(0)
    x = rng.integers(1, 30, size=(256, 12))
    y = (x[:, -1] > 15).astype("float32")  # the answer sits in the last step
    model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    _, accuracy = model.evaluate(x, y, verbose=0)
    assert accuracy > 0.8
    assert json.loads(json.dumps(model.get_config()))["units"] == 8
