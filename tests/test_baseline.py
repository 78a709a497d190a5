"""Linear baselines tuned on the classifier's own validation rows, on real reviews."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from rnnlab.errors import InvalidInputError
from rnnlab.experiments.recipes.baseline import DEFAULT_GRIDS, NBSVM, run_baseline, tfidf_baseline, validation_rows

LIMIT = 2000


@pytest.fixture(scope="module")
def imdb_results(imdb_archive):
    return {name: run_baseline(name, "imdb", seed=0, limit=LIMIT) for name in ("tfidf-lr", "nbsvm")}


@pytest.mark.parametrize("name", ["tfidf-lr", "nbsvm"])
def test_baseline_beats_chance_with_setting_chosen_on_validation(imdb_results, name):
    result = imdb_results[name]
    assert result["test_accuracy"] > 0.75 and result["macro_f1"] > 0.75
    grid = DEFAULT_GRIDS[name]
    assert result["C"] in grid["C"] and tuple(result["ngram_range"]) in grid["ngram_range"]
    assert len(result["grid"]) == len(grid["C"]) * len(grid["ngram_range"])
    chosen = [p for p in result["grid"] if p["C"] == result["C"] and p["ngram_range"] == result["ngram_range"]]
    assert chosen[0]["validation_accuracy"] == result["validation_accuracy"]
    assert result["validation_accuracy"] == max(p["validation_accuracy"] for p in result["grid"])
    assert (result["train_examples"], result["validation_examples"], result["test_examples"]) == (1600, 400, 2000)
    assert np.sum(result["confusion_matrix"]) == 2000 and result["n_features"] > 1000
    json.dumps(result)  # JSON-able as returned


def test_validation_rows_are_the_classifiers(imdb_archive):
    from rnnlab.encoding.prepare import load_splits, prepare

    seed = 3
    train, test = load_splits("imdb", seed=seed, limit=1000)
    data = prepare(train, test, seed=seed, validation_split=0.2)
    fit_rows, val_rows = validation_rows(len(train), 0.2, seed)
    assert len(val_rows) == data.info["validation_examples"] and len(fit_rows) == data.info["train_examples"]
    # prepare() keeps encoded ids, not texts: encoding our rows' texts must give its arrays, row for row.
    val_texts = train.subset(val_rows).texts
    assert np.array_equal(data.preprocessor.transform(val_texts), data.x_val)
    assert np.array_equal(data.preprocessor.transform(train.subset(fit_rows).texts), data.x_train)
    assert np.array_equal(train.labels[val_rows], data.y_val)
    assert set(val_texts).isdisjoint(train.subset(fit_rows).texts)


def test_cli_writes_json_and_rejects_unknown_names(imdb_archive, tmp_path):
    from rnnlab.cli import app

    out = tmp_path / "baseline.json"
    result = CliRunner().invoke(app, ["baseline", "tfidf-lr", "--limit", "600", "--seed", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "validation accuracy" in result.output and "test accuracy" in result.output
    written = json.loads(out.read_text(encoding="utf-8"))
    assert written["name"] == "tfidf-lr" and written["seed"] == 1 and written["test_examples"] == 600
    assert not list(tmp_path.glob(".*.tmp"))

    unknown = subprocess.run([sys.executable, "-m", "rnnlab.cli", "baseline", "nbsvn"], capture_output=True,
                             text=True, env=dict(os.environ), timeout=120)
    assert unknown.returncode == 2
    assert "Unknown baseline 'nbsvn'" in unknown.stderr and "Did you mean 'nbsvm'" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_other_datasets_work(amazon_file):
    result = run_baseline("nbsvm", "amazon", seed=0)
    assert result["class_names"] == ["neg", "pos"]
    # The sample ships without a test split: load_splits holds out 20%, then 20% of the rest validates.
    assert (result["train_examples"], result["validation_examples"], result["test_examples"]) == (640, 160, 200)
    assert result["test_accuracy"] > 0.7


def test_nbsvm_handles_more_than_two_classes():
    texts = ["good great fun", "great good", "bad awful dull", "awful bad", "so so meh", "meh okay so"] * 3
    labels = [2, 2, 0, 0, 1, 1] * 3
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer()
    model = NBSVM(C=10.0).fit(vectorizer.fit_transform(texts), labels)
    probabilities = model.predict_proba(vectorizer.transform(["great fun", "dull awful", "meh"]))
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert probabilities.argmax(axis=1).tolist() == [2, 0, 1]


def test_bad_arguments_are_explained():
    with pytest.raises(InvalidInputError, match="validation_split"):
        validation_rows(100, 0.0)
    with pytest.raises(InvalidInputError, match="at least two classes"):
        NBSVM().fit(np.ones((3, 2)), [1, 1, 1])


def test_fixed_sweep_baseline_still_runs(imdb_archive):
    from rnnlab.experiments.recipes.baseline import SplitTexts
    from rnnlab.encoding.prepare import load_splits

    train, test = load_splits("imdb", seed=0, limit=400)
    result = tfidf_baseline(SplitTexts(train.texts, train.labels, test.texts, test.labels, train.class_names))
    assert result["classifier"] == "LogisticRegression(C=1.0, max_iter=1000)" and result["accuracy"] > 0.6
