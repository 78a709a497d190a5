"""The sweep config kind: run a sweep's pending runs, then write its report.

`rnnlab.experiments.sweeps` trains and stores the runs, `rnnlab.experiments.reports` reads
the store; this runner (registered as ``kind = "sweep"``, the default kind) does one after
the other. ``[run]`` says where the runs train (``address``, ``workers``, ``cpus_per_run``,
``gpus_per_run``), whether failed runs are tried again (``retry_failed``) and whether the
report is written (``report``, default true).
"""

from __future__ import annotations

import json
from pathlib import Path

from rnnlab.configfile import read_config
from rnnlab.experiments.kinds import run_options
from rnnlab.experiments.reports.report import write_report
from rnnlab.experiments.sweeps.config import ExperimentConfig, resolve_model_paths
from rnnlab.experiments.sweeps.runner import run_experiment


def read_sweep(path: Path) -> dict:
    """A sweep config file, its spec files named relative to the file's folder."""
    return resolve_model_paths(read_config(path, "Experiment config"), Path(path).parent)


def run_sweep(config: dict, out: Path, *, validation_only: bool = False, progress=None) -> dict:
    """Run (or resume) the sweep ``config`` describes into ``out``; its report's figures.

    ``validation_only`` is refused by `run_config` (every run of a sweep is scored on test).
    """
    progress = progress or (lambda line: None)
    options = run_options(config)
    fields = {k: v for k, v in config.items() if k not in ("kind", "run")}
    sweep = ExperimentConfig.from_dict(fields)
    summary = run_experiment(sweep, out, workers=options.get("workers"), cpus_per_run=options.get("cpus_per_run"),
                             gpus_per_run=options.get("gpus_per_run") or 0, address=options.get("address"),
                             retry_failed=bool(options.get("retry_failed", False)))
    counts = summary.counts
    progress(f"{counts['done']} of {summary.total} runs done, {counts['failed']} failed, "
             f"{counts['pending'] + counts['running']} not done; {summary.ran} run now in "
             f"{summary.seconds / 60:.1f} min ({summary.where})")
    figures = {"name": sweep.name, "counts": counts, "runs_now": summary.ran, "reclaimed": len(summary.reclaimed),
               "held_elsewhere": summary.held_elsewhere, "where": summary.where}
    if options.get("report", True):
        paths = write_report(out)
        progress(f"report: {paths['markdown']} and {paths['html']}")
        figures = {**json.loads(paths["json"].read_text(encoding="utf-8")), **figures}
    return figures
