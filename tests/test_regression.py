"""Numbers to predict: numeric label columns, a regression head scaled to the targets, MAE / RMSE / R^2, and
predictions that are numbers through every surface (bundle, CLI, service, estimator)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from reviewfiles import write_csv
from typer.testing import CliRunner

from rnnlab.cli import app
from rnnlab.data import TextDataset, load_dataset, load_table
from rnnlab.encoding.prepare import load_splits, prepare
from rnnlab.encoding.split import split_holdout
from rnnlab.errors import DataFormatError, InvalidInputError
from rnnlab.inference.bundle import Bundle
from rnnlab.models import ModelSpec
from rnnlab.serve import create_app
from rnnlab.training import TrainingConfig
from rnnlab.training.engine import fit
from rnnlab.training.metrics import regression_metrics

pytestmark = pytest.mark.timeout(300)
runner = CliRunner()


def test_a_column_of_fractional_numbers_is_a_target_and_whole_numbers_stay_classes(tmp_path):
    scores = write_csv(tmp_path / "scores.csv", [["text", "score"], ["fine", "3.5"], ["bad", "1"], ["great", "4.75"]])
    ds = load_table(scores)
    assert ds.numeric and ds.class_names == ("score",) and ds.labels.dtype == np.float32
    assert ds.labels.tolist() == [3.5, 1.0, 4.75]
    stars = write_csv(tmp_path / "stars.csv", [["text", "stars"], ["fine", "3"], ["bad", "1"], ["great", "5"]])
    assert not load_table(stars).numeric and load_table(stars).class_names == ("1", "3", "5")
    forced = load_table(stars, numeric_labels=True)
    assert forced.numeric and forced.labels.tolist() == [3.0, 1.0, 5.0]
    assert forced.subset([2, 0]).labels.tolist() == [5.0, 3.0] and forced.sample(2, seed=0).numeric
    pandas = pytest.importorskip("pandas")
    frame = load_table(pandas.DataFrame({"review": ["a b", "c d", "e f"], "price": [9.99, 12.5, 3.0]}))
    assert frame.numeric and frame.class_names == ("price",)


def test_bad_numeric_labels_get_one_line_errors(tmp_path):
    words = write_csv(tmp_path / "words.csv", [["text", "score"], ["fine", "3.5"], ["bad", "low"]])
    with pytest.raises(DataFormatError, match=r"line 3: the 'score' cell 'low' is not a number"):
        load_table(words, numeric_labels=True)
    constant = write_csv(tmp_path / "constant.csv", [["text", "score"], ["fine", "2.5"], ["bad", "2.5"]])
    with pytest.raises(DataFormatError, match="two or more distinct values"):
        load_table(constant, numeric_labels=True)
    with pytest.raises(InvalidInputError, match="finite"):
        TextDataset(["a", "b"], np.array([1.0, np.nan]), ("score",))


def test_a_held_out_split_of_numbers_keeps_their_spread():
    values = np.random.default_rng(0).gamma(2.0, 2.0, size=1_000).astype(np.float32)
    ds = TextDataset([f"text {i}" for i in range(1_000)], values, ("y",))
    train, test = split_holdout(ds, 0.2, seed=0)
    assert train.numeric and test.numeric and len(test) == 200
    for q in (0.2, 0.5, 0.8):  # each quintile is held out in proportion
        assert abs(np.quantile(test.labels, q) - np.quantile(values, q)) < 0.6


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-1e3, 1e3), st.floats(-1e3, 1e3)), min_size=2, max_size=60))
def test_regression_metrics_are_scikit_learns(pairs):
    truth, values = (np.asarray(column) for column in zip(*pairs))
    found = regression_metrics(truth, values)
    assert found["mae"] == pytest.approx(mean_absolute_error(truth, values), rel=1e-9, abs=1e-9)
    assert found["rmse"] == pytest.approx(np.sqrt(mean_squared_error(truth, values)), rel=1e-9, abs=1e-9)
    if truth.var() > 1e-6:
        assert found["r2"] == pytest.approx(r2_score(truth, values), rel=1e-6, abs=1e-6)


def test_a_regression_head_has_the_sigmoid_heads_parameters_and_round_trips():
    spec = ModelSpec(cell="gru", units=16, vocab_size=500, maxlen=30, regression=True, num_classes=1,
                     target_mean=5.5, target_scale=3.0)
    binary = ModelSpec(cell="gru", units=16, vocab_size=500, maxlen=30)
    model = spec.build()
    assert model.count_params() == binary.build().count_params()
    assert model.get_layer("output").get_config()["offset"] == 5.5 and spec.loss_name == "mean_squared_error"
    assert ModelSpec.from_json(spec.to_json()) == spec
    for bad in ({"num_classes": 2}, {"architecture": "cell-loop"}, {"target_scale": 0.0}, {"nb_features": True}):
        with pytest.raises(InvalidInputError):
            spec.replace(**bad)


@pytest.fixture(scope="module")
def trained(imdb_archive, tmp_path_factory):
    """A masked max-pooled GRU on 3,000 IMDB training reviews, their ratings as numbers; 1,000 test reviews."""
    train, test = load_splits("imdb-score", seed=0, limit=3_000)
    test = test.sample(1_000, seed=1)
    assert train.numeric and set(np.unique(train.labels)) == {1, 2, 3, 4, 7, 8, 9, 10}
    data = prepare(train, test, vocab_size=10_000, maxlen=200, validation_split=0.15, seed=0)
    spec = ModelSpec(name="gru-rating", cell="gru", units=32, embedding_dim=64, vocab_size=10_000, maxlen=200,
                     mask_zero=True, pooling="max", optimizer="adam", learning_rate=0.004)
    result = fit(spec, data, TrainingConfig(epochs=4, batch_size=64, early_stopping={"monitor": "val_accuracy",
                                                                                      "patience": 2}))
    out = tmp_path_factory.mktemp("regression") / "bundle"
    result.save(out)
    return result, out, test


def test_a_regression_on_imdb_ratings_beats_the_mean_and_reads_back_the_same(trained):
    result, out, test = trained
    assert result.spec.regression and result.spec.num_classes == 1
    assert 5.0 < result.spec.target_mean < 6.0 and 3.0 < result.spec.target_scale < 4.0
    assert result.config.early_stopping.monitor == "val_loss"  # a recipe's accuracy monitor, read as the loss
    scores = result.test
    assert scores["regression"] and scores["examples"] == 1_000
    # Predicting the mean rating gives R^2 = 0 and an MAE of about 3.1.
    assert scores["r2"] > 0.2 and scores["pearson"] > 0.5 and scores["mae"] < 2.8
    bundle = Bundle.load(out)
    values = bundle.predictor.predict_values(test.texts)
    assert regression_metrics(test.labels, values)["mae"] == pytest.approx(scores["mae"], abs=1e-5)
    predictions = bundle.predict(["A masterpiece: moving, funny and beautifully shot.", "Dull, ugly and stupid."])
    assert predictions[0].value > predictions[1].value and predictions[0].probability is None
    assert predictions[0].label == f"{predictions[0].value:.4g}" and predictions[0].probabilities == {}
    with pytest.raises(InvalidInputError, match="classes only"):
        fit(result.spec, prepare(*load_splits("imdb-score", seed=0, limit=200), vocab_size=500, maxlen=20),
            TrainingConfig(epochs=1, class_weight="balanced"))


def test_a_regression_bundle_gives_numbers_on_the_command_line_and_the_service(trained, tmp_path):
    result, out, test = trained
    shown = runner.invoke(app, ["predict", str(out), "A wonderful film.", "--json"])
    assert shown.exit_code == 0, shown.output
    row = json.loads(shown.stdout.splitlines()[0])
    assert isinstance(row["value"], float) and row["probability"] is None
    source = write_csv(tmp_path / "in.csv", [["text"], *[[t] for t in test.texts[:20]]])
    written = tmp_path / "out.csv"
    assert runner.invoke(app, ["predict", str(out), "--input", str(source), "--output", str(written)]).exit_code == 0
    with open(written, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["text", "value", "n_tokens", "n_oov", "truncated"] and len(rows) == 20
    values = Bundle.load(out).predictor.predict_values(test.texts[:20])
    assert np.allclose([float(r["value"]) for r in rows], values, atol=1e-5)
    explained = runner.invoke(app, ["explain", str(out), "Great acting, awful plot.", "--json"])
    assert explained.exit_code == 0 and json.loads(explained.stdout)["target"] == "rating"
    client = TestClient(create_app(out))
    answer = client.post("/v1/predict", json={"texts": ["Great acting.", "Awful plot."]})
    assert answer.status_code == 200 and len(answer.json()["predictions"]) == 2
    assert all(isinstance(p["value"], float) for p in answer.json()["predictions"])
    explanation = client.post("/v1/explain", json={"text": "Great acting, awful plot."}).json()
    assert explanation["base_value"] == pytest.approx(explanation["value"])
    assert sum(1 for t in explanation["tokens"] if t["score"]) > 0
    assert client.get("/v1/model").json()["metrics"]["test"]["regression"]


def test_a_table_of_numbers_trains_from_the_command_line_and_auto_refuses_it(imdb_archive, tmp_path):
    reviews = load_dataset("imdb-score", "train").sample(400, seed=3)
    table = write_csv(tmp_path / "scores.csv", [["review", "score"], *[[t, f"{y / 2:.1f}"] for t, y in
                                                                  zip(reviews.texts, reviews.labels)]])
    out = tmp_path / "bundle"
    trained = runner.invoke(app, ["train", "gru", "--dataset", str(table), "--epochs", "1", "--maxlen", "50",
                                  "--out", str(out), "--json"])
    assert trained.exit_code == 0, trained.output
    scores = json.loads(trained.stdout)["test"]
    assert scores["regression"] and scores["target"] == "score" and scores["examples"] == 80
    assert Bundle.load(out).predict(["fine"])[0].value is not None
    refused = runner.invoke(app, ["train", "auto", "--dataset", str(table)])
    assert refused.exit_code != 0 and "numbers" in refused.output


def test_the_estimator_predicts_numbers_and_scores_r2(imdb_archive, tmp_path):
    import rnnlab

    pandas = pytest.importorskip("pandas")
    reviews = load_dataset("imdb-score", "train").sample(1_200, seed=5)
    model = rnnlab.TextRegressor(epochs=3, units=16, maxlen=120, random_state=0)
    model.fit(pandas.Series(reviews.texts[:1_000]), reviews.labels[:1_000].tolist())
    assert model.score(reviews.texts[1_000:], reviews.labels[1_000:]) > 0.1
    model.save(tmp_path / "bundle")
    again = rnnlab.TextRegressor.load(tmp_path / "bundle")
    assert np.allclose(again.predict(reviews.texts[1_000:1_050]), model.predict(reviews.texts[1_000:1_050]),
                       atol=1e-5)
    with pytest.raises(InvalidInputError, match="TextRegressor.load"):
        rnnlab.TextClassifier.load(tmp_path / "bundle")
    with pytest.raises(InvalidInputError, match="one number per text"):
        rnnlab.TextRegressor().fit(["a", "b"], ["x", "y"])
