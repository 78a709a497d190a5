"""Scale-out: where runs go, sweeps as Ray tasks surviving a lost node, data-parallel training.

Everything that starts Ray runs in a private network namespace (``unshare -n`` with ``lo`` up),
where Ray can only bind 127.0.0.1: see `raytools.isolated`. `rnnlab tune` is tested in
test_tune.py, batch prediction in test_batch_predict.py.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from raytools import HERE, isolated, result_line
from typer.testing import CliRunner

from rnnlab.cli import app
from rnnlab.errors import InvalidInputError, RnnlabError
from rnnlab.training.cluster import Placement, thread_environment

runner = CliRunner()


# ------------------------------------------------------------ where runs go
def test_placement_runs_here_unless_asked_for_ray():
    assert not Placement.choose().on_ray and not Placement.choose(workers=1).on_ray
    local = Placement.choose(workers=2)
    assert local.on_ray and local.address is None and local.cpus_per_run == max(1, (os.cpu_count() or 1) // 2)
    assert "Ray on this machine, 2 at a time" in local.describe()
    assert Placement.choose(cpus_per_run=1).on_ray and Placement.choose(gpus_per_run=0.5).on_ray
    remote = Placement.choose(address="10.0.0.1:6379")
    assert remote.on_ray and remote.workers is None and remote.cpus_per_run == 1
    assert "as many at a time as fit" in remote.describe()
    with pytest.raises(InvalidInputError, match="more than this machine"):
        Placement.choose(cpus_per_run=(os.cpu_count() or 1) + 1)
    with pytest.raises(InvalidInputError, match="cpus-per-run"):
        Placement.choose(cpus_per_run=0)
    with pytest.raises(RnnlabError, match="workers"):
        Placement.choose(workers=0)
    one = thread_environment(1)
    assert one["OMP_NUM_THREADS"] == "1" and one["XLA_FLAGS"].endswith("--xla_cpu_multi_thread_eigen=false")
    assert "XLA_FLAGS" not in thread_environment(4) and thread_environment(4)["RNNLAB_WORKER_THREADS"] == "4"


def test_sweep_options_are_checked_before_anything_runs(tmp_path):
    result = runner.invoke(app, ["experiment", "arrangements", "--cpus-per-run", "999", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "more than this machine" in result.output
    assert not (tmp_path / "x").exists()
    result = runner.invoke(app, ["experiment", "run", "imdb-fast", "--workers", "2"])
    assert result.exit_code == 2 and "--workers" in result.output and "sweeps only" in result.output


# -------------------------------------------------------- a node lost on Ray
@pytest.mark.slow
@pytest.mark.timeout(420)
def test_sweep_on_a_two_node_cluster_survives_losing_the_worker_node(tmp_path, imdb_archive):
    """4 runs on two 1-CPU nodes; the worker node is removed while it trains one. Ray reruns that
    run on the head node, and the store holds 4 finished runs, each recorded once."""
    from ray_checks import sweep_config

    from rnnlab.experiments.sweeps.runner import run_experiment
    from rnnlab.experiments.sweeps.store import ExperimentStore

    report = result_line(isolated([sys.executable, str(HERE / "ray_checks.py"), "kill", str(tmp_path / "ray")],
                                  timeout=400))
    assert report["error"] is None and report["busy_at_kill"], report
    assert report["counts"] == {"pending": 0, "running": 0, "done": 4, "failed": 0} and report["ran"] == 4
    with ExperimentStore(tmp_path / "ray", create=False) as store:
        runs = store.runs()
    assert len(runs) == 4 and len({(r.model, r.run_index) for r in runs}) == 4
    assert all(r.attempts == 1 and r.status == "done" for r in runs)  # claimed once, committed once
    # Trained in Ray worker processes: each run's recorded PID is one the driver saw executing
    # `ray::run_task` under a node's raylet (PIDs of the namespace, as is the driver's).
    assert report["task_pids"] and report["driver_pid"] not in report["task_pids"], report
    assert all(r.versions["worker"]["pid"] in report["task_pids"] for r in runs), report
    nodes = {r.versions["worker"]["node"] for r in runs}
    assert nodes <= {report["head_node"], report["worker_node"]}
    # The run cut short finished on the head node: no run was recorded from the lost node after it died.
    assert report["head_node"] in nodes

    # The same run trained in this process, without Ray: the records hold the same things.
    here = run_experiment(sweep_config(), tmp_path / "here", max_runs=1, show_progress=False)
    assert here.where == "this process" and here.counts["done"] == 1
    with ExperimentStore(tmp_path / "here", create=False) as store:
        local = store.runs(status="done")[0]
    remote = next(r for r in runs if (r.model, r.run_index) == (local.model, local.run_index))
    filled = lambda r: {k for k, v in vars(r).items() if v is not None and k not in ("started", "finished")}  # noqa: E731
    assert filled(local) == filled(remote)
    assert set(local.history) == set(remote.history) and len(local.history["loss"]) == len(remote.history["loss"])
    assert local.spec == remote.spec and local.params == remote.params
    for r in (local, remote):  # the accuracy recorded is the one its confusion matrix gives
        matrix = np.asarray(r.confusion_matrix)
        assert matrix.sum() == r.test["examples"] > 0
        assert r.test_accuracy == pytest.approx(np.trace(matrix) / matrix.sum())
    assert local.init_weights_hash == remote.init_weights_hash  # same seeds, same starting weights


# ------------------------------------------------------------ data-parallel
DATA_PARALLEL = """
import json, os
os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
import numpy as np
from rnnlab.models import ModelSpec, Recipe
from rnnlab.training import TrainingConfig
from rnnlab.training.engine import fit, prepare_for
import jax
spec = ModelSpec(name="dp", vocab_size=2000, maxlen=60, embedding_dim=16, cell="gru", units=8)
data = prepare_for(spec, Recipe(dataset="imdb", validation_split=0.2), seed=0, limit=800)
runs = {d: fit(spec, data, TrainingConfig(epochs=2, batch_size=32, seed=3, distribution=d), verbose=0)
        for d in (None, "data_parallel")}
one, two = runs[None], runs["data_parallel"]
diff = max(float(np.abs(np.asarray(a) - np.asarray(b)).max()) for a, b in zip(one.model.get_weights(),
                                                                               two.model.get_weights()))
print("RESULT " + json.dumps({"devices": len(jax.devices()), "diff": diff, "loss": [one.history["loss"],
      two.history["loss"]], "test": [one.test["accuracy"], two.test["accuracy"]]}))
"""


@pytest.mark.timeout(300)
def test_data_parallel_on_two_cpu_devices_matches_one_device():
    if os.environ.get("KERAS_BACKEND", "jax") != "jax":
        pytest.skip("data-parallel training runs on JAX")
    process = subprocess.run([sys.executable, "-c", DATA_PARALLEL], capture_output=True, text=True, timeout=280)
    report = result_line(process)
    assert report["devices"] == 2
    assert report["diff"] < 1e-4, report
    assert np.allclose(report["loss"][0], report["loss"][1], atol=1e-4)
    assert report["test"][0] == pytest.approx(report["test"][1], abs=0.01)


def test_data_parallel_settings_are_checked():
    from rnnlab.training import TrainingConfig

    with pytest.raises(InvalidInputError, match="distribution must be one of"):
        TrainingConfig(distribution="model_parallel")
    assert TrainingConfig(distribution="data_parallel").to_dict()["distribution"] == "data_parallel"
