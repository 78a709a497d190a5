"""Hyperparameter search: Ray Tune trials, Optuna's TPE sampler, ASHA stopping poor trials early.

A search config (``kind = "tune"``) is a recipe config (`rnnlab.experiments.recipes.recipe`) with
two more tables:

* ``[space]``: the fields to search, as ``[space.model]`` (any `ModelSpec` field) and
  ``[space.training]`` (any `TrainingConfig` field) tables, or dotted keys
  (``"model.units"``). Each is ``{choice = [...]}``, ``{uniform = [low, high]}``,
  ``{loguniform = [low, high]}`` or ``{int = [low, high]}`` (both ends included).
* ``[search]``: ``trials`` (default 20), ``time_budget`` (seconds, or "20m", "1h"),
  ``grace_epochs`` (ASHA's minimum epochs before a trial can be stopped, default 1),
  ``reduction_factor`` (default 2), ``cpus_per_trial`` (default 1), ``gpus_per_trial``
  (default 0), ``concurrent`` (trials at once; default as many as the CPUs fit), ``seed``,
  ``metric`` (``"val_accuracy"``, the default for classes, or ``"val_loss"``, the default and
  the only choice for numbers to predict: each trial's best epoch counts).
* ``[run]`` (optional): ``address``, a Ray cluster to run the trials on.

The search reads training rows only: every trial trains on the fit part of the training data
and is scored on the validation rows carved from it; no test data is opened (the test
file, or the dataset's test split, is not even loaded). The best trial's settings are then
written as a ready-to-run recipe config (``best.toml``), trained once more from scratch as a
bundle, and scored on the test split once. Stopped and run again with the same folder, a
search resumes: finished trials are kept, unfinished ones are run again.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from rnnlab.configfile import check_keys, to_toml
from rnnlab.errors import InvalidInputError, RnnlabError
from rnnlab.experiments.kinds import run_config, run_options
from rnnlab.experiments.recipes.recipe import recipe_parts
from rnnlab.files import atomic_path, write_json
from rnnlab.training import cluster

TOP_KEYS = ("kind", "name", "description", "data", "model", "training", "selection", "space", "search", "run")
SEARCH_KEYS = ("trials", "time_budget", "grace_epochs", "reduction_factor", "cpus_per_trial", "gpus_per_trial",
               "concurrent", "seed", "metric")
KINDS = ("choice", "uniform", "loguniform", "int")
METRIC = "val_accuracy"
RAY_FOLDER = "ray"
SEARCH_NAME = "search"


@dataclass(frozen=True)
class Dimension:
    """One searched field: where it goes (``model`` or ``training``), its name and its range."""

    table: str
    name: str
    kind: str
    values: tuple

    @property
    def key(self) -> str:
        return f"{self.table}.{self.name}"

    def ray(self):
        from ray import tune

        if self.kind == "choice":
            return tune.choice(list(self.values))
        low, high = self.values
        return {"uniform": tune.uniform, "loguniform": tune.loguniform, "int": tune.randint}[self.kind](
            low, high + 1 if self.kind == "int" else high)

    def optuna(self):
        import optuna

        if self.kind == "choice":
            return optuna.distributions.CategoricalDistribution(list(self.values))
        low, high = self.values
        if self.kind == "int":
            return optuna.distributions.IntDistribution(int(low), int(high))
        return optuna.distributions.FloatDistribution(float(low), float(high), log=self.kind == "loguniform")


@dataclass
class SearchSettings:
    trials: int = 20
    time_budget: float | None = None
    grace_epochs: int = 1
    reduction_factor: int = 2
    cpus_per_trial: float = 1
    gpus_per_trial: float = 0
    concurrent: int | None = None
    seed: int = 0
    metric: str | None = None  # None: val_accuracy for classes, val_loss for numbers (`run_tune` decides)
    dimensions: list[Dimension] = field(default_factory=list)


def parse_duration(value) -> float | None:
    """Seconds from a number or a string like ``"90s"``, ``"20m"``, ``"1.5h"``; None stays None."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([smh]?)\s*", str(value))
    if not match or float(match.group(1)) <= 0:
        raise InvalidInputError(f"A time budget is a positive number of seconds or like '90s', '20m', '1h'; got "
                                f"{value!r}.")
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


