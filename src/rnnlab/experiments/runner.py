"""Run an experiment's pending runs, in this process or a pool of worker processes.

Every run is claimed, trained and committed on its own (see `store`), so the sweep can be
stopped at any point and resumed by running it again. A run that raises is recorded as
failed and the sweep goes on; a missing dataset stops it, since every run would fail alike.
"""

from __future__ import annotations

import os
import queue as queue_module
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from rnnlab._backend import backend_name
from rnnlab.errors import RnnlabError
from rnnlab.experiments.baseline import tfidf_baseline
from rnnlab.experiments.callbacks import InitialWeightsFingerprint, ProgressReporter
from rnnlab.experiments.config import ExperimentConfig, PlannedRun
from rnnlab.experiments.datasets import DataCache, DataRequest
from rnnlab.experiments.progress import SweepDisplay
from rnnlab.experiments.store import ExperimentStore, process_token
from rnnlab.training.engine import config_from_recipe, fit, versions

MAX_ERROR_CHARS = 4000


@dataclass
class SweepSummary:
    """What a call to `run_experiment` did and where the experiment stands."""

    directory: Path
    total: int
    counts: dict[str, int]
    ran: int = 0
    failed_now: int = 0
    reclaimed: list[tuple[str, int]] = field(default_factory=list)
    held_elsewhere: int = 0
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        return self.counts["done"] + self.counts["failed"] == self.total


def run_experiment(config: ExperimentConfig, out: str | Path, *, workers: int = 1, retry_failed: bool = False,
                   max_runs: int | None = None, console=None, show_progress: bool | None = None,
                   cache: DataCache | None = None) -> SweepSummary:
    """Run every pending run of `config`, recording results in `out/experiment.sqlite`.

    Args:
        config: the experiment. A folder that holds another config is refused.
        out: the experiment folder (created if needed).
        workers: processes training in parallel. Defaults to 1 (this process).
        retry_failed: run failed runs again. Defaults to False (they stay recorded as failed).
        max_runs: stop after starting this many runs (the rest stay pending). Defaults to all.
        console: a rich `Console` for progress; show_progress: force bars on or off.
        cache: encoded data to reuse between calls in one process.

    Example:

    >>> from rnnlab.experiments.presets import arrangements
    >>> run_experiment(arrangements(models=["SS_RSF_GRU"], runs=2, epochs=1, limit=1000), "experiments/quick")
    """

    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise RnnlabError(f"workers must be a positive integer, got {workers!r}.")
    started = time.perf_counter()
    store = ExperimentStore(out)
    try:
        store.initialise(config)
        specs = {}
        for model in config.model_names:
            spec, recipe = config.spec_and_recipe(model)
            specs[model] = (spec.to_dict(), recipe.to_dict())
        plans = config.plan()
        store.add_planned(plans, specs)
        reclaimed = store.reclaim_abandoned(retry_failed=retry_failed)
        status = {(r.model, r.run_index): r.status for r in store.runs()}
        todo = [p for p in plans if status[(p.model, p.run_index)] == "pending"]
        held = sum(1 for p in plans if status[(p.model, p.run_index)] == "running")
        if max_runs is not None:
            todo = todo[:max_runs]
        counts = store.counts()
        summary = SweepSummary(Path(out), len(plans), counts, reclaimed=reclaimed, held_elsewhere=held)
        cache = cache or DataCache()
        display = SweepDisplay(len(plans), counts["done"] + counts["failed"], console=console, enabled=show_progress)
        with display:
            if workers == 1 or len(todo) <= 1:
                outcomes = _run_here(store, cache, config, todo, display)
            else:
                outcomes = _run_in_pool(Path(out), config, todo, min(workers, len(todo)), display)
            if config.baseline:
                ensure_baselines(store, config, cache)
        summary.ran = sum(o["status"] in ("done", "failed") for o in outcomes)
        summary.failed_now = sum(o["status"] == "failed" for o in outcomes)
        summary.counts = store.counts()
        summary.seconds = time.perf_counter() - started
        return summary
    finally:
        store.close()


# ------------------------------------------------------------------ one run
def data_request(config: ExperimentConfig, spec, recipe, split_seed: int) -> DataRequest:
    return DataRequest.for_run(spec, recipe, limit=config.data.get("limit"), sample_seed=config.seed,
                               split_seed=split_seed)


def train_one(store: ExperimentStore, cache: DataCache, config: ExperimentConfig, planned: PlannedRun,
              report=None) -> dict:
    """Claim, train and record one run; returns a small outcome dict for the display."""
    owner = process_token()
    outcome = {"model": planned.model, "run_index": planned.run_index}
    if not store.claim(planned.model, planned.run_index, owner):
        return {**outcome, "status": "skipped", "reason": "already taken or finished"}
    try:
        spec, recipe = config.spec_and_recipe(planned.model)
        data = cache.prepared(data_request(config, spec, recipe, planned.split_seed))
    except BaseException:
        store.release(planned.model, planned.run_index, owner)
        raise
    try:
        values = _train(spec, recipe, data, planned, report)
    except (KeyboardInterrupt, SystemExit):
        store.release(planned.model, planned.run_index, owner)
        raise
    except Exception as exc:  # noqa: BLE001  a run's failure is recorded; the sweep goes on
        error = "".join(traceback.format_exception(exc))[-MAX_ERROR_CHARS:]
        store.record_failed(planned.model, planned.run_index, owner, error)
        return {**outcome, "status": "failed", "error": f"{type(exc).__name__}: {exc}"}
    if not store.record_done(planned.model, planned.run_index, owner, **values):
        return {**outcome, "status": "skipped", "reason": "claim lost while training (not recorded)"}
    return {**outcome, "status": "done", "test_accuracy": values["test_accuracy"],
            "train_seconds": values["train_seconds"]}


