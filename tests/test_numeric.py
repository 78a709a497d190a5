"""Numeric sequences: array and CSV loaders, scaling and padding, masking, the digits task."""

import json

import keras
import numpy as np
import pytest

from rnnlab.data import SequenceDataset, load_sequences
from rnnlab.data.numeric import load_arrays, load_digits_sequences, load_sequence_csv
from rnnlab.errors import DataFormatError, DataNotFoundError, InvalidInputError
from rnnlab.models import ModelSpec
from rnnlab.encoding.sequences import SequencePreprocessor, prepare_sequences

CSV = """sequence_id,t,x,y,label
a,1,0.2,0.1,left
a,0,0.1,0.3,left
b,0,0.9,0.4,right
a,2,0.3,0.0,left
c,0,0.5,0.5,left
c,1,0.6,0.4,left
"""


def test_digits_are_rows_of_pixels():
    digits = load_sequences("digits")
    assert len(digits) == 1797 and digits.features == 8 and digits.num_classes == 10
    assert digits.sequences[0].shape == (8, 8)
    from sklearn.datasets import load_digits

    np.testing.assert_array_equal(digits.sequences[5], load_digits().images[5])


def test_csv_groups_rows_by_sequence_and_orders_by_time(tmp_path):
    path = tmp_path / "walks.csv"
    path.write_text(CSV)
    ds = load_sequence_csv(path, time_column="t")
    assert ds.lengths.tolist() == [3, 1, 2]
    assert ds.class_names == ("left", "right") and ds.labels.tolist() == [0, 1, 0]
    np.testing.assert_allclose(ds.sequences[0], [[0.1, 0.3], [0.2, 0.1], [0.3, 0.0]])
    in_file_order = load_sequences(path)  # no time column: rows as written, t is a feature
    assert in_file_order.features == 3
    path.write_text(CSV.replace("a,2,0.3,0.0,left", "a,2,0.3,0.0,right"))
    with pytest.raises(DataFormatError, match="one label"):
        load_sequence_csv(path, time_column="t")
    path.write_text(CSV.replace("0.9", "n/a"))
    with pytest.raises(DataFormatError, match="line 4.*'x'"):
        load_sequence_csv(path, time_column="t")


def test_npz_and_npy_arrays(tmp_path):
    x = np.arange(24, dtype="float32").reshape(3, 4, 2)
    y = np.array([0, 1, 1])
    np.savez(tmp_path / "walks.npz", x=x, y=y, lengths=np.array([4, 2, 3]))
    ds = load_arrays(tmp_path / "walks.npz")
    assert ds.lengths.tolist() == [4, 2, 3] and ds.labels.tolist() == [0, 1, 1]
    np.save(tmp_path / "train_x.npy", x)
    with pytest.raises(DataNotFoundError, match="train_y.npy"):
        load_arrays(tmp_path / "train_x.npy")
    np.save(tmp_path / "train_y.npy", y)
    assert load_sequences(tmp_path / "train_x.npy").features == 2
    np.save(tmp_path / "objects.npy", np.array([np.zeros(2), np.zeros(3)], dtype=object))
    with pytest.raises(DataFormatError, match="pickle"):
        load_arrays(tmp_path / "objects.npy", labels=tmp_path / "train_y.npy")


def test_preprocessor_standardises_pads_and_round_trips():
    seqs = [np.array([[1.0, 10.0], [3.0, 30.0]]), np.array([[5.0, 50.0]])]
    prep = SequencePreprocessor(maxlen=3, padding="post", mask_value=-9.0).fit(seqs)
    out = prep.transform(seqs)
    assert out.shape == (2, 3, 2) and out.dtype == np.float32
    np.testing.assert_allclose(out[0, :2].mean(axis=0) * 2 + out[1, 0], 0.0, atol=1e-6)
    assert np.all(out[0, 2] == -9.0) and np.all(out[1, 1:] == -9.0)
    again = SequencePreprocessor.from_json(json.loads(json.dumps(prep.to_json())))
    np.testing.assert_array_equal(again.transform(seqs), out)
    with pytest.raises(InvalidInputError, match="padding"):
        SequencePreprocessor(padding="middle").fit(seqs)