def read_space(space) -> list[Dimension]:
    """The ``[space]`` table as dimensions, each checked against the fields it sets."""
    from rnnlab.models import ModelSpec
    from rnnlab.training import TrainingConfig

    table = check_keys("[space]", space, ("model", "training", *[k for k in (space or {}) if "." in str(k)]))
    flat = {}
    for key, value in table.items():
        if "." in key:
            flat[key] = value
        else:
            for name, spec in check_keys(f"[space.{key}]", value, list(value)).items():
                flat[f"{key}.{name}"] = spec
    fields = {"model": set(ModelSpec.__dataclass_fields__), "training": set(TrainingConfig.__dataclass_fields__)}
    dimensions = []
    for key, spec in flat.items():
        where, _, name = key.partition(".")
        if where not in fields or name not in fields[where] or name in ("name", "seed", "members"):
            known = ", ".join(f"{t}.<field>" for t in fields)
            raise InvalidInputError(f"[space] key {key!r} names no searchable field ({known}; not name, seed or "
                                    "members).")
        if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in KINDS:
            raise InvalidInputError(f"[space] {key} must be one of {{choice = [...]}}, {{uniform = [low, high]}}, "
                                    f"{{loguniform = [low, high]}}, {{int = [low, high]}}; got {spec!r}.")
        kind, values = next(iter(spec.items()))
        if not isinstance(values, list) or not values:
            raise InvalidInputError(f"[space] {key}: {kind} takes a list, got {values!r}.")
        if kind != "choice":
            if len(values) != 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values) \
                    or not values[0] < values[1]:
                raise InvalidInputError(f"[space] {key}: {kind} takes [low, high] numbers with low < high, got "
                                        f"{values!r}.")
            if kind == "loguniform" and values[0] <= 0:
                raise InvalidInputError(f"[space] {key}: loguniform needs low > 0, got {values[0]!r}.")
            if kind == "int" and not all(isinstance(v, int) for v in values):
                raise InvalidInputError(f"[space] {key}: int takes whole numbers, got {values!r}.")
        dimensions.append(Dimension(where, name, kind, tuple(values)))
    if not dimensions:
        raise InvalidInputError("A search config needs a [space] with at least one field to search, e.g. "
                                "[space.model] units = {choice = [32, 64]}.")
    return dimensions


