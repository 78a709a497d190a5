"""With --json a command prints JSON and nothing else on stdout, so `rnnlab ... --json | jq` works.

Keras' epoch lines, progress and every note go to stderr. Training commands run in a
subprocess (what a shell pipe sees); the quick ones through the CLI runner, whose stdout
holds only what the command wrote there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from reviewfiles import write_reviews_csv
from typer.testing import CliRunner

from rnnlab.cli import app

pytestmark = pytest.mark.timeout(300)


def rnnlab(*args: str, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "RNNLAB_PROGRESS": "lines", "COLUMNS": "100"}
    return subprocess.run([sys.executable, "-m", "rnnlab", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=240)


@pytest.fixture(scope="module")
def reviews(amazon_file, tmp_path_factory):
    return write_reviews_csv(tmp_path_factory.mktemp("json") / "reviews.csv", amazon_file)


@pytest.mark.slow
def test_train_auto_json_is_the_only_thing_on_stdout(reviews, tmp_path):
    done = rnnlab("train", "auto", "--dataset", str(reviews), "--epochs", "1", "--limit", "300",
                  "--out", str(tmp_path / "bundle"), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)
    assert {"model", "params", "settings", "test_accuracy", "validation_accuracy", "baseline", "profile"} <= set(summary)
    assert summary["baseline"]["name"] == "nbsvm"
    assert "Epoch 1/1" in done.stderr  # progress still shown, on stderr


def test_train_json_is_the_only_thing_on_stdout(reviews, tmp_path):
    done = rnnlab("train", "lstm", "--dataset", str(reviews), "--epochs", "1", "--limit", "300", "--vocab-size",
                  "2000", "--maxlen", "64", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads(done.stdout)
    assert {"model", "history", "test", "epochs_run", "class_names"} <= set(metrics)
    assert metrics["epochs_run"] == 1 and metrics["class_names"] == ["negative", "positive"]


def invoke(*args: str) -> dict | list:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


def test_bundle_commands_print_only_json(small_bundle, amazon_file, tmp_path):
    bundle = str(small_bundle)
    scores = invoke("evaluate", bundle, "--dataset", str(amazon_file), "--limit", "100", "--json")
    assert {"accuracy", "macro_f1", "confusion_matrix", "dataset", "split"} <= set(scores)

    result = CliRunner().invoke(app, ["predict", bundle, "A wonderful record.", "Broke in a day.", "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]  # one object per record
    assert len(rows) == 2 and {"label", "probability"} <= set(rows[0])

    records = write_reviews_csv(tmp_path / "new.csv", amazon_file, rows=20, labels=False)
    written = invoke("predict", bundle, "--input", str(records), "--output", str(tmp_path / "p.csv"), "--json")
    assert written["records"] == 20 and written["output"] == str(tmp_path / "p.csv")

    why = invoke("explain", bundle, "A wonderful record.", "--json")
    assert {"label", "probability", "method", "tokens"} <= set(why)


def test_baseline_and_models_print_only_json(reviews):
    result = invoke("baseline", "tfidf-lr", "--dataset", str(reviews), "--limit", "300", "--json")
    assert {"test_accuracy", "validation_accuracy", "C", "ngram_range", "grid"} <= set(result)
    assert any(row["name"] == "lstm" for row in invoke("models", "--json"))
