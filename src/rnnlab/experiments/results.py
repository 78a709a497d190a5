"""``results.json``: one writer, one schema, for every config kind.

Whatever ran (a sweep, a recipe, a stack, a search, a language-model fine-tuning, ``auto``),
its folder's ``results.json`` opens with the same keys, so a reader (a benchmark, a budget
curve, a person) never needs to know which kind wrote it:

| key | what |
|---|---|
| ``format`` | ``"rnnlab.results/1"`` |
| ``kind``, ``name`` | the config kind and the config's name |
| ``validation_only`` | True when the test split was not read (choosing settings) |
| ``validation`` | ``{"accuracy", "examples"}`` on the validation rows (``macro_f1`` for label sets), or None |
| ``test`` | the test metrics (accuracy, macro-F1, confusion matrix, ...) plus ``standard_error``, or None |
| ``members`` / ``runs`` | a stack's or ensemble's members; a sweep's runs or a search's trials (else None) |
| ``total_seconds`` | wall time from the config read to the results written |
| ``versions``, ``machine`` | `rnnlab.environment` facts |

The kind's own figures (history, per-member accuracies, timings...) follow under their
own names. ``validation_accuracy`` and ``test_accuracy`` stay as flat numbers as well.
"""

from __future__ import annotations

import math
from pathlib import Path

from rnnlab.environment import machine, versions
from rnnlab.files import write_json

FORMAT = "rnnlab.results/1"
FILE = "results.json"
COMMON_KEYS = ("format", "kind", "name", "validation_only", "validation", "test", "members", "runs",
               "total_seconds", "versions", "machine")


def standard_error(accuracy: float, n: int) -> float:
    """The binomial standard error of an accuracy measured on ``n`` examples."""
    return math.sqrt(accuracy * (1 - accuracy) / n) if n else float("nan")


def results_record(kind: str, name: str, figures: dict, *, validation_only: bool = False,
                   seconds: float | None = None) -> dict:
    """``figures`` (what a kind's runner returned) with the common keys filled in first."""
    figures = dict(figures)
    test = figures.pop("test", None)
    if isinstance(test, dict) and "accuracy" in test and figures.get("test_examples", test.get("examples")):
        n = int(figures.get("test_examples") or test.get("examples"))
        test = {**test, "standard_error": round(standard_error(float(test["accuracy"]), n), 5)}
        figures.setdefault("test_accuracy", round(float(test["accuracy"]), 5))
        figures.setdefault("test_standard_error", test["standard_error"])
    validation = figures.pop("validation", None)
    if validation is None:
        validation = {key: figures[f"validation_{key}"] for key in ("accuracy", "macro_f1")
                      if figures.get(f"validation_{key}") is not None} or None
        if validation is not None:
            validation["examples"] = figures.get("validation_examples")
    members = figures.pop("members", None)
    runs = figures.pop("runs", None)
    total = figures.pop("total_seconds", None)
    record = {
        "format": FORMAT,
        "kind": kind,
        "name": name,
        "validation_only": bool(validation_only),
        "validation": validation,
        "test": None if validation_only else test,
        "members": members if isinstance(members, list) else None,
        "runs": runs if isinstance(runs, list) else None,
        "total_seconds": round(seconds, 1) if seconds is not None else total,
        "versions": figures.pop("versions", None) or versions(),
        "machine": figures.pop("machine", None) or machine(),
    }
    return {**record, **figures}


def write_results(out: str | Path, kind: str, name: str, figures: dict, *, validation_only: bool = False,
                  seconds: float | None = None) -> dict:
    """Write ``out/results.json`` (atomically) and return what was written."""
    record = results_record(kind, name, figures, validation_only=validation_only, seconds=seconds)
    write_json(Path(out) / FILE, record, indent=1)
    return record
