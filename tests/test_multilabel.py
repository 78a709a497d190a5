"""Several labels a text: label-set tables, GoEmotions, one sigmoid per label, thresholds tuned on validation
rows, label-set metrics, and every surface that predicts (bundle, CLI, service)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import f1_score
from reviewfiles import write_csv
from typer.testing import CliRunner

from rnnlab.cli import app
from rnnlab.data import TextDataset, load_dataset, load_goemotions, load_table
from rnnlab.encoding.prepare import prepare
from rnnlab.encoding.split import split_holdout
from rnnlab.errors import DataFormatError, InvalidInputError, UnknownNameError
from rnnlab.inference.bundle import Bundle
from rnnlab.models import ModelSpec
from rnnlab.serve import create_app
from rnnlab.training import TrainingConfig
from rnnlab.training.engine import fit
from rnnlab.training.metrics import label_sets, multilabel_metrics, tune_thresholds

pytestmark = pytest.mark.timeout(300)
runner = CliRunner()


def test_a_label_column_of_joined_names_or_json_lists_gives_label_sets(tmp_path):
    joined = write_csv(tmp_path / "joined.csv", [["text", "tags"], ["so happy and grateful", "joy|gratitude"],
                                              ["what a mess", "annoyance"], ["thanks, love it", "gratitude | love"]])
    ds = load_table(joined, label_column="tags", label_separator="|")
    assert ds.multi_label and ds.class_names == ("annoyance", "gratitude", "joy", "love")
    assert ds.labels.tolist() == [[0, 1, 1, 0], [1, 0, 0, 0], [0, 1, 0, 1]]
    lines = tmp_path / "lists.jsonl"
    lines.write_text("\n".join(json.dumps(r) for r in [{"text": "fine", "labels": ["b", "a"]},
                                                       {"text": "ok", "labels": ["c"]}]), encoding="utf-8")
    assert load_table(lines).labels.tolist() == [[1, 1, 0], [0, 0, 1]]
    in_cells = write_csv(tmp_path / "cells.csv", [["text", "labels"], ["one", '["x", "y"]'], ["two", '["y"]']])
    assert load_table(in_cells).labels.tolist() == [[1, 1], [0, 1]]
    ids = write_csv(tmp_path / "ids.csv", [["text", "label"], ["one", "0,2"], ["two", "1"]])
    named = load_table(ids, label_separator=",", class_names=["anger", "joy", "love"])
    assert named.labels.tolist() == [[1, 0, 1], [0, 1, 0]] and named.class_names == ("anger", "joy", "love")


def test_bad_label_sets_get_one_line_errors(tmp_path):
    empty = write_csv(tmp_path / "empty.csv", [["text", "label"], ["one", "a|b"], ["two", " | "]])
    with pytest.raises(DataFormatError, match=r"line 3: the 'label' cell holds no label"):
        load_table(empty, label_separator="|")
    broken = write_csv(tmp_path / "broken.csv", [["text", "label"], ["one", '["a" "b"]'], ["two", '["b"]']])
    with pytest.raises(DataFormatError, match="not valid JSON"):
        load_table(broken)
    unknown = write_csv(tmp_path / "unknown.csv", [["text", "label"], ["one", "a|zz"]])
    with pytest.raises(DataFormatError, match="'zz' is not one of the class names"):
        load_table(unknown, label_separator="|", class_names=["a", "b"])
    with pytest.raises(InvalidInputError, match="label_separator"):
        load_table(unknown, label_separator="")
    with pytest.raises(InvalidInputError, match="2 columns but there are 3 class names"):
        TextDataset(["a"], np.array([[0, 1]]), ("x", "y", "z"))
    with pytest.raises(InvalidInputError, match="only 0 and 1"):
        TextDataset(["a"], np.array([[0, 2]]), ("x", "y"))


def test_goemotions_splits_and_a_held_out_split_of_label_sets(goemotions_dir):
    dev = load_goemotions("dev")
    assert len(dev) == 5_426 and dev.num_classes == 28 and dev.class_names[-1] == "neutral"
    assert dev.labels.shape == (5_426, 28) and dev.labels.sum(axis=1).min() == 1
    assert (dev.labels.sum(axis=1) > 1).sum() > 500  # many comments hold several labels
    assert load_dataset("goemotions", "test").labels.shape == (5_427, 28)
    with pytest.raises(UnknownNameError, match="GoEmotions split"):
        load_goemotions("unsup")
    train, test = split_holdout(dev, 0.2, seed=0)
    assert len(train) + len(test) == len(dev)
    # Every label that more than one comment holds lands on both sides, in about its share.
    shares = test.class_counts() / dev.class_counts()
    assert (test.class_counts() > 0).all() and 0.1 < shares.min() and shares.max() < 0.35
    sample = dev.sample(1000, seed=3)
    assert sample.multi_label and len(sample) == 1000


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(5, 60), st.integers(2, 6))
def test_tuned_thresholds_are_never_worse_than_one_half_on_their_rows(seed, n, k):
    rng = np.random.default_rng(seed)
    y = (rng.random((n, k)) < 0.3).astype(int)
    probs = np.clip(0.6 * y + 0.5 * rng.random((n, k)) - 0.1, 0, 1)
    tuned = tune_thresholds(y, probs)
    for label in range(k):
        def f1(t):
            return f1_score(y[:, label], probs[:, label] >= t, zero_division=0)
        assert f1(tuned[label]) >= f1(0.5) - 1e-12
    sets = label_sets(probs, tuned)
    assert sets.any(axis=1).all()  # every text gets a label
    metrics = multilabel_metrics(y, probs, None, tuned)
    assert metrics["macro_f1"] == pytest.approx(f1_score(y, sets, average="macro", zero_division=0))
    assert metrics["micro_f1"] == pytest.approx(f1_score(y, sets, average="micro", zero_division=0))
    assert metrics["hamming_loss"] == pytest.approx((sets != y).mean())
    assert metrics["accuracy"] == metrics["subset_accuracy"] == pytest.approx((sets == y).all(axis=1).mean())


@pytest.fixture(scope="module")
def trained(goemotions_dir, tmp_path_factory):
    train = load_goemotions("train").sample(8_000, seed=0)
    test = load_goemotions("test").sample(1_500, seed=0)
    data = prepare(train, test, vocab_size=6_000, maxlen=40, validation_split=0.2, seed=0)
    spec = ModelSpec(name="emotions", vocab_size=6_000, maxlen=40, embedding_dim=64, mask_zero=True, cell="gru",
                     units=48, bidirectional=True, pooling="max", optimizer="adam", learning_rate=0.005)
    result = fit(spec, data, TrainingConfig(epochs=6, batch_size=64, early_stopping={"monitor": "val_macro_f1",
                                                                                       "patience": 2}), verbose=0)
    out = tmp_path_factory.mktemp("emotions") / "bundle"
    result.save(out)
    return result, out, data


def test_one_sigmoid_per_label_learns_goemotions(trained):
    result, _, data = trained
    assert result.spec.multi_label and result.spec.num_classes == 28
    assert result.model.get_layer("output").units == 28
    test = result.test
    # The labels of the test rows, each predicted as the most common label ("neutral") would be.
    common = np.zeros_like(data.y_test)
    common[:, int(data.y_train.sum(axis=0).argmax())] = 1
    floor = f1_score(data.y_test, common, average="micro", zero_division=0)
    assert test["multi_label"] and test["examples"] == 1_500
    assert test["micro_f1"] > floor + 0.1, (test["micro_f1"], floor)
    assert test["macro_f1"] > 0.2, test["macro_f1"]
    assert test["per_label"]["gratitude"]["f1"] > 0.6  # a label with plain cue words
    assert set(result.notes["thresholds"]) == set(result.class_names)
    # One temperature per label, fitted on the validation rows; the test block reports the calibration error.
    temperatures = result.notes["calibration"]["temperature"]
    assert set(temperatures) == set(result.class_names) and all(t > 0 for t in temperatures.values())
    assert result.temperature.shape == (28,)
    assert 0 <= test["calibration"]["ece"] < 0.1 and len(test["calibration"]["reliability"]) == 15


def test_a_multi_label_bundle_predicts_label_sets_everywhere(trained, tmp_path):
    result, out, data = trained
    bundle = Bundle.load(out)
    assert bundle.spec.multi_label
    assert bundle.thresholds.tolist() == [result.notes["thresholds"][n] for n in bundle.class_names]
    np.testing.assert_allclose(bundle.temperature, result.temperature)
    texts = ["Thank you so much, this is so kind of you!", "I can't stop laughing, this is hilarious lol"]
    predictions = bundle.predict(texts)
    assert predictions[0].labels[0] == "gratitude" and "amusement" in predictions[1].labels
    probs = bundle.predict_proba(texts)
    assert probs.shape == (2, 28) and not np.allclose(probs.sum(axis=1), 1.0)  # independent sigmoids
    for p, row in zip(predictions, probs):
        assert set(p.labels) == {n for n, q, t in zip(bundle.class_names, row, bundle.thresholds) if q >= t} or \
            p.labels == [bundle.class_names[int(row.argmax())]]
    # The CLI writes the label set beside the top label.
    source = tmp_path / "comments.txt"
    source.write_text("\n".join(texts) + "\n", encoding="utf-8")
    written = tmp_path / "labels.csv"
    outcome = runner.invoke(app, ["predict", str(out), "--input", str(source), "--output", str(written)])
    assert outcome.exit_code == 0, outcome.output
    rows = list(csv.DictReader(written.open(encoding="utf-8")))
    assert rows[0]["labels"].split("|") == predictions[0].labels and "p_neutral" in rows[0]
    # evaluate reads the same test rows with the bundle's thresholds: the figures training recorded.
    outcome = runner.invoke(app, ["evaluate", str(out), "--dataset", "goemotions", "--json"])
    assert outcome.exit_code == 0, outcome.output
    scored = json.loads(outcome.stdout)
    assert scored["examples"] == 5_427 and 0.2 < scored["macro_f1"] < 1
    # The service answers with the label set too.
    client = TestClient(create_app(out, warm_up=False))
    answer = client.post("/v1/predict", json={"texts": texts}).json()["predictions"]
    assert [a["labels"] for a in answer] == [p.labels for p in predictions]
    explained = client.post("/v1/explain", json={"text": texts[0]}).json()
    assert explained["labels"] == predictions[0].labels and explained["target"] == predictions[0].label


def test_the_estimator_takes_indicator_rows_and_pandas_texts(goemotions_dir, tmp_path):
    pandas = pytest.importorskip("pandas")
    from rnnlab.inference.estimator import TextClassifier

    train = load_goemotions("train").sample(2_000, seed=1)
    estimator = TextClassifier("bigru-max", units=16, epochs=2, maxlen=40, vocab_size=5_000)
    estimator.fit(pandas.Series(train.texts), train.labels)
    assert estimator.result_.spec.multi_label and estimator.classes_.tolist() == list(range(28))
    texts = ["Thanks so much!", "This is so sad.", "lol that is hilarious"]
    predicted = estimator.predict(texts)
    assert predicted.shape == (3, 28) and set(np.unique(predicted)) <= {0, 1} and (predicted.sum(axis=1) >= 1).all()
    frame = pandas.DataFrame({"comment": texts})
    assert np.allclose(estimator.predict_proba(frame), estimator.predict_proba(texts))
    assert 0.0 <= estimator.score(train.texts[:200], train.labels[:200]) <= 1.0
    with pytest.raises(InvalidInputError, match="one column of texts"):
        estimator.predict(pandas.DataFrame({"a": texts, "b": texts}))
    # Saved and loaded, it predicts the same label sets; a bundle takes the DataFrame too.
    estimator.save(tmp_path / "bundle")
    again = TextClassifier.load(tmp_path / "bundle")
    assert (again.predict(texts) == predicted).all()
    assert np.allclose(Bundle.load(tmp_path / "bundle").predict_proba(frame), estimator.predict_proba(texts))
