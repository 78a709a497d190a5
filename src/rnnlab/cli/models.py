"""`rnnlab models | summary | weights`: the named models, their Keras summaries and weight shapes."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from rnnlab.cli.output import JsonFlag, console, print_json
from rnnlab.models import MODELS
from rnnlab.training.config import resolve

app = typer.Typer()


@app.command()
def models(as_json: JsonFlag = False):
    """List the named models with their parameter counts."""

    rows = [{"name": m.name, "params": int(m.spec.build(compile=False).count_params()),
             "description": m.description, "dataset": m.recipe.dataset, "epochs": m.recipe.epochs,
             "published_accuracy": m.recipe.published_accuracy} for m in MODELS.values()]
    if as_json:
        return print_json(rows)
    table = Table(title="Named models")
    for column in ("name", "parameters", "architecture", "dataset", "epochs", "published acc."):
        table.add_column(column, justify="right" if column in ("parameters", "epochs", "published acc.") else "left")
    for r in rows:
        published = f"{r['published_accuracy']:.2f}%" if r["published_accuracy"] else ""
        table.add_row(r["name"], f"{r['params']:,}", r["description"], r["dataset"], str(r["epochs"]), published)
    console.print(table)


def _build_named_or_spec(model: str):
    spec, _ = resolve(model)
    return spec.build(compile=False)


@app.command()
def summary(model: Annotated[str, typer.Argument(help="Model name or spec JSON file.")]):
    """Print the Keras summary of a model."""
    _build_named_or_spec(model).summary(print_fn=lambda line, **_: console.print(line, markup=False, highlight=False))


@app.command()
def weights(model: Annotated[str, typer.Argument(help="Model name or spec JSON file.")], as_json: JsonFlag = False):
    """Show each recurrent layer's weight shapes, checked against the parameter formulas."""
    # Loaded on use: it imports Keras (seconds); `rnnlab --help` and light commands stay instant.
    from rnnlab.models.weights import recurrent_weights


    rows = recurrent_weights(_build_named_or_spec(model))
    if as_json:
        return print_json([r.to_dict() for r in rows])
    table = Table(title=f"Recurrent weights of {model}  (n units, m inputs)")
    for column in ("layer", "cell", "n", "m", "kernel", "recurrent_kernel", "bias", "params", "formula", "check"):
        table.add_column(column)
    for r in rows:
        check = "[green]ok[/]" if r.ok else f"[red]expected {r.expected:,}[/]"
        table.add_row(r.layer, r.cell, str(r.units), str(r.input_dim), str(r.kernel), str(r.recurrent_kernel),
                      str(r.bias), f"{r.params:,}", f"{r.formula} = {r.expected:,}", check)
    console.print(table)
    if not all(r.ok for r in rows):
        raise typer.Exit(1)
