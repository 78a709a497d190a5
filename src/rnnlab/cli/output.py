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
    console.print(f"test accuracy: [bold]{100 * test['accuracy']:.2f}%[/]  (macro-F1 {test['macro_f1']:.4f}, "
                  f"loss {test['loss']:.4f}, {test['examples']:,} examples)")
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
