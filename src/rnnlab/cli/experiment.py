"""`rnnlab experiment ...`: run sweeps from a config or a preset, and report on them.

A thin shell over `run_experiment` and `write_report`; every option maps to a config field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from rnnlab import _backend  # noqa: F401  (before keras)
from rnnlab.errors import InvalidInputError
from rnnlab.experiments import kinds
from rnnlab.experiments.sweeps import presets
from rnnlab.experiments.sweeps.config import ExperimentConfig, apply_changes

experiment_app = typer.Typer(help="Sweeps of models x runs: stored, resumable, reported with intervals.",
                             no_args_is_help=True, pretty_exceptions_enable=False)
console = Console()
err = Console(stderr=True)

Out = Annotated[Optional[Path], typer.Option(help="Experiment folder (default: experiments/NAME).")]
Models = Annotated[Optional[str], typer.Option(help="Comma-separated subset of the models.")]
Runs = Annotated[Optional[int], typer.Option(min=1, help="Runs per model.")]
Epochs = Annotated[Optional[int], typer.Option(min=1, help="Override every model's epochs.")]
Dataset = Annotated[Optional[str], typer.Option(help="imdb, amazon, or a data file.")]
VocabSize = Annotated[Optional[int], typer.Option(min=3, help="Vocabulary size.")]
Maxlen = Annotated[Optional[int], typer.Option(min=1, help="Sequence length fed to the models.")]
LengthRule = Annotated[Optional[str], typer.Option(
    help="filter: drop texts longer than maxlen (Keras load_data(maxlen=...)); truncate: cut them.")]
Limit = Annotated[Optional[int], typer.Option(
    min=1, help="Use at most N train and N test examples, drawn before the length rule (quick look).")]
Workers = Annotated[Optional[int], typer.Option(min=1, help=(
    "Runs in flight at once. 1 (the default) trains in this process; more run as Ray tasks, the cores shared "
    "between them. With --address: as many as the cluster fits."))]
CpusPerRun = Annotated[Optional[float], typer.Option(min=0.01, help=(
    "CPUs Ray reserves for each run (and its thread count). Default: this machine's cores / --workers; 1 on a "
    "cluster. Setting it runs on Ray."))]
GpusPerRun = Annotated[float, typer.Option(min=0, help="GPUs Ray reserves for each run (0.5 puts two on one GPU).")]
Address = Annotated[Optional[str], typer.Option(envvar="RAY_ADDRESS", help=(
    "Run on the Ray cluster at HOST:PORT (or 'auto') instead of this machine; default: $RAY_ADDRESS."))]
Seed = Annotated[Optional[int], typer.Option(help="Base of every derived seed.")]
VaryInit = Annotated[Optional[bool], typer.Option(
    "--vary-init/--same-init", help="Give each run its own initial weights, or start every run of a model "
    "from the same ones. Default: the config's.")]
FixedSplit = Annotated[Optional[bool], typer.Option(
    "--fixed-split/--split-per-run", help="One validation split for all runs, or one per run. Default: the config's.")]
RetryFailed = Annotated[bool, typer.Option(help="Run failed runs again.")]
Report = Annotated[bool, typer.Option(help="Write the report when the sweep ends.")]


def _names(models: str | None) -> list[str] | None:
    return [m.strip() for m in models.split(",") if m.strip()] if models else None


def _changes(models, runs, epochs, dataset, vocab_size, maxlen, length_rule, limit, seed, vary_init,
             fixed_split) -> dict:
    return dict(models=_names(models), runs=runs, epochs=epochs, dataset=dataset, vocab_size=vocab_size,
                maxlen=maxlen, length_rule=length_rule, limit=limit, seed=seed, vary_init=vary_init,
                vary_split=None if fixed_split is None else not fixed_split)


def _sweep(config: ExperimentConfig, out: Path | None, workers: int | None, retry_failed: bool, report: bool,
           cpus_per_run=None, gpus_per_run: float = 0, address: str | None = None) -> None:
    """Run a sweep through the config-kind registry, with the command line's placement as its [run] table."""
    placement = {"workers": workers, "cpus_per_run": cpus_per_run, "gpus_per_run": gpus_per_run or None,
                 "address": address, "retry_failed": retry_failed, "report": report}
    raw = {**config.to_dict(), "kind": "sweep", "run": {k: v for k, v in placement.items() if v is not None}}
    out = out or Path("experiments") / config.name
    console.print(f"[bold]{config.name}[/]: {len(config.model_names)} models x {config.runs} runs -> {out}")
    _run(raw, out, validation_only=False)


def _run(raw: dict, out: Path, validation_only: bool) -> dict:
    try:
        results = kinds.run_config(raw, out, validation_only=validation_only, progress=err.print)
    except KeyboardInterrupt:
        err.print("interrupted: finished work is saved; run the same command again to resume.")
        raise typer.Exit(130) from None
    counts = results.get("counts") or {}
    if counts.get("failed"):
        console.print("failed runs keep their error in the database and the report; --retry-failed runs them again")
    shown = {k: results.get(k) for k in ("params", "validation_accuracy", "validation_macro_f1", "test_accuracy",
                                          "test_macro_f1", "test_standard_error", "total_seconds")}
    console.print(" ".join(f"{k} {v}" for k, v in shown.items() if v is not None))
    console.print(f"results: {out / 'results.json'}")
    return results


