"""Training curves where people look at them: TensorBoard event files in every bundle, MLflow runs,
and progress that is a bar on a terminal and plain lines in a log."""

from __future__ import annotations

import json
import struct
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from rnnlab import progress
from rnnlab.cli import app
from rnnlab.training.tracking import write_tensorboard


def read_events(folder):
    """Every scalar in the TensorBoard event files under ``folder``: {run: {tag: [(step, value)]}}."""
    from tensorboardX.proto import event_pb2

    found: dict = {}
    for path in sorted(folder.rglob("events.out.tfevents.*")):
        data, i = path.read_bytes(), 0
        while i < len(data):
            (length,) = struct.unpack("<Q", data[i:i + 8])
            event = event_pb2.Event()
            event.ParseFromString(data[i + 12:i + 12 + length])
            i += 12 + length + 4  # length, its CRC, the record, its CRC
            for value in event.summary.value:
                if value.HasField("simple_value"):
                    found.setdefault(path.parent.name, {}).setdefault(value.tag, []).append(
                        (event.step, value.simple_value))
    return found


def test_event_files_follow_keras_tensorboard_layout(tmp_path):
    history = {"loss": [0.7, 0.5, 0.4], "accuracy": [0.5, 0.7, 0.8], "val_loss": [0.6, 0.55, 0.56],
               "val_accuracy": [0.6, 0.72, 0.71]}
    write_tensorboard(history, tmp_path / "logs")
    events = read_events(tmp_path / "logs")
    assert set(events) == {"train", "validation"}
    assert events["train"]["epoch_loss"] == [(0, pytest.approx(0.7)), (1, pytest.approx(0.5)), (2, pytest.approx(0.4))]
    assert [v for _, v in events["validation"]["epoch_accuracy"]] == pytest.approx([0.6, 0.72, 0.71])


@pytest.mark.timeout(300)
def test_a_trained_bundle_holds_its_curves_and_mlflow_gets_the_run(amazon_file, tmp_path):
    import mlflow  # a dev dependency, heavy to import: loaded by the tests that use it
    import matplotlib
    import matplotlib.pyplot as plt

    matplotlib.use("svg")  # a notebook's or a GUI's backend: saving a bundle must leave it alone
    out, store = tmp_path / "bundle", tmp_path / "mlruns"
    result = CliRunner().invoke(app, ["train", "lstm", "--dataset", "amazon", "--limit", "300", "--epochs", "2",
                                      "--vocab-size", "2000", "--maxlen", "64", "--out", str(out),
                                      "--mlflow", str(store), "--json"])
    assert result.exit_code == 0, result.output
    assert matplotlib.get_backend() == "svg" and plt.get_fignums() == []
    output = json.loads(result.stdout)  # --json: nothing else on stdout
    metrics = json.loads((out / "metrics.json").read_text())

    events = read_events(out / "logs")
    assert [v for _, v in events["train"]["epoch_loss"]] == pytest.approx(metrics["history"]["loss"])
    assert [v for _, v in events["validation"]["epoch_accuracy"]] == pytest.approx(metrics["history"]["val_accuracy"])

    client = mlflow.tracking.MlflowClient(tracking_uri=store.resolve().as_uri())
    run = client.get_run(output["mlflow_run"])
    assert run.data.params["model.cell"] == "lstm" and run.data.params["data.dataset"] == "amazon"
    assert run.data.metrics["test_accuracy"] == pytest.approx(metrics["test"]["accuracy"])
    curve = client.get_metric_history(run.info.run_id, "val_loss")
    assert [m.value for m in sorted(curve, key=lambda m: m.step)] == pytest.approx(metrics["history"]["val_loss"])
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "bundle")}
    assert {"bundle/model.keras", "bundle/metrics.json"} <= artifacts

    # The bundle is the run's pyfunc model too: loaded by MLflow alone, it predicts a DataFrame of raw texts.
    import pandas

    from rnnlab.inference.bundle import Bundle

    mlflow.set_tracking_uri(store.resolve().as_uri())
    model = mlflow.pyfunc.load_model(f"runs:/{output['mlflow_run']}/model")
    texts = ["Works great, I love it.", "Broke after a day, a waste of money.", "Fine."]
    frame = model.predict(pandas.DataFrame({"text": texts}))
    expected = Bundle.load(out).predict_proba(texts)
    assert list(frame.columns[:3]) == ["text", "label", "probability"] and frame["text"].tolist() == texts
    assert np.allclose(frame[["p_neg", "p_pos"]].to_numpy(float), expected, atol=1e-6)
    with pytest.raises(Exception, match="text"):  # the signature names the one input column
        model.predict(pandas.DataFrame({"words": texts}))


def test_progress_is_plain_lines_in_a_log_and_silent_when_off(capsys, monkeypatch):
    monkeypatch.setenv("RNNLAB_PROGRESS", "lines")
    with progress.task("parsing", total=50, unit="files") as advance:
        for _ in range(50):
            advance()
    lines = capsys.readouterr().err.strip().splitlines()
    assert 5 <= len(lines) <= 11 and lines[-1].startswith("parsing: 100% (50/50 files")
    monkeypatch.setenv("RNNLAB_PROGRESS", "0")
    with progress.task("parsing", total=50) as advance:
        advance(50)
    assert capsys.readouterr().err == ""


@pytest.mark.timeout(300)
def test_training_on_a_terminal_shows_bars_with_eta(amazon_file, tmp_path):
    """Forced bar mode (as on a terminal): rich draws epoch and batch bars, and Keras' own bar stays off."""
    code = ("from rnnlab.training.engine import train; "
            "train('lstm', dataset='amazon', limit=200, epochs=2, vocab_size=1000, maxlen=32)")
    env = {**__import__("os").environ, "RNNLAB_PROGRESS": "1", "COLUMNS": "150"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "epochs" in done.stderr and "ETA" in done.stderr and "2/2" in done.stderr
    assert "Epoch 1/2" not in done.stdout  # Keras' per-epoch lines are replaced, not doubled


@pytest.mark.parametrize(("args", "uri"), [
    (["--mlflow"], "./mlruns"),                                   # alone, last
    (["--mlflow", "--seed", "1"], "./mlruns"),                    # alone, before another option
    (["--mlflow", "http://127.0.0.1:5000"], "http://127.0.0.1:5000"),
    (["--mlflow=runs/tracking"], "runs/tracking"),
    ([], None),
])
def test_mlflow_option_alone_means_mlruns(args, uri):
    import typer.main

    root = typer.main.get_command(app)
    parent = root.context_class(root, info_name="rnnlab")
    command = root.get_command(parent, "train")
    with command.make_context("train", ["auto", "--dataset", "reviews.csv", *args], parent=parent) as context:
        assert context.params["mlflow"] == uri and context.params["dataset"] == "reviews.csv"


@pytest.mark.timeout(300)
def test_mlflow_alone_logs_to_mlruns_in_the_working_folder(amazon_file, tmp_path, monkeypatch):
    import mlflow  # a dev dependency, heavy to import: loaded by the tests that use it
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["train", "lstm", "--dataset", str(amazon_file), "--limit", "200", "--epochs", "1",
                                      "--vocab-size", "1000", "--maxlen", "32", "--mlflow", "--json"])
    assert result.exit_code == 0, (result.output[-2000:], result.exception)
    run_id = json.loads(result.stdout)["mlflow_run"]
    client = mlflow.tracking.MlflowClient(tracking_uri=(tmp_path / "mlruns").as_uri())
    assert client.get_run(run_id).data.params["model.cell"] == "lstm"
