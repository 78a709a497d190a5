"""`rnnlab tune`: the search config, a search that never reads test data and resumes, the TOML writer."""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

import pytest
from raytools import imdb_rows, isolated, write_csv
from typer.testing import CliRunner

from rnnlab.cli import app
from rnnlab.configfile import to_toml
from rnnlab.errors import InvalidInputError
from rnnlab.experiments.recipes.tune import parse_duration, read_search
from rnnlab.inference.bundle import Bundle

runner = CliRunner()


@pytest.fixture(scope="module")
def reviews(imdb_archive):
    return imdb_rows()


# ------------------------------------------------------------------ searches
SEARCH = """
kind = "tune"
name = "tiny-search"
[data]
dataset = "{train}"
test = "{test}"
validation_split = 0.25
[model]
vocab_size = 2000
maxlen = 64
embedding_dim = 16
cell = "gru"
units = 8
pooling = "max"
optimizer = "adam"
learning_rate = 0.005
[training]
batch_size = 32
epochs = 2
[search]
trials = 2
concurrent = 2
[space.model]
units = {{ choice = [8, 16] }}
learning_rate = {{ loguniform = [0.002, 0.02] }}
"""


def test_search_config_is_checked():
    base = tomllib.loads(SEARCH.format(train="x.csv", test="y.csv"))
    assert [d.key for d in read_search(base).dimensions] == ["model.units", "model.learning_rate"]
    # the objectives' weights are training fields, so a search takes them like any other
    objectives = {"training": {"virtual_adversarial": {"choice": [0.0, 1.0]}, "perturbation": {"uniform": [0.02, 0.1]}}}
    assert [d.key for d in read_search({**base, "space": objectives}).dimensions] == [
        "training.virtual_adversarial", "training.perturbation"]
    for space, message in [({}, "at least one field"), ({"model": {"nosuch": {"choice": [1]}}}, "no searchable"),
                           ({"model": {"units": {"range": [1, 2]}}}, "must be one of"),
                           ({"model": {"units": {"int": [8, 4]}}}, "low < high"),
                           ({"training": {"learning_rate": {"loguniform": [0, 1]}}}, "low > 0"),
                           ({"model": {"units": {"int": [1.5, 4]}}}, "whole numbers")]:
        with pytest.raises(InvalidInputError, match=message):
            read_search({**base, "space": space})
    with pytest.raises(InvalidInputError, match="validation_split"):
        read_search({**base, "data": {**base["data"], "validation_split": 0.0}})
    with pytest.raises(InvalidInputError, match="unknown|not a|nosuch"):
        read_search({**base, "search": {"nosuch": 1}})
    assert parse_duration("20m") == 1200 and parse_duration("1.5h") == 5400 and parse_duration(90) == 90
    with pytest.raises(InvalidInputError, match="time budget"):
        parse_duration("soon")


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_tune_never_reads_test_data_and_resumes(tmp_path, reviews):
    """The search runs with the test file absent (so it cannot have read it); the same command run
    again resumes the finished search and trains the best settings, reading the test file once."""
    train = write_csv(tmp_path / "train.csv", reviews[:800])
    test = tmp_path / "test.csv"
    config = tmp_path / "search.toml"
    config.write_text(SEARCH.format(train=train, test=test), encoding="utf-8")
    out = tmp_path / "search"
    command = [sys.executable, "-m", "rnnlab", "tune", str(config), "--out", str(out)]

    first = isolated(command, timeout=400)
    assert first.returncode == 2 and "test.csv" in first.stderr + first.stdout, first.stdout[-2000:] + first.stderr
    trials = json.loads((out / "trials.json").read_text())["trials"]
    assert len(trials) == 2 and all(t["val_accuracy"] is not None for t in trials)
    assert all(t["test_examples_read"] == 0 for t in trials)
    best = tomllib.loads((out / "best.toml").read_text())
    assert best["kind"] == "recipe" and "No test data was read" in best["selection"]["protocol"]
    assert (out / "importance.png").stat().st_size > 0 and "| trial |" in (out / "search.md").read_text()

    write_csv(test, reviews[800:])
    second = isolated(command + ["--json"], timeout=400)
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-2000:]
    results = json.loads((out / "results.json").read_text())
    assert results["trials"] == 2 and results["test_examples_read_by_search"] == 0  # resumed: no new trials
    assert results["test_examples"] == 200
    # The accuracy reported is the saved bundle's on the test file. (A floor cannot say more: a
    # 2-epoch search on 600 reviews measured 0.565, with a standard error of 0.035.)
    predicted = Bundle.load(results["bundle"]).predict([text for text, _ in reviews[800:]])
    right = sum(p.label == label for p, (_, label) in zip(predicted, reviews[800:]))
    assert results["test_accuracy"] == pytest.approx(right / 200, abs=1e-6)
    assert best["model"]["units"] == results["best"]["params"]["model.units"]
    assert results["best"]["val_accuracy"] == max(t["val_accuracy"] for t in trials)
    bundle = Path(results["bundle"])
    predicted = runner.invoke(app, ["predict", str(bundle), "A wonderful film.", "--json"])
    assert predicted.exit_code == 0 and json.loads(predicted.output.splitlines()[0])["label"] in ("negative",
                                                                                                 "positive")