def _train(spec, recipe, data, planned: PlannedRun, report) -> dict:
    import keras

    # A long sweep builds hundreds of models; without this, Keras keeps every graph alive.
    keras.backend.clear_session()
    fingerprint = InitialWeightsFingerprint()
    callbacks = [fingerprint] + ([ProgressReporter(report)] if report else [])
    config = config_from_recipe(recipe, seed=planned.data_seed, init_seed=planned.init_seed)
    result = fit(spec, data, config, recipe=recipe, verbose=0, callbacks=callbacks)
    test = result.test or {}
    return {
        "spec": result.spec.to_dict(), "recipe": result.recipe.to_dict(), "history": result.history,
        "test_accuracy": test.get("accuracy"), "confusion_matrix": test.get("confusion_matrix"), "test": test,
        "params": result.params, "train_seconds": round(result.train_seconds, 3),
        "init_weights_hash": fingerprint.fingerprint, "data": result.data_info, "backend": backend_name(),
        "versions": versions(),
    }


def ensure_baselines(store: ExperimentStore, config: ExperimentConfig, cache: DataCache) -> int:
    """Score the text baseline on every data split of the experiment that has none yet."""

    have = store.baselines()
    requests = {}
    for planned in config.plan():
        spec, recipe = config.spec_and_recipe(planned.model)
        request = data_request(config, spec, recipe, planned.split_seed)
        requests.setdefault(request.key, request)
    added = 0
    for key, request in requests.items():
        if key in have:
            continue
        result = tfidf_baseline(cache.split_texts(request))
        store.save_baseline(key, request.split_seed, {**result, "data": request.describe()})
        added += 1
    return added


# ------------------------------------------------------------ in this process
def _run_here(store, cache, config, todo, display) -> list[dict]:
    outcomes = []
    for planned in todo:
        display.run_started(0, planned.model, planned.run_index, config.runs)
        outcome = train_one(store, cache, config, planned, report=lambda u: display.epoch_progress(0, u))
        display.run_finished(0, outcome)
        outcomes.append(outcome)
    return outcomes


# ------------------------------------------------------------------ in a pool
_WORKER: dict = {}


def worker_environment(workers: int, cpus: int | None = None) -> dict[str, str]:
    """Thread settings for one of `workers` processes sharing `cpus` cores.

    Each backend would otherwise start a thread per core in every worker, and the workers
    would spend their time contending for the same cores.
    """
    cpus = cpus or os.cpu_count() or 1
    threads = max(1, cpus // workers)
    env = {name: str(threads) for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    if threads == 1:
        flags = os.environ.get("XLA_FLAGS", "")
        if "xla_cpu_multi_thread_eigen" not in flags:
            env["XLA_FLAGS"] = f"{flags} --xla_cpu_multi_thread_eigen=false".strip()
    env["RNNLAB_WORKER_THREADS"] = str(threads)
    return env


def _init_worker(directory: str, config: dict, env: dict, updates) -> None:
    # Runs before the worker imports Keras (this module imports it lazily), so the thread
    # settings reach the backend when it starts.
    os.environ.update(env)
    if os.environ.get("KERAS_BACKEND") == "torch":
        import torch

        torch.set_num_threads(int(env["RNNLAB_WORKER_THREADS"]))
    _WORKER.update(store=ExperimentStore(directory, create=False), cache=DataCache(),
                   config=ExperimentConfig.from_dict(config), updates=updates)


def _worker_run(planned: PlannedRun) -> dict:
    pid = os.getpid()
    updates = _WORKER["updates"]
    updates.put((pid, "start", {"model": planned.model, "run_index": planned.run_index}))
    outcome = train_one(_WORKER["store"], _WORKER["cache"], _WORKER["config"], planned,
                        report=lambda u: updates.put((pid, "epoch", u)))
    return {**outcome, "slot": pid}


def _run_in_pool(directory: Path, config: ExperimentConfig, todo, workers: int, display) -> list[dict]:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    # spawn: a forked child would inherit this process's initialised backend and threads.
    context = multiprocessing.get_context("spawn")
    updates = context.Queue()
    outcomes = []
    env = worker_environment(workers)
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                             initargs=(str(directory), config.to_dict(), env, updates)) as pool:
        pending = {pool.submit(_worker_run, planned) for planned in todo}
        try:
            while pending:
                finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                _drain(updates, display, config)
                for future in finished:
                    outcome = future.result()
                    display.run_finished(outcome["slot"], outcome)
                    outcomes.append(outcome)
        except BrokenProcessPool as exc:
            raise RnnlabError("A worker process died (out of memory?). Finished runs are saved; run the same "
                              "command again, with fewer --workers, to resume.") from exc
        except BaseException:
            for future in pending:
                future.cancel()
            raise
    return outcomes


def _drain(updates, display, config) -> None:
    while True:
        try:
            slot, kind, payload = updates.get_nowait()
        except queue_module.Empty:
            return
        if kind == "start":
            display.run_started(slot, payload["model"], payload["run_index"], config.runs)
        else:
            display.epoch_progress(slot, payload)
