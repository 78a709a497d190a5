"""Run an experiment's pending runs: one after another in this process, or as Ray tasks.

This process (the driver) is the only writer of the store: it claims a run before the run
starts and commits it when the result comes back, so the sweep can be stopped at any point
and resumed by running it again (finished runs are skipped, unfinished ones redone). On Ray,
each run is a task with its own CPU (or GPU) allowance; a task whose worker process or node
dies is retried elsewhere by Ray, and its result still reaches the store once. A run that
raises is recorded as failed and the sweep goes on; a missing dataset stops it, since every
run would fail alike.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rnnlab._backend import backend_name
from rnnlab.errors import RnnlabError
from rnnlab.training import cluster
from rnnlab.experiments.recipes.baseline import tfidf_baseline
from rnnlab.experiments.sweeps.callbacks import InitialWeightsFingerprint, ProgressReporter
from rnnlab.experiments.sweeps.config import ExperimentConfig, PlannedRun
from rnnlab.experiments.sweeps.datasets import DataCache, DataRequest
from rnnlab.experiments.sweeps.display import SweepDisplay
from rnnlab.experiments.sweeps.store import ExperimentStore, process_token
from rnnlab.environment import versions
from rnnlab.training.engine import config_from_recipe, fit

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
    where: str = "this process"

    @property
    def complete(self) -> bool:
        return self.counts["done"] + self.counts["failed"] == self.total


def run_experiment(config: ExperimentConfig, out: str | Path, *, workers: int | None = None,
                   cpus_per_run: float | None = None, gpus_per_run: float = 0, address: str | None = None,
                   retry_failed: bool = False, max_runs: int | None = None, console=None,
                   show_progress: bool | None = None, cache: DataCache | None = None) -> SweepSummary:
    """Run every pending run of `config`, recording results in `out/experiment.sqlite`.

    Args:
        config: the experiment. A folder that holds another config is refused.
        out: the experiment folder (created if needed).
        workers: runs in flight at once. 1 (the default without a cluster) trains in this
            process, without Ray; more runs them as Ray tasks. With an `address`, the default
            is as many as the cluster's resources fit.
        cpus_per_run: CPUs Ray reserves for each run (its backend's thread count too).
            Defaults to this machine's cores shared among `workers`, or 1 on a cluster.
        gpus_per_run: GPUs Ray reserves for each run (fractions share one). Defaults to 0.
        address: a running Ray cluster (``HOST:PORT``, or ``"auto"``) to submit the runs to;
            None starts Ray on this machine when it is needed.
        retry_failed: run failed runs again. Defaults to False (they stay recorded as failed).
        max_runs: stop after starting this many runs (the rest stay pending). Defaults to all.
        console: no longer used: progress is drawn on stderr by `rnnlab.progress`.
        show_progress: force bars on or off (default: on a terminal).
        cache: encoded data to reuse between calls in one process.

    Example:

    >>> from rnnlab.experiments.sweeps.presets import arrangements
    >>> run_experiment(arrangements(models=["SS_RSF_GRU"], runs=2, epochs=1, limit=1000), "experiments/quick")
    """

    plan = cluster.Placement.choose(workers=workers, cpus_per_run=cpus_per_run, gpus_per_run=gpus_per_run,
                                    address=address)
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
        summary = SweepSummary(Path(out), len(plans), counts, reclaimed=reclaimed, held_elsewhere=held,
                               where=plan.describe())
        cache = cache or DataCache()
        display = SweepDisplay(len(plans), counts["done"] + counts["failed"], enabled=show_progress)
        with display:
            if plan.on_ray and todo:
                outcomes = _run_on_ray(store, config, todo, display, plan)
            else:
                outcomes = _run_here(store, cache, config, todo, display)
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
    """Claim, train and record one run in this process; returns a small outcome dict for the display."""
    owner = process_token()
    if not store.claim(planned.model, planned.run_index, owner):
        return {"model": planned.model, "run_index": planned.run_index, "status": "skipped",
                "reason": "already taken or finished"}
    try:
        result = run_once(config, planned, cache, report)
    except BaseException:
        store.release(planned.model, planned.run_index, owner)
        raise
    return record(store, planned, owner, result)


def run_once(config: ExperimentConfig, planned: PlannedRun, cache: DataCache, report=None) -> tuple[str, object]:
    """Train one run without touching the store: ``("done", values)`` or ``("failed", error text)``.

    A dataset that cannot be loaded raises (every run would fail alike); so does an interrupt.
    """
    spec, recipe = config.spec_and_recipe(planned.model)
    data = cache.prepared(data_request(config, spec, recipe, planned.split_seed))
    try:
        return "done", _train(spec, recipe, data, planned, report)
    except Exception as exc:  # noqa: BLE001  a run's failure is recorded; the sweep goes on
        return "failed", "".join(traceback.format_exception(exc))[-MAX_ERROR_CHARS:]


def record(store: ExperimentStore, planned: PlannedRun, owner: str, result: tuple[str, object]) -> dict:
    """Commit a run's result (from `run_once`) under the claim of `owner`; the outcome for the display."""
    kind, payload = result
    outcome = {"model": planned.model, "run_index": planned.run_index}
    if kind == "failed":
        store.record_failed(planned.model, planned.run_index, owner, payload)
        last = [line for line in payload.strip().splitlines() if line.strip()]
        return {**outcome, "status": "failed", "error": last[-1] if last else "failed"}
    if not store.record_done(planned.model, planned.run_index, owner, **payload):
        return {**outcome, "status": "skipped", "reason": "claim lost while training (not recorded)"}
    return {**outcome, "status": "done", "test_accuracy": payload["test_accuracy"],
            "train_seconds": payload["train_seconds"]}


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
        "versions": {**versions(), "worker": cluster.where_am_i()},
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




# ------------------------------------------------------------------- on Ray
# Each Ray worker process keeps the data it encoded for the runs it trained before.
_WORKER_CACHE: dict[str, DataCache] = {}


def run_task(config: dict, planned: dict) -> tuple[str, object]:
    """The body of one run's Ray task: `run_once` in a worker process, with that process's data cache."""
    cache = _WORKER_CACHE.setdefault("cache", DataCache())
    try:
        return run_once(ExperimentConfig.from_dict(config), PlannedRun(**planned), cache)
    except RnnlabError as exc:
        return "stop", str(exc)


def _run_on_ray(store, config, todo, display, plan: "cluster.Placement") -> list[dict]:
    import ray

    owner = process_token()
    outcomes = []
    waiting = list(todo)
    in_flight: dict = {}
    free_slots: list[int] = []
    with cluster.connect(plan.address, cpus=plan.local_cpus):
        task = plan.task(run_task)
        limit = plan.workers or len(todo)
        try:
            while waiting or in_flight:
                while waiting and len(in_flight) < limit:
                    planned = waiting.pop(0)
                    if not store.claim(planned.model, planned.run_index, owner):
                        outcomes.append({"model": planned.model, "run_index": planned.run_index,
                                         "status": "skipped", "reason": "already taken or finished"})
                        continue
                    slot = free_slots.pop() if free_slots else len(in_flight)
                    in_flight[task.remote(config.to_dict(), asdict(planned))] = (planned, slot)
                    display.run_started(slot, planned.model, planned.run_index, config.runs)
                if not in_flight:
                    break
                ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=1.0)
                for ref in ready:
                    planned, slot = in_flight.pop(ref)
                    free_slots.append(slot)
                    result = cluster.result_of(ref)
                    if result[0] == "stop":
                        store.release(planned.model, planned.run_index, owner)
                        raise RnnlabError(result[1])
                    outcome = record(store, planned, owner, result)
                    display.run_finished(slot, outcome)
                    outcomes.append(outcome)
        finally:
            for ref, (planned, _) in in_flight.items():
                ray.cancel(ref, force=True)
                store.release(planned.model, planned.run_index, owner)
    return outcomes
