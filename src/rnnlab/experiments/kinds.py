"""Config kinds: one registry, one runner signature, one ``results.json``.

Every config file names its ``kind`` (a sweep when it names none). Each kind registers a
runner with one signature::

    runner(config: dict, out: Path, *, validation_only: bool, progress: Callable[[str], None]) -> dict

It trains what the config describes into ``out``, reads the test split only when
``validation_only`` is False, reports steps through ``progress`` (one line each) and returns
its figures. `run_config` times it and writes ``out/results.json`` with
`rnnlab.experiments.results.write_results`, the one writer. The CLI (``rnnlab experiment
run``, ``rnnlab tune``), searches (their final run) and the tests all go through `run_config`.

Where the work runs (Ray address, workers, CPUs and GPUs per run) is a config table too,
``[run]``, read by the kinds that spread work (sweeps and searches): the command line's
``--address``, ``--workers``... write it.

A new kind is one module with a runner and one `register` call below (the runner is named
as ``"module:function"`` and imported when a config of its kind runs: Keras and Ray take
seconds to import, and reading a config must not).

Example:
    >>> from rnnlab.experiments.kinds import run_config  # doctest: +SKIP
    >>> run_config("imdb-fast", "runs/imdb-fast")["test"]["accuracy"]  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from rnnlab import configfile
from rnnlab.errors import InvalidInputError, unknown_name
from rnnlab.experiments.results import write_results

Progress = Callable[[str], None]
RUN_KEYS = ("address", "workers", "cpus_per_run", "gpus_per_run", "retry_failed", "report")


@dataclass(frozen=True)
class ConfigKind:
    """A config kind: its name, its runner (``"module:function"``) and a line saying what it does."""

    name: str
    runner: str
    summary: str
    #: reads a config file of this kind (``path -> dict``) when paths in it are relative to the file
    reader: str | None = None

    def run(self, config: dict, out: Path, *, validation_only: bool, progress: Progress) -> dict:
        return _resolve(self.runner)(config, out, validation_only=validation_only, progress=progress)

    def read(self, path: Path) -> dict:
        return _resolve(self.reader)(path) if self.reader else configfile.read_config(path)


KINDS: dict[str, ConfigKind] = {}


def register(name: str, runner: str, summary: str, *, reader: str | None = None) -> ConfigKind:
    """Add a config kind; its runner is imported on first use."""
    if name in KINDS:
        raise ValueError(f"Config kind {name!r} is registered already.")
    KINDS[name] = kind = ConfigKind(name, runner, summary, reader)
    return kind


def _resolve(target: str):
    module, _, function = target.partition(":")
    return getattr(importlib.import_module(module), function)


def kind_of(config: dict) -> ConfigKind:
    """The registered kind a config names (``"sweep"`` when it names none)."""
    name = config.get("kind", "sweep")
    if not isinstance(name, str) or name not in KINDS:
        raise unknown_name("config kind", str(name), tuple(KINDS))
    return KINDS[name]


def read(path: str | Path) -> dict:
    """A config file (or committed config name) read the way its kind reads it."""
    raw = configfile.read_config(path)
    return kind_of(raw).read(configfile.find_config(path))


def run_options(config: dict) -> dict:
    """The ``[run]`` table: where a sweep's runs or a search's trials run."""
    return configfile.check_keys("[run]", config.get("run") or {}, RUN_KEYS)


def run_config(config: dict | str | Path, out: str | Path, *, validation_only: bool = False,
               progress: Progress | None = None) -> dict:
    """Run a config of any kind into ``out``; write and return ``out/results.json``'s record.

    Args:
        config: a config's fields, or a config file / committed config name.
        out: the run's folder (created if needed).
        validation_only: train and score the validation rows only: the test split is not
            read and no bundle is kept (for choosing settings). Defaults to False.
        progress: called with one line per step. Defaults to saying nothing.
    """
    if not isinstance(config, dict):
        config = read(config)
    kind = kind_of(config)
    if validation_only and kind.name == "sweep":
        raise InvalidInputError("A sweep scores every run on the test split; --validation-only applies to recipe, "
                                "stack, tune, lm-finetune and auto configs.")
    out = Path(out)
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    try:
        figures = kind.run(config, out, validation_only=validation_only, progress=progress or _silent)
    except BaseException:
        if created and not any(out.iterdir()):  # refused before anything was written: leave no trace
            out.rmdir()
        raise
    return write_results(out, kind.name, str(config.get("name", kind.name)), figures,
                         validation_only=validation_only, seconds=time.perf_counter() - started)


def _silent(line: str) -> None:
    pass


register("sweep", "rnnlab.experiments.sweep:run_sweep",
         "models x runs, stored and resumable, with a report of intervals and paired comparisons",
         reader="rnnlab.experiments.sweep:read_sweep")
register("recipe", "rnnlab.experiments.recipes.recipe:run_recipe",
         "one final training run: epoch chosen on validation, test read once, a bundle")
register("stack", "rnnlab.experiments.recipes.stack:run_stack",
         "members trained on one split, blend weights fitted on validation, test read once, one bundle")
register("tune", "rnnlab.experiments.recipes.tune:run_tune",
         "a search over a recipe's settings on validation rows (Ray Tune, Optuna, ASHA), then its best run once")
register("lm-finetune", "rnnlab.experiments.recipes.finetune:run_lm_finetune",
         "a language model pre-trained on unlabelled text, then fine-tuned as a classifier")
register("auto", "rnnlab.experiments.recipes.auto:run_auto",
         "settings chosen from the data, a recurrent model and a linear baseline on one split")
