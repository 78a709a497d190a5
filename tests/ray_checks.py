"""Ray checks run by tests/test_scale_out.py in a private network namespace (Ray binds 127.0.0.1 there).

    python tests/ray_checks.py kill OUT      a 4-run sweep on a 2-node cluster; the worker node is
                                             removed while it trains a run
    python tests/ray_checks.py local OUT     the same sweep on Ray started by the sweep itself
    python tests/ray_checks.py predict BUNDLE INPUT OUTPUT
                                             batch prediction with Ray Data on a 2-node cluster

Each prints one JSON line (prefixed ``RESULT``) for the test to read.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time

CLUSTERS: list = []
TINY = {"vocab_size": 1000, "maxlen": 40, "embedding_dim": 8, "units": 8, "optimizer": "adam"}


def sweep_config():
    from rnnlab.experiments.sweeps.config import ExperimentConfig

    models = [{"name": "tiny_gru", "cell": "gru", **TINY}, {"name": "tiny_lstm", "cell": "lstm", **TINY}]
    return ExperimentConfig(name="ray-check", models=models, runs=2, data={"limit": 400, "length_rule": "truncate"},
                            training={"epochs": 3, "batch_size": 16}, baseline=False)


def two_nodes(cpus: int = 1):
    import ray
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": cpus, "include_dashboard": False})
    worker = cluster.add_node(num_cpus=cpus)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False)
    CLUSTERS.append(cluster)
    return cluster, worker


def task_processes(node, name: str) -> list:
    """The worker processes of `node` executing the task `name` now (Ray titles them ``ray::NAME``)."""
    import psutil

    try:
        raylet = psutil.Process(node.all_processes["raylet"][0].process.pid)
        children = raylet.children(recursive=True)
    except (psutil.Error, KeyError, IndexError):  # the node is gone
        return []
    found = []
    for child in children:
        try:
            if f"ray::{name}" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.Error:
            continue
    return found


def cpu_seconds(process) -> float:
    import psutil

    try:
        times = process.cpu_times()
    except psutil.Error:
        return 0.0
    return times.user + times.system


def watch_tasks(nodes, name: str, pids: set, stop: threading.Event) -> None:
    """Add to `pids` every process seen executing the task `name` on `nodes`, until `stop` is set."""
    while not stop.is_set():
        for node in nodes:
            pids.update(process.pid for process in task_processes(node, name))
        stop.wait(0.1)  # a run takes seconds: none is missed


def kill(out: str) -> dict:
    from rnnlab.experiments.sweeps.runner import run_experiment

    cluster, worker = two_nodes()
    worker_id, head_id = worker.node_id, cluster.head_node.node_id
    outcome: dict = {}

    def sweep():
        try:
            outcome["summary"] = run_experiment(sweep_config(), out, address=cluster.address, workers=2,
                                                cpus_per_run=1, show_progress=False)
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            outcome["error"] = repr(exc)

    task_pids: set = set()
    stop = threading.Event()
    watcher = threading.Thread(target=watch_tasks, args=([cluster.head_node, worker], "run_task", task_pids, stop))
    watcher.start()
    thread = threading.Thread(target=sweep)
    started = time.monotonic()
    thread.start()
    deadline = started + 120
    running = []
    while time.monotonic() < deadline and not running:
        running = task_processes(worker, "run_task")
        time.sleep(0.1)
    seen_busy = bool(running)
    # Well into its data preparation and training: the task has spent a second of CPU time. (CPU
    # time, not a wall-clock pause, which a loaded machine could spend before the task even runs.)
    first = cpu_seconds(running[0]) if running else 0.0
    while (running and time.monotonic() < deadline and cpu_seconds(running[0]) - first < 1.0
           and task_processes(worker, "run_task")):
        time.sleep(0.1)
    task_cpu = round(cpu_seconds(running[0]) - first, 2) if running else None
    still_busy = bool(task_processes(worker, "run_task"))
    killed_at = time.monotonic() - started
    cluster.remove_node(worker)
    thread.join(timeout=300)
    stop.set()
    watcher.join(timeout=30)
    summary = outcome.get("summary")
    return {"error": outcome.get("error"), "seen_busy": seen_busy, "busy_at_kill": still_busy,
            "task_cpu_before_kill_s": task_cpu, "killed_at_s": round(killed_at, 1), "worker_node": worker_id,
            "head_node": head_id, "driver_pid": os.getpid(), "task_pids": sorted(task_pids),
            "counts": summary.counts if summary else None, "ran": summary.ran if summary else None,
            "where": summary.where if summary else None}


def local(out: str) -> dict:
    from rnnlab.experiments.sweeps.runner import run_experiment

    summary = run_experiment(sweep_config(), out, workers=2, show_progress=False)
    return {"counts": summary.counts, "ran": summary.ran, "where": summary.where}


def predict(bundle: str, input_path: str, output: str) -> dict:
    from rnnlab.inference.batch import predict_file_on_ray

    cluster, _ = two_nodes(cpus=2)  # two model copies, and CPUs left for reading the input
    stats = predict_file_on_ray(bundle, input_path, output, address=cluster.address, workers=2, chunk=64)
    return stats


if __name__ == "__main__":
    from raytools import install_ray_guard

    install_ray_guard()  # Ray binds 127.0.0.1 of `isolated`'s namespace, never the host's network
    command, *args = sys.argv[1:]
    result = {"kill": kill, "local": local, "predict": predict}[command](*args)
    print("RESULT " + json.dumps(result, default=str), flush=True)
    import ray

    ray.shutdown()
    if CLUSTERS:
        CLUSTERS[0].shutdown()  # every process of the test cluster, agents included
    sys.stderr.flush()
    os._exit(0)  # done and torn down; skip the interpreter's own exit hooks
