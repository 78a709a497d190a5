"""What every command prints: rich tables on a terminal, JSON with ``--json``, errors on stderr."""

from __future__ import annotations

import contextlib
import functools
import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console()
err = Console(stderr=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of a table.")]


# Where JSON goes while a --json command runs; sys.stdout is then stderr (see `json_only_on_stdout`).
_json_out: list = []


def print_json(data) -> None:
    _stdout().write(json.dumps(data, indent=2) + "\n")


def print_json_lines(rows) -> None:
    """One JSON object per line (``predict --json``)."""
    out = _stdout()
    for row in rows:
        out.write(json.dumps(row) + "\n")


def _stdout():
    return _json_out[-1] if _json_out else sys.stdout


@contextlib.contextmanager
def json_only_on_stdout():
    """Keep stdout for the JSON alone: whatever else is printed meanwhile goes to stderr.

    A --json command's output is read by a program (``rnnlab train auto --json | jq``); Keras'
    epoch lines, a table printed on ``console`` or a library's notice would make it invalid.
    """
    _json_out.append(sys.stdout)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        _json_out.pop()


def json_output(callback):
    """Run a command with `json_only_on_stdout` when it is given ``--json`` (its ``as_json`` argument)."""
    @functools.wraps(callback)
    def run(*args, **kwargs):
        if not kwargs.get("as_json"):
            return callback(*args, **kwargs)
        with json_only_on_stdout():
            return callback(*args, **kwargs)
    return run


def print_test(test: dict) -> None:
    if test.get("regression"):
        return print_regression(test)
    if test.get("multi_label"):
        print_label_sets(test)
        return print_calibration(test)
    console.print(f"test accuracy: [bold]{100 * test['accuracy']:.2f}%[/]  (macro-F1 {test['macro_f1']:.4f}, "
                  f"loss {test['loss']:.4f}, {test['examples']:,} examples)")
    print_calibration(test)
    if test.get("decision_threshold") is not None:
        console.print(f"decided at a positive-class probability of {test['decision_threshold']:g} (tuned or set "
                      "at training)")
    if "rating_mae" in test:
        console.print(f"mean absolute rating error: [bold]{test['rating_mae']:.3f}[/]")
    names = test["class_names"]
    table = Table(title="confusion matrix (rows: true, columns: predicted)")
    table.add_column("")
    for name in names:
        table.add_column(name, justify="right")
    for name, row in zip(names, test["confusion_matrix"]):
        table.add_row(name, *[f"{v:,}" for v in row])
    console.print(table)
    if test.get("per_class"):
        curves = test.get("precision_recall") or {}
        table = Table(title="per class")
        for column in ("class", "precision", "recall", "F1", "support", "average precision"):
            table.add_column(column, justify="left" if column == "class" else "right")
        for name, row in test["per_class"].items():
            curve = curves.get(name)
            table.add_row(name, f"{row['precision']:.3f}", f"{row['recall']:.3f}", f"{row['f1']:.3f}",
                          f"{row['support']:,}", "-" if not curve else f"{curve['average_precision']:.3f}")
        console.print(table)


def print_regression(test: dict) -> None:
    """Scores of a model predicting a number: its errors, R^2 and correlation against the true values."""
    r2 = "-" if test.get("r2") is None else f"{test['r2']:.4f}"
    pearson = "-" if test.get("pearson") is None else f"{test['pearson']:.4f}"
    console.print(f"test mean absolute error: [bold]{test['mae']:.4f}[/]  (RMSE {test['rmse']:.4f}, R^2 {r2}, "
                  f"Pearson {pearson}, {test['examples']:,} examples of {test.get('target') or 'the target'})")


def print_calibration(test: dict) -> None:
    """The expected calibration error of the probabilities, and before temperature scaling when there was one."""
    found = test.get("calibration")
    if not found:
        return
    line = f"calibration error (ECE, {len(found['reliability'])} bins): [bold]{found['ece']:.4f}[/]"
    if found.get("temperature") is not None:
        temperature = found["temperature"]
        shown = (f"{temperature:.3f}" if isinstance(temperature, float)
                 else f"{min(temperature):.2f}-{max(temperature):.2f} per label")
        line += f"  (temperature {shown}; {found['ece_unscaled']:.4f} unscaled)"
    console.print(line)


def print_label_sets(test: dict) -> None:
    """Scores of a model with several labels a row: the averages, then each label's precision, recall and F1."""
    console.print(f"test macro-F1: [bold]{test['macro_f1']:.4f}[/]  (micro-F1 {test['micro_f1']:.4f}, subset accuracy "
                  f"{100 * test['subset_accuracy']:.2f}%, Hamming loss {test['hamming_loss']:.4f}, "
                  f"{test['examples']:,} examples)")
    table = Table(title="per label (thresholds tuned on validation rows)")
    for column in ("label", "precision", "recall", "F1", "support", "threshold"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for name, row in test["per_label"].items():
        table.add_row(name, f"{row['precision']:.3f}", f"{row['recall']:.3f}", f"{row['f1']:.3f}",
                      f"{row['support']:,}", f"{row['threshold']:.2f}")
    console.print(table)