def test_tune_refuses_other_configs(tmp_path):
    result = runner.invoke(app, ["tune", "imdb-fast"])
    assert result.exit_code == 2 and "not a search config" in result.output
    bad = tmp_path / "bad.toml"
    bad.write_text(SEARCH.format(train="x.csv", test="y.csv").replace("[space.model]", "[space.nowhere]"))
    result = runner.invoke(app, ["tune", str(bad), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "space" in result.output


def test_toml_writer_round_trips():
    data = {"kind": "recipe", "name": "a b", "data": {"dataset": "x.csv", "limit": 5},
            "model": {"units": 32, "dropout": 0.25, "mask_zero": True, "rnn_options": {"unroll": False}},
            "training": {"learning_rate": 1e-3, "buckets": [100, 200], "early_stopping": {"monitor": "val_accuracy",
                                                                                         "patience": None}},
            "selection": {"protocol": 'quoted "text"\nand a newline, ünïcode'}}
    back = tomllib.loads(to_toml(data))
    data["training"]["early_stopping"].pop("patience")
    assert back == data




def score_search(metric: str = "") -> str:
    """`SEARCH` on IMDB's ratings as numbers to predict (600 reviews), with an optional [search] metric line."""
    text = SEARCH.replace('dataset = "{train}"\ntest = "{test}"', 'dataset = "imdb-score"\nlimit = 600')
    return text.format().replace("[search]\n", f"[search]\n{metric}\n")


def test_numbers_to_predict_are_searched_by_validation_loss_not_accuracy(imdb_archive):
    from rnnlab.experiments.recipes.tune import search_metric

    config = tomllib.loads(score_search())
    assert search_metric(config, None) == "val_loss"
    with pytest.raises(InvalidInputError, match="no accuracy"):
        search_metric(config, "val_accuracy")
    classes = tomllib.loads(score_search().replace("imdb-score", "imdb"))
    assert search_metric(classes, None) == "val_accuracy" and search_metric(classes, "val_loss") == "val_loss"


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_search_of_ratings_ranks_trials_by_loss_and_keeps_a_regression(tmp_path, imdb_archive):
    import numpy as np

    from rnnlab.encoding.prepare import load_splits

    config = tmp_path / "search.toml"
    config.write_text(score_search(), encoding="utf-8")
    out = tmp_path / "search"
    ran = isolated([sys.executable, "-m", "rnnlab", "tune", str(config), "--out", str(out), "--json"], timeout=500)
    assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-2000:]
    results = json.loads((out / "results.json").read_text())
    trials = results["runs"]
    assert results["metric"] == "val_loss" and len(trials) == 2
    assert all(t["val_accuracy"] is None and t["val_loss"] > 0 and len(t["curve"]) == t["epochs"] for t in trials)
    assert results["best"]["val_loss"] == min(t["val_loss"] for t in trials)
    assert "validation loss" in (out / "search.md").read_text()
    # The final run is a regression scored once on test; its MAE is the saved bundle's on those reviews.
    test = results["test"]
    assert test["regression"] and results["test_examples"] == 600 and results.get("test_accuracy") is None
    _, reviews = load_splits("imdb-score", seed=0, limit=600)
    values = Bundle.load(results["bundle"]).predictor.predict_values(reviews.texts)
    assert test["mae"] == pytest.approx(float(np.abs(values - reviews.labels).mean()), abs=1e-4)
