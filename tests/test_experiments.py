"""Experiments: config, store, resumable sweeps on real IMDB subsets, statistics and reports."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest

from rnnlab.errors import InvalidInputError, RnnlabError
from rnnlab.experiments.sweeps.config import ExperimentConfig, load_config
from rnnlab.experiments.sweeps.presets import arrangements, textbook
from rnnlab.experiments.reports.stats import bootstrap_difference_ci, bootstrap_mean_ci, compare
from rnnlab.experiments.sweeps.store import ExperimentMismatchError, ExperimentStore, process_token

# Tiny recurrent models: they compile and train in about a second on a few hundred reviews.
TINY = {"vocab_size": 1000, "maxlen": 40, "embedding_dim": 8, "units": 8, "optimizer": "adam"}
SMALL_DATA = {"limit": 300, "length_rule": "truncate"}


def tiny_config(*models, runs=2, epochs=1, **fields) -> ExperimentConfig:
    specs = [{"name": name, "cell": "gru" if "gru" in name else "lstm", **TINY, **extra} for name, extra in models]
    return ExperimentConfig(name="tiny", models=specs, runs=runs, data=dict(SMALL_DATA),
                            training={"epochs": epochs, "batch_size": 32}, **fields)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory, imdb_archive):
    """tiny_lstm and tiny_gru, plus a spec Keras rejects at build time, 2 runs each."""
    from rnnlab.experiments.sweeps.runner import run_experiment

    out = tmp_path_factory.mktemp("experiments") / "sweep"
    config = tiny_config(("tiny_lstm", {}), ("tiny_gru", {}), ("broken", {"rnn_options": {"no_such_option": 1}}))
    summary = run_experiment(config, out, show_progress=False)
    return out, summary


# --------------------------------------------------------------------- config
def test_config_files_round_trip(tmp_path):
    toml = tmp_path / "study.toml"
    toml.write_text('models = ["SS_RSF_LSTM", "SS_RST_LSTM"]\nruns = 3\n\n[data]\nlimit = 500\n\n'
                    '[training]\nepochs = 1\n', encoding="utf-8")
    config = load_config(toml)
    assert config.name == "study" and config.runs == 3 and config.data == {"limit": 500}
    as_json = tmp_path / "study.json"
    as_json.write_text(config.to_json(), encoding="utf-8")
    assert load_config(as_json) == config
    assert load_config(toml, runs=5, epochs=2).training == {"epochs": 2}

    bad = tmp_path / "bad.toml"
    bad.write_text('models = ["SS_RSF_LSTM"]\nrnus = 3\n', encoding="utf-8")
    with pytest.raises(InvalidInputError, match="rnus"):
        load_config(bad)
    with pytest.raises(RnnlabError, match="Did you mean"):
        ExperimentConfig(models=["SS_RSF_LSTN"])


def test_seeds_same_init_per_model_and_shared_data_order():
    plan = arrangements(runs=3).plan()
    assert len(plan) == 36
    by_model = {}
    for p in plan:
        by_model.setdefault(p.model, []).append(p)
    assert all(len({p.init_seed for p in runs}) == 1 for runs in by_model.values())
    assert len({runs[0].init_seed for runs in by_model.values()}) == 12
    # run i of every model uses the same data seed, so accuracies pair up by run index
    assert {(p.run_index, p.data_seed) for p in plan} == {(0, 0), (1, 1), (2, 2)}
    varied = arrangements(runs=3, vary_init=True).plan()
    assert len({p.init_seed for p in varied if p.model == "SS_RSF_LSTM"}) == 3
    assert textbook().runs == 3 and textbook().vary_init


# ---------------------------------------------------------------------- store
def test_store_round_trip(tmp_path):
    config = tiny_config(("a", {}), ("b", {}))
    store = ExperimentStore(tmp_path)
    store.initialise(config)
    store.add_planned(config.plan(), {m: ({"name": m}, {"epochs": 1}) for m in config.model_names})
    store.add_planned(config.plan(), {m: ({"name": m}, {"epochs": 1}) for m in config.model_names})
    assert store.counts() == {"pending": 4, "running": 0, "done": 0, "failed": 0}

    me = process_token()
    assert store.claim("a", 0, me) and not store.claim("a", 0, me)
    assert not store.record_done("a", 0, "somebody-else:1:1", test_accuracy=0.5)
    history = {"loss": [0.69, 0.5], "val_accuracy": [0.6, 0.7]}
    assert store.record_done("a", 0, me, history=history, test_accuracy=0.75, confusion_matrix=[[3, 1], [1, 3]],
                             params=123, train_seconds=1.5, init_weights_hash="abc", versions={"keras": "3"})
    assert store.claim("b", 0, me) and store.record_failed("b", 0, me, "Traceback...\nValueError: boom")
    store.close()

    with ExperimentStore(tmp_path, create=False) as again:
        assert again.config() == config
        runs = {(r.model, r.run_index): r for r in again.runs()}
        done = runs[("a", 0)]
        assert (done.status, done.history, done.test_accuracy, done.confusion_matrix, done.params) == (
            "done", history, 0.75, [[3, 1], [1, 3]], 123)
        assert done.spec == {"name": "a"} and done.versions == {"keras": "3"} and done.attempts == 1
        assert done.started and done.finished
        assert runs[("b", 0)].status == "failed" and "boom" in runs[("b", 0)].error
        with pytest.raises(ExperimentMismatchError, match="runs: 2 -> 3"):
            again.initialise(tiny_config(("a", {}), ("b", {}), runs=3))
    with pytest.raises(RnnlabError, match="holds no experiment"):
        ExperimentStore(tmp_path / "nothing", create=False)


def test_dead_owner_runs_are_reclaimed(tmp_path):
    config = tiny_config(("a", {}), runs=1)
    with ExperimentStore(tmp_path) as store:
        store.initialise(config)
        store.add_planned(config.plan(), {"a": ({}, {})})
        store.claim("a", 0, process_token(2**22 + 12345))  # a pid that is not running
        assert store.reclaim_abandoned() == [("a", 0)]
        store.claim("a", 0, process_token())  # this process: alive, so kept
        assert store.reclaim_abandoned() == []


# ---------------------------------------------------------------- real sweeps
def test_failing_run_is_recorded_and_the_sweep_goes_on(sweep):
    out, summary = sweep
    assert summary.counts == {"pending": 0, "running": 0, "done": 4, "failed": 2}
    with ExperimentStore(out, create=False) as store:
        runs = store.runs()
    failed = [r for r in runs if r.status == "failed"]
    assert {r.model for r in failed} == {"broken"} and all("no_such_option" in r.error for r in failed)
    done = [r for r in runs if r.status == "done"]
    for r in done:
        assert r.params > 0 and len(r.history["loss"]) == 1
        assert np.sum(r.confusion_matrix) == r.test["examples"] and r.backend and r.versions["keras"]
        # the accuracy recorded is the one its confusion matrix gives
        assert r.test_accuracy == pytest.approx(np.trace(r.confusion_matrix) / np.sum(r.confusion_matrix))
        assert r.data["train_examples"] == 240 and r.spec["name"] == r.model


def test_runs_of_a_model_share_initial_weights_unless_varied(sweep, tmp_path):
    from rnnlab.experiments.sweeps.runner import run_experiment

    out, _ = sweep
    with ExperimentStore(out, create=False) as store:
        hashes = {(r.model, r.run_index): r.init_weights_hash for r in store.runs(status="done")}
        assert hashes[("tiny_lstm", 0)] == hashes[("tiny_lstm", 1)]
        assert hashes[("tiny_gru", 0)] == hashes[("tiny_gru", 1)]
        accuracies = {(r.model, r.run_index): r.history["loss"][0] for r in store.runs(status="done")}
        assert accuracies[("tiny_lstm", 0)] != accuracies[("tiny_lstm", 1)]  # different split and order

    varied = tiny_config(("tiny_lstm", {}), vary_init=True, baseline=False)
    run_experiment(varied, tmp_path / "varied", show_progress=False)
    with ExperimentStore(tmp_path / "varied", create=False) as store:
        first, second = (r.init_weights_hash for r in store.runs(status="done"))
    assert first != second


def test_rerun_skips_finished_runs_and_refuses_another_config(sweep):
    from rnnlab.experiments.sweeps.runner import run_experiment

    out, _ = sweep
    config = tiny_config(("tiny_lstm", {}), ("tiny_gru", {}), ("broken", {"rnn_options": {"no_such_option": 1}}))
    again = run_experiment(config, out, show_progress=False)
    assert again.ran == 0 and again.counts["done"] == 4
    with pytest.raises(ExperimentMismatchError, match="epochs"):
        run_experiment(tiny_config(("tiny_lstm", {}), ("tiny_gru", {}), ("broken", {}), epochs=2),
                       out, show_progress=False)


def test_kill_9_mid_sweep_then_resume(tmp_path, imdb_archive):
    from rnnlab.experiments.reports.report import write_report
    from rnnlab.experiments.sweeps.runner import run_experiment

    config = tiny_config(("tiny_lstm", {}), ("tiny_gru", {}))
    path = tmp_path / "sweep.json"
    path.write_text(config.to_json(), encoding="utf-8")
    out = tmp_path / "out"
    log = (tmp_path / "sweep.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "rnnlab", "experiment", "run", str(path), "--out", str(out),
                                "--no-report"], stdout=log, stderr=subprocess.STDOUT)
    done_before = {}
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and process.poll() is None:
            if (out / "experiment.sqlite").exists():
                try:
                    with sqlite3.connect(out / "experiment.sqlite", timeout=30) as db:
                        rows = db.execute(
                            "SELECT model, run_index, finished FROM runs WHERE status = 'done'").fetchall()
                except sqlite3.OperationalError:  # the file can exist before its tables do
                    rows = []
                if rows:
                    done_before = {(m, i): f for m, i, f in rows}
                    break
            time.sleep(0.1)
        assert process.poll() is None, (tmp_path / "sweep.log").read_text()[-2000:]
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
        log.close()
    assert done_before

    with ExperimentStore(out, create=False) as store:
        counts = store.counts()
        running_at_kill = [(r.model, r.run_index) for r in store.runs(status="running")]
        assert counts["done"] >= len(done_before) and counts["done"] < 4
        assert counts["failed"] == 0 and sum(counts.values()) == 4
    # A report on the interrupted experiment shows what is missing.
    paths = write_report(out)
    assert "interrupted" in paths["markdown"].read_text() or "pending" in paths["markdown"].read_text()

    summary = run_experiment(load_config(path), out, show_progress=False)
    assert summary.counts == {"pending": 0, "running": 0, "done": 4, "failed": 0}
    assert summary.reclaimed == running_at_kill  # the run the kill cut short is redone
    with ExperimentStore(out, create=False) as store:
        runs = store.runs()
    assert sorted((r.model, r.run_index) for r in runs) == sorted({(r.model, r.run_index) for r in runs})
    assert len(runs) == 4
    for r in runs:
        if (r.model, r.run_index) in done_before:  # finished before the kill: kept, not redone
            assert r.finished == done_before[(r.model, r.run_index)] and r.attempts == 1


# ---------------------------------------------------------------- statistics
def test_bootstrap_interval_known_answers():
    left = np.array([0.80, 0.82, 0.79, 0.85, 0.81])
    low, high = bootstrap_difference_ci(left, left + 0.02, paired=True)
    assert low == pytest.approx(0.02) and high == pytest.approx(0.02)
    assert bootstrap_mean_ci([0.5] * 4) == (0.5, 0.5)
    symmetric = np.array([-0.03, 0.03, -0.01, 0.01, -0.02, 0.02])
    low, high = bootstrap_mean_ci(symmetric)
    assert low < 0 < high and low == pytest.approx(-high, abs=0.006)
    low, high = bootstrap_difference_ci([0.8, 0.81, 0.79], [0.9, 0.91, 0.89, 0.9], paired=False)
    assert 0.08 < low < high < 0.12


def test_compare_verdicts_and_pairing():
    left = {0: 0.80, 1: 0.82, 2: 0.79, 3: 0.85, 4: 0.81}
    better = compare("a", left, "b", {k: v + 0.02 for k, v in left.items()})
    assert better.paired and better.wins == 5 and better.verdict == "right better"
    assert "b is better than a" in better.sentence()
    noise = compare("a", left, "b", {k: v + d for (k, v), d in zip(left.items(), [-0.01, 0.01, -0.02, 0.02, 0])})
    assert noise.verdict == "not distinguishable" and "not distinguishable" in noise.sentence()
    unpaired = compare("a", left, "b", {0: 0.7, 1: 0.71, 2: 0.69})
    assert not unpaired.paired and unpaired.wins is None and unpaired.verdict == "left better"
    assert compare("a", left, "b", {0: 0.9}).verdict == "too few runs"


# -------------------------------------------------------------------- reports
REPORT_FILES = ("report.md", "report.html", "results.csv", "results.json", "accuracy_boxplot.png",
                "training_curves.png")


def test_report_for_a_sweep_with_failed_runs(sweep):
    from rnnlab.experiments.reports.report import write_report

    out, _ = sweep
    paths = write_report(out)
    for name in REPORT_FILES:
        assert (out / name).stat().st_size > 0
    markdown = paths["markdown"].read_text()
    assert "4 of 6 runs done (partial); 2 failed" in markdown and "broken run 1: failed" in markdown
    assert "TF-IDF + logistic regression" in markdown
    results = json.loads(paths["json"].read_text())
    assert len(results["baselines"]) == 2 and results["baselines"][0]["test_examples"] == 300
    assert [m["done"] for m in results["models"]] == [2, 2, 0]
    assert paths["csv"].read_text().count("\n") == 7


def _fake_study(directory, accuracies: dict[str, list[float | None]]):
    """An arrangements experiment with given test accuracies (None: run not done), no training."""
    config = arrangements(runs=3, baseline=False)
    with ExperimentStore(directory) as store:
        store.initialise(config)
        store.add_planned(config.plan(), {m: ({"name": m}, {}) for m in config.model_names})
        me = process_token()
        for model, values in accuracies.items():
            for index, value in enumerate(values):
                if value is None:
                    continue
                store.claim(model, index, me)
                store.record_done(model, index, me, test_accuracy=value, params=1000, train_seconds=10.0,
                                  history={"loss": [0.6, 0.4], "val_accuracy": [value - 0.02, value]})
    return config


def test_report_answers_the_study_questions(tmp_path):
    from rnnlab.cli.experiment import experiment_app
    from rnnlab.experiments.reports.study import QUESTIONS
    from typer.testing import CliRunner

    base = [0.80, 0.82, 0.78]
    accuracies = {m: list(base) for m in arrangements().model_names}
    for m in ("SS_RST_LSTM", "SS_RST_GRU", "MS_RST_GRU", "MS_RST_biGRU"):  # Q1: RST better in 4 of 6
        accuracies[m] = [a + 0.02 for a in base]
    accuracies["MS_RST_LSTM"] = [a + 0.05 for a in base]  # best, 5 points over MS_RSF_LSTM
    accuracies["MS_RST_biLSTM"] = [0.79, 0.83, None]  # partial: unpaired with its twins
    _fake_study(tmp_path, accuracies)

    result = CliRunner().invoke(experiment_app, ["report", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for name in (*REPORT_FILES, "differences_heatmap.png"):
        assert (tmp_path / name).exists()
    results = json.loads((tmp_path / "results.json").read_text())
    questions = {q["key"]: q for q in results["questions"]}
    assert [len(questions[q.key]["comparisons"]) for q in QUESTIONS] == [6, 4, 4]
    q1 = {(c["left"], c["right"]): c for c in questions["Q1"]["comparisons"]}
    assert q1[("SS_RSF_LSTM", "SS_RST_LSTM")]["mean_difference"] == pytest.approx(0.02)
    assert q1[("SS_RSF_LSTM", "SS_RST_LSTM")]["paired"] and q1[("SS_RSF_LSTM", "SS_RST_LSTM")]["wins"] == 3
    assert not q1[("MS_RSF_biLSTM", "MS_RST_biLSTM")]["paired"]
    claims = {c["claim"].split()[0]: c["status"] for c in results["claims"]}
    assert claims["MS_RST_LSTM"] == "holds"
    statuses = [c["status"] for c in results["claims"][1:]]
    assert statuses[0] == "holds"  # 5 of 6 pairs differ (4 + MS LSTM), at least the study's 4
    assert statuses[2] == "does not hold"  # stacked better only where MS_RST_LSTM is involved
    markdown = (tmp_path / "report.md").read_text()
    assert "not distinguishable" in markdown and "2/3 (1 pending)" in markdown
    assert results["counts"] == {"done": 35, "pending": 1}


def test_textbook_report_table(tmp_path):
    from rnnlab.experiments.reports.report import write_report

    config = textbook(runs=2, baseline=False)
    with ExperimentStore(tmp_path) as store:
        store.initialise(config)
        store.add_planned(config.plan(), {m: ({}, {}) for m in config.model_names})
        me = process_token()
        for p in config.plan():
            store.claim(p.model, p.run_index, me)
            store.record_done(p.model, p.run_index, me, test_accuracy=0.85 + 0.01 * p.run_index, params=1,
                              train_seconds=3.0, history={"loss": [0.5]})
    markdown = write_report(tmp_path)["markdown"].read_text()
    assert "Comparison with the published accuracies" in markdown
    assert "| lstm | 1 | 3.0 | 85.50 ± 0.71 (n=2) | 87.03 | -1.53 |" in markdown
    assert "The study's questions" not in markdown


def test_cli_errors_are_user_errors(tmp_path):
    from rnnlab.cli.experiment import experiment_app
    from typer.testing import CliRunner

    # Every command, whichever app runs it, turns an input error into one line and exit status 2.
    runner = CliRunner()
    result = runner.invoke(experiment_app, ["run", str(tmp_path / "missing.toml")])
    assert result.exit_code == 2 and "missing.toml" in result.output and "Traceback" not in result.output
    result = runner.invoke(experiment_app, ["report", str(tmp_path)])
    assert result.exit_code == 2 and "holds no experiment" in result.output
    result = runner.invoke(experiment_app, ["arrangements", "--models", "SS_RSF_LSTN", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "SS_RSF_LSTM" in result.output


def test_example_configs_match_the_presets():
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "configs"
    assert load_config(folder / "arrangements.toml") == arrangements()
    assert load_config(folder / "textbook.json") == textbook()
    assert load_config(folder / "quick-gru-vs-lstm.toml").model_names[-1] == "SS_RST_simple"


def test_preset_commands_run_their_preset(tmp_path, imdb_archive):
    from typer.testing import CliRunner

    from rnnlab.cli import app

    result = CliRunner().invoke(app, ["experiment", "textbook", "--models", "rnn", "--runs", "1", "--epochs", "1",
                                      "--limit", "300", "--out", str(tmp_path), "--no-report"])
    assert result.exit_code == 0, result.output
    assert "1 of 1 runs done" in result.output
    assert (tmp_path / "experiment.sqlite").is_file()
