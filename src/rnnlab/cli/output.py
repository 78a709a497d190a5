"""What every command prints: rich tables on a terminal, JSON with ``--json``, errors on stderr."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console()
err = Console(stderr=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of a table.")]


def print_json(data) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


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