@experiment_app.command("run")
def run(
    config: Annotated[Path, typer.Argument(help="Experiment config, .toml or .json.")],
    out: Out = None, models: Models = None, runs: Runs = None, epochs: Epochs = None, dataset: Dataset = None,
    vocab_size: VocabSize = None, maxlen: Maxlen = None, length_rule: LengthRule = None, limit: Limit = None,
    workers: Workers = None, seed: Seed = None, vary_init: VaryInit = None, fixed_split: FixedSplit = None,
    retry_failed: RetryFailed = False, report: Report = True, cpus_per_run: CpusPerRun = None,
    gpus_per_run: GpusPerRun = 0, address: Address = None,
    validation_only: Annotated[bool, typer.Option(
        "--validation-only", help="Recipe and stack configs: train and score the validation split only (to choose "
                                  "settings; the test split is not read, no bundle is saved).")] = False,
):
    """Run (or resume) the experiment a config file describes.

    Every config kind runs here (`rnnlab.experiments.kinds`): a sweep (the default) trains its
    models x runs and writes a report; ``kind = "recipe"``, ``"stack"``, ``"lm-finetune"``,
    ``"auto"`` and ``"tune"`` are final runs: they choose on the validation split, score the
    test split once (not with --validation-only) and save the bundle ``OUT/bundle``. Every
    kind writes ``OUT/results.json`` in one schema.
    """

    raw = kinds.read(config)
    if raw.get("kind", "sweep") == "sweep":
        fields = {k: v for k, v in raw.items() if k not in ("kind", "run")}
        loaded = apply_changes(ExperimentConfig.from_dict(fields), **_changes(
            models, runs, epochs, dataset, vocab_size, maxlen, length_rule, limit, seed, vary_init, fixed_split))
        if validation_only:
            raise InvalidInputError(f"{config} is a sweep: every run is scored on the test split; --validation-only "
                                    "applies to recipe, stack, tune, lm-finetune and auto configs.")
        _sweep(loaded, out, workers, retry_failed, report, cpus_per_run, gpus_per_run, address)
        return
    raw = _recipe_changes(raw, config, limit=limit, epochs=epochs, models=models, runs=runs, dataset=dataset,
                          vocab_size=vocab_size, maxlen=maxlen, length_rule=length_rule, seed=seed,
                          vary_init=vary_init, fixed_split=fixed_split, workers=workers,
                          cpus_per_run=cpus_per_run, gpus_per_run=gpus_per_run or None, address=address)
    out = out or Path("experiments") / str(raw.get("name", config.stem))
    console.print(f"[bold]{raw.get('name', raw.get('kind'))}[/] ({raw.get('kind')}) -> {out}")
    _run(raw, out, validation_only)


def _recipe_changes(raw: dict, config: Path, *, limit, epochs, **sweep_only) -> dict:
    """A recipe config with the command line's --limit (and --epochs, for a kind="recipe") applied.

    The other options shape a sweep; given for a recipe they would be silently ignored, so they
    are refused.
    """
    given = sorted(name.replace("_", "-") for name, value in sweep_only.items() if value is not None)
    kind = raw.get("kind")
    if epochs is not None and kind != "recipe":
        given.append("epochs")
    if given:
        raise InvalidInputError(f"{config} is a {kind} config: --{', --'.join(given)} apply to sweeps only; change "
                                f"the config file's values instead.")
    raw = {key: dict(value) if isinstance(value, dict) else value for key, value in raw.items()}
    if limit is not None:
        raw.setdefault("data", {})["limit"] = limit
        if kind == "lm-finetune":
            raw.setdefault("pretrain", {})["limit"] = limit
    if epochs is not None:
        raw.setdefault("training", {})["epochs"] = epochs
    return raw


def _preset_command(name: str, help_text: str) -> None:
    """Register `rnnlab experiment NAME`: the preset config of that name, with the usual overrides."""

    def command(
        out: Out = None, models: Models = None, runs: Runs = None, epochs: Epochs = None, dataset: Dataset = None,
        vocab_size: VocabSize = None, maxlen: Maxlen = None, length_rule: LengthRule = None, limit: Limit = None,
        workers: Workers = None, seed: Seed = None, vary_init: VaryInit = None, fixed_split: FixedSplit = None,
        retry_failed: RetryFailed = False, report: Report = True, cpus_per_run: CpusPerRun = None,
        gpus_per_run: GpusPerRun = 0, address: Address = None,
    ):

        config = getattr(presets, name)(**_changes(models, runs, epochs, dataset, vocab_size, maxlen, length_rule,
                                                   limit, seed, vary_init, fixed_split))
        _sweep(config, out, workers, retry_failed, report, cpus_per_run, gpus_per_run, address)

    command.__doc__ = help_text
    experiment_app.command(name)(command)


_preset_command("arrangements", "The custom recurrent arrangements study: 12 arrangements x 5 runs x 5 epochs on "
                                "IMDB (vocab 5,000, maxlen 100).")
_preset_command("textbook", "The textbook's five IMDB models, 3 runs each, compared with the published accuracies.")


@experiment_app.command("report")
def report(
    directory: Annotated[Path, typer.Argument(help="Experiment folder.")],
    baseline: Annotated[bool, typer.Option(help="Score the text baseline where it is missing.")] = True,
):
    """Write report.md, report.html, results.csv, results.json and figures for an experiment folder."""
    # Loaded on use: it imports Keras (seconds); `rnnlab --help` and light commands stay instant.
    from rnnlab.experiments.reports.report import write_report


    paths = write_report(directory, baseline=baseline)
    for kind, path in paths.items():
        console.print(f"{kind:9} {path}")