def read_search(config: dict) -> SearchSettings:
    """Check a ``kind = "tune"`` config; its search settings and dimensions."""
    check_keys("a search config", config, TOP_KEYS)
    table = check_keys("[search]", config.get("search", {}), SEARCH_KEYS)
    settings = SearchSettings(dimensions=read_space(config.get("space")))
    for key, value in table.items():
        setattr(settings, key, parse_duration(value) if key == "time_budget" else value)
    for key in ("trials", "grace_epochs", "reduction_factor"):
        value = getattr(settings, key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidInputError(f"[search] {key} must be a positive integer, got {value!r}.")
    if settings.concurrent is not None and (not isinstance(settings.concurrent, int) or settings.concurrent < 1):
        raise InvalidInputError(f"[search] concurrent must be a positive integer, got {settings.concurrent!r}.")
    if settings.metric not in (None, "val_accuracy", "val_loss"):
        raise InvalidInputError(f"[search] metric must be val_accuracy or val_loss, got {settings.metric!r}.")
    base = recipe_config(config)
    parts = recipe_parts(base)  # the base must itself be a valid recipe
    if not base.get("data", {}).get("validation_split", 0.2) > 0:
        raise InvalidInputError("A search scores trials on validation rows: [data] validation_split must be above 0.")
    if parts.spec.input_mode.__class__.__name__ == "NumericSteps":
        raise InvalidInputError("rnnlab tune searches text models; numeric-sequence datasets are not supported.")
    return settings


def recipe_config(config: dict, params: dict | None = None) -> dict:
    """The recipe a search config (and one trial's `params`, keyed ``table.field``) describes."""
    recipe = {k: copy.deepcopy(v) for k, v in config.items() if k not in ("space", "search", "run")}
    recipe["kind"] = "recipe"
    for key, value in (params or {}).items():
        table, _, name = key.partition(".")
        recipe.setdefault(table, {})[name] = _plain(value)
    return recipe


def _plain(value):
    """numpy scalars from a sampler as plain Python numbers (for TOML, JSON and dataclass checks)."""
    if hasattr(value, "item"):
        return value.item()
    return value


# ------------------------------------------------------------------- a trial
_TRIAL_DATA: dict = {}


def _trial(params: dict, base: dict) -> None:
    """One trial, run by Ray Tune in a worker: train with `params`, report each epoch the best validation accuracy
    and loss so far (the engine keeps the best epoch) and this epoch's."""
    import keras
    from ray import tune

    from rnnlab.training.engine import fit, prepare_for

    parts = recipe_parts(recipe_config(base, params))
    data_key = json.dumps([parts.recipe.to_dict(), parts.spec.vocab_size, parts.spec.maxlen, parts.limit],
                          sort_keys=True, default=str)
    if data_key not in _TRIAL_DATA:
        _TRIAL_DATA.clear()
        _TRIAL_DATA[data_key] = prepare_for(parts.spec, parts.recipe, seed=parts.training.seed, limit=parts.limit,
                                            cache=True, with_test=False)
    data = _TRIAL_DATA[data_key]
    if data.x_test is not None:  # pragma: no cover - guarded by prepare_for(with_test=False)
        raise RnnlabError("A search trial was handed test data.")

    class Report(keras.callbacks.Callback):
        best = lowest = trained = None  # numbers to predict log no accuracy: theirs stays None

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            accuracy, loss = logs.get("val_accuracy"), float(logs.get("val_loss", math.nan))
            if accuracy is not None:
                accuracy = float(accuracy)
                self.best = accuracy if self.best is None or accuracy > self.best else self.best
                self.trained = float(logs.get("accuracy", math.nan))
            self.lowest = loss if self.lowest is None or loss < self.lowest else self.lowest
            tune.report({"val_accuracy": self.best, "epoch_val_accuracy": accuracy, "val_loss": self.lowest,
                         "epoch_val_loss": loss, "accuracy": self.trained, "epoch": epoch + 1,
                         "test_examples_read": 0})

    keras.backend.clear_session()
    fit(parts.spec, data, parts.training, recipe=parts.recipe, verbose=0, callbacks=[Report()])


# ------------------------------------------------------------------ a search
def run_tune(config: dict, out: str | Path, *, validation_only: bool = False, progress=None) -> dict:
    """Search, write the report, then train and score the best settings once (not with ``validation_only``).

    The ``kind = "tune"`` runner of `rnnlab.experiments.kinds` (`run_config` writes
    ``out/results.json``; ``rnnlab tune`` puts its options into ``[search]`` and ``[run]``).

    Args:
        config: a ``kind = "tune"`` config (see the module docstring); ``[run] address`` runs
            the trials on that Ray cluster (default: Ray on this machine).
        out: the search folder; the same folder resumes an unfinished search.
        validation_only: stop after the search (``best.toml`` written, no test data read).
        progress: called with a line when the search ends and when the final run starts.
    """
    progress = progress or (lambda line: None)
    settings = read_search(config)
    settings.metric = search_metric(config, settings.metric)
    address = run_options(config).get("address")
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    placement = cluster.Placement.choose(workers=settings.concurrent, cpus_per_run=settings.cpus_per_trial,
                                         gpus_per_run=settings.gpus_per_trial, address=address)
    env = cluster.thread_environment(settings.cpus_per_trial)
    with cluster.connect(address, cpus=placement.local_cpus, env=env):
        cluster.check_fits(settings.cpus_per_trial, settings.gpus_per_trial)
        grid = _tune(config, settings, out)
    rows = trial_rows(grid, settings, max_epochs(config))
    search_seconds = time.perf_counter() - started
    if len(rows) < settings.trials and settings.time_budget is None:
        raise RnnlabError(f"The search in {out} stopped after {len(rows)} of {settings.trials} trials (interrupted?); "
                          "run the same command again to resume it.")
    key = settings.metric
    finished = [r for r in rows if _scored(r, key)]
    if not finished:
        raise RnnlabError(f"No trial of the search in {out} reported a validation score; see the errors in "
                          f"{out / 'trials.json'} and run the same command again to resume.")
    best = (max if key == "val_accuracy" else min)(finished, key=lambda r: r[key])
    best_config = recipe_config(config, best["params"])
    best_config["name"] = f"{config.get('name', 'search')}-best"
    best_config["selection"] = {
        "protocol": (f"Chosen by rnnlab tune: {len(rows)} trials (Optuna TPE, ASHA grace {settings.grace_epochs} "
                     f"epoch(s), reduction {settings.reduction_factor}) scored on validation rows carved from the "
                     f"training data; best {_words(key)} {best[key]:.4f} (trial {best['trial']}). No test "
                     "data was read during the search; the test split is read once, by this config's run."),
    }
    paths = write_search_report(out, config, settings, rows, best, best_config)
    progress(f"search: {len(rows)} trials in {search_seconds:.0f} s; best {_words(key)} {best[key]:.4f}")
    results = {"name": config.get("name"), "runs": rows, "trials": len(rows), "finished_trials": len(finished),
               "stopped_early": sum(r["stopped_early"] for r in rows), "search_seconds": round(search_seconds, 1),
               "test_examples_read_by_search": int(sum(r.get("test_examples_read") or 0 for r in rows)),
               "best": best, "best_config": str(paths["best_config"]), "report": str(paths["markdown"]),
               "metric": key, "validation": {**{name: best[f"val_{name}"] for name in ("accuracy", "loss")
                                                 if best.get(f"val_{name}") is not None}, "examples": None}}
    if not validation_only:
        progress(f"final run of the best settings -> {out / 'best'}")
        final = run_config(best_config, out / "best", progress=progress)
        results.update(best_validation_accuracy=final.get("validation_accuracy"), validation=final["validation"],
                       test=final.get("test"), test_accuracy=final.get("test_accuracy"),
                       test_examples=final.get("test_examples"), bundle=final.get("bundle"),
                       final_seconds=final.get("total_seconds"))
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    return results


def search_metric(config: dict, asked: str | None) -> str:
    """What trials are ranked by: ``asked``, else validation accuracy, or for numbers to predict (which have no
    accuracy) the validation loss. Reads the training rows' labels (never the test rows)."""
    from rnnlab.encoding.prepare import load_splits

    if asked == "val_loss":  # every target has a loss: nothing to read
        return asked
    parts = recipe_parts(recipe_config(config))
    if parts.spec.regression:
        numeric = True
    else:
        train, _ = load_splits(parts.recipe.dataset, seed=parts.training.seed, limit=parts.limit, with_test=False,
                               **parts.recipe.source_options())
        numeric = train.numeric
    if numeric and asked == "val_accuracy":
        raise InvalidInputError(f"{parts.recipe.dataset}: the labels are numbers to predict, which have no accuracy; "
                                "leave [search] metric out, or set it to \"val_loss\".")
    return asked or ("val_loss" if numeric else "val_accuracy")


def _scored(row: dict, metric: str) -> bool:
    value = row.get(metric)
    return value is not None and math.isfinite(value)


def _words(metric: str) -> str:
    return "validation accuracy" if metric == "val_accuracy" else "validation loss"


def _shown(metric: str, value) -> str:
    if value is None or not math.isfinite(value):
        return "error"
    return f"{100 * value:.2f}%" if metric == "val_accuracy" else f"{value:.4f}"


def max_epochs(config: dict) -> int:
    """Epochs a trial runs when nothing stops it (the base recipe's)."""
    return max(1, math.ceil(recipe_parts(recipe_config(config)).training.epochs))


def _tune(config: dict, settings: SearchSettings, out: Path):
    # Tune's own console tables would interleave with rnnlab's; its results are in the report.
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    import optuna
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search import ConcurrencyLimiter
    from ray.tune.search.optuna import OptunaSearch

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    mode = "max" if settings.metric == "val_accuracy" else "min"
    trainable = tune.with_resources(tune.with_parameters(_trial, base=recipe_config(config)),
                                    {"cpu": settings.cpus_per_trial, "gpu": settings.gpus_per_trial})
    path = out / RAY_FOLDER / SEARCH_NAME
    if tune.Tuner.can_restore(str(path)):
        tuner = tune.Tuner.restore(str(path), trainable=trainable, resume_unfinished=True, resume_errored=True)
    else:
        space = {d.key: d.ray() for d in settings.dimensions}
        searcher = OptunaSearch(metric=settings.metric, mode=mode,
                                sampler=optuna.samplers.TPESampler(seed=settings.seed))
        if settings.concurrent:
            searcher = ConcurrencyLimiter(searcher, max_concurrent=settings.concurrent)
        scheduler = ASHAScheduler(metric=settings.metric, mode=mode, time_attr="training_iteration",
                                  max_t=max_epochs(config), grace_period=min(settings.grace_epochs, max_epochs(config)),
                                  reduction_factor=settings.reduction_factor)
        tuner = tune.Tuner(
            trainable, param_space=space,
            tune_config=tune.TuneConfig(search_alg=searcher, scheduler=scheduler, num_samples=settings.trials,
                                        time_budget_s=settings.time_budget),
            run_config=tune.RunConfig(name=SEARCH_NAME, storage_path=str(out / RAY_FOLDER), verbose=0,
                                      log_to_file=True),
        )
    return tuner.fit()


def trial_rows(grid, settings: SearchSettings, max_epochs: int) -> list[dict]:
    """One row per trial: its settings, best validation score, epochs run, and whether it stopped early."""
    rows = []
    for number, result in enumerate(grid, start=1):
        metrics = result.metrics or {}
        params = {d.key: _plain(result.config.get(d.key)) for d in settings.dimensions if d.key in result.config}
        history = result.metrics_dataframe
        epochs = int(metrics.get("epoch") or 0)
        rows.append({
            "trial": number,
            "id": metrics.get("trial_id") or getattr(result, "path", ""),
            "params": params,
            METRIC: metrics.get(METRIC),
            "val_loss": metrics.get("val_loss"),
            "epochs": epochs,
            "stopped_early": result.error is None and 0 < epochs < max_epochs,
            "seconds": round(float(metrics.get("time_total_s") or 0), 1),
            "test_examples_read": metrics.get("test_examples_read"),
            "curve": _curve(history, "epoch_val_accuracy" if settings.metric == "val_accuracy" else "epoch_val_loss"),
            "error": None if result.error is None else " ".join(str(result.error).split())[-500:],
        })
    return rows


def _curve(history, column: str) -> list[float]:
    """A trial's validation score at each epoch (its accuracy, or its loss for a search by loss)."""
    if history is None or column not in history:
        return []
    return [round(float(v), 5) for v in history[column] if v is not None and math.isfinite(float(v))]


# ----------------------------------------------------------------- the report
def importances(rows: list[dict], settings: SearchSettings) -> dict[str, float]:
    """Each dimension's share of the validation score's variation (Optuna's fANOVA over the finished trials)."""
    import optuna

    finished = [r for r in rows if _scored(r, settings.metric) and len(r["params"]) == len(settings.dimensions)]
    varied = [d for d in settings.dimensions if len({json.dumps(r["params"][d.key]) for r in finished}) > 1]
    if len(finished) < 3 or not varied:
        return {d.key: 0.0 for d in settings.dimensions}
    study = optuna.create_study(direction="maximize" if settings.metric == "val_accuracy" else "minimize")
    distributions = {d.key: d.optuna() for d in varied}
    for r in finished:
        study.add_trial(optuna.trial.create_trial(params={d.key: r["params"][d.key] for d in varied},
                                                  distributions=distributions, value=r[settings.metric]))
    scores = optuna.importance.get_param_importances(
        study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=settings.seed))
    return {d.key: round(float(scores.get(d.key, 0.0)), 4) for d in settings.dimensions}