@pytest.mark.smoke
def test_masking_makes_padded_steps_invisible():
    """Post-padded sequences under Masking give the same output as each sequence fed alone."""
    spec = ModelSpec(features=3, maxlen=6, mask_value=0.0, units=[5, 4], num_classes=3)
    keras.utils.set_random_seed(0)
    model = spec.build()
    free = spec.replace(maxlen=None).build()
    free.set_weights(model.get_weights())
    rng = np.random.default_rng(0)
    seqs = [rng.normal(size=(n, 3)).astype("float32") for n in (6, 2, 4)]
    padded = np.zeros((3, 6, 3), dtype="float32")
    for i, s in enumerate(seqs):
        padded[i, : len(s)] = s
    batched = np.asarray(model.predict(padded, verbose=0))
    for i, s in enumerate(seqs):
        np.testing.assert_allclose(batched[i], np.asarray(free.predict(s[None], verbose=0))[0], rtol=1e-5, atol=1e-6)
    assert model.get_layer("masking").mask_value == 0.0


def test_numeric_spec_round_trips_and_counts_like_the_notes():
    spec = ModelSpec(name="digits", features=8, maxlen=8, units=32, depth=3, num_classes=10, mask_value=0.0)
    assert ModelSpec.from_json(spec.to_json()) == spec
    # LSTM(32) on 8 features, two LSTM(32) on 32, Dense(10): 5,248 + 2 x 8,320 + 330.
    assert spec.build(compile=False).count_params() == 22_218
    with pytest.raises(InvalidInputError, match="mask_value"):
        ModelSpec(mask_value=0.0)
    with pytest.raises(InvalidInputError, match="embedding"):
        ModelSpec(features=3, mask_zero=True)


def test_stacked_lstm_learns_digits_rows():
    from rnnlab.encoding.split import split_holdout
    from rnnlab.training.engine import config_from_recipe, fit, resolve

    train, test = split_holdout(load_digits_sequences(), 0.2, seed=0)
    data = prepare_sequences(train.sample(600, seed=0), test, validation_split=0.1)
    assert data.x_train.shape[1:] == (8, 8) and data.info["features"] == 8
    spec, recipe = resolve(ModelSpec(name="digits", features=8, maxlen=8, units=32, depth=3, num_classes=10,
                                     optimizer="adam", learning_rate=0.01), epochs=12, batch_size=32)
    result = fit(spec, data, config_from_recipe(recipe), recipe=recipe, verbose=0)
    assert result.test["examples"] == 360
    assert result.test_accuracy > 0.6, result.test  # chance is 0.1


def test_train_picks_the_numeric_path_from_the_dataset(tmp_path):
    from rnnlab.training.engine import train

    path = tmp_path / "walks.csv"
    rows = ["sequence_id,x,y,label"]
    rng = np.random.default_rng(0)
    for i in range(40):
        label = i % 2
        for t in range(2 + i % 4):
            rows.append(f"s{i},{rng.normal() + 2 * label:.3f},{rng.normal():.3f},{label}")
    path.write_text("\n".join(rows) + "\n")
    spec = ModelSpec(name="walks", features=2, maxlen=None, mask_value=0.0, units=4)
    result = train(spec, dataset=str(path), epochs=1, batch_size=8, verbose=0, out=tmp_path / "bundle")
    assert result.test["examples"] == 8
    saved = json.loads((tmp_path / "bundle" / "preprocessing.json").read_text())
    assert saved["format"] == "rnnlab.sequence-preprocessing" and len(saved["mean"]) == 2
    with pytest.raises(InvalidInputError, match="numeric sequences"):
        train(spec, dataset="imdb", epochs=1, verbose=0)
    assert isinstance(load_sequences(path), SequenceDataset)