def write_search_report(out: Path, config: dict, settings: SearchSettings, rows: list[dict], best: dict,
                        best_config: dict) -> dict:
    """trials.json, trials.csv, best.toml, importance.png and search.md in `out`."""
    import csv

    weights = importances(rows, settings)
    ranked = sorted(weights, key=weights.get, reverse=True)
    paths = {"trials": out / "trials.json", "csv": out / "trials.csv", "best_config": out / "best.toml",
             "figure": out / "importance.png", "markdown": out / "search.md"}
    write_json(paths["trials"], {"trials": rows, "importance": weights}, indent=1)
    keys = [d.key for d in settings.dimensions]
    with atomic_path(paths["csv"]) as tmp:
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["trial", *keys, METRIC, "val_loss", "epochs", "stopped_early", "seconds", "error"])
            for r in rows:
                writer.writerow([r["trial"], *[r["params"].get(k) for k in keys], r[METRIC], r["val_loss"],
                                 r["epochs"], r["stopped_early"], r["seconds"], r["error"] or ""])
    with atomic_path(paths["best_config"]) as tmp:
        tmp.write_text(f"# Ready to run: rnnlab experiment run {paths['best_config'].name} --out DIR\n"
                       + to_toml(best_config), encoding="utf-8")
    plot_importance(paths["figure"], rows, [next(d for d in settings.dimensions if d.key == k) for k in ranked[:2]],
                    settings.metric)
    metric, words = settings.metric, _words(settings.metric)
    lines = [f"# Search: {config.get('name', 'search')}", "",
             f"{len(rows)} trials (Optuna TPE sampler, ASHA: grace {settings.grace_epochs} epoch(s), reduction factor "
             f"{settings.reduction_factor}); each scored on validation rows carved from the training data. No test "
             "data was read during the search.", "",
             f"Best: trial {best['trial']}, {words} {_shown(metric, best[metric])} with "
             + ", ".join(f"{k} = {v}" for k, v in best["params"].items()) + f". Config: `{paths['best_config'].name}`.",
             "", f"Importance (fANOVA share of the variation in {words}): "
             + ", ".join(f"{k} {weights[k]:.2f}" for k in ranked) + ".", "",
             f"![{words} against the two most important parameters]({paths['figure'].name})", "",
             "| trial | " + " | ".join(keys) + f" | {'val. acc. (%)' if metric == 'val_accuracy' else 'val. loss'} "
             "| epochs | stopped early | seconds |",
             "|---" * (len(keys) + 5) + "|"]
    sign = -1 if metric == "val_accuracy" else 1
    for r in sorted(rows, key=lambda r: (not _scored(r, metric), sign * (r[metric] if _scored(r, metric) else 0))):
        score = _shown(metric, r[metric]).rstrip("%")
        lines.append(f"| {r['trial']} | " + " | ".join(_short(r["params"].get(k)) for k in keys)
                     + f" | {score} | {r['epochs']} | {'yes' if r['stopped_early'] else ''} | {r['seconds']:.0f} |")
    with atomic_path(paths["markdown"]) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return paths


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def plot_importance(path: Path, rows: list[dict], dimensions: list[Dimension], metric: str = METRIC) -> Path:
    """Each trial's validation score (``metric``) against each of `dimensions` (the two most important)."""
    from rnnlab.plots import new_figure, save_figure

    finished = [r for r in rows if _scored(r, metric)]
    scale = 100 if metric == "val_accuracy" else 1
    fig = new_figure(figsize=(5 * max(1, len(dimensions)), 4))
    axes = fig.subplots(1, max(1, len(dimensions)), squeeze=False)[0]
    for ax, dimension in zip(axes, dimensions):
        values = [r["params"].get(dimension.key) for r in finished]
        scores = [scale * r[metric] for r in finished]
        colours = ["tab:orange" if r["stopped_early"] else "tab:blue" for r in finished]
        if dimension.kind == "choice":
            labels = [str(v) for v in dimension.values]
            ax.scatter([labels.index(str(v)) if str(v) in labels else -1 for v in values], scores, c=colours)
            ax.set_xticks(range(len(labels)), labels)
        else:
            ax.scatter(values, scores, c=colours)
            if dimension.kind == "loguniform":
                ax.set_xscale("log")
        ax.set_xlabel(dimension.key)
        ax.set_ylabel("best validation accuracy (%)" if metric == "val_accuracy" else "lowest validation loss")
        ax.grid(alpha=0.3)
    fig.suptitle("trials (orange: stopped early by ASHA)")
    fig.tight_layout()
    return save_figure(fig, path)


def is_search(config: dict) -> bool:
    return config.get("kind") == "tune"


__all__ = ["Dimension", "SearchSettings", "is_search", "parse_duration", "read_search",
           "recipe_config", "run_tune"]
