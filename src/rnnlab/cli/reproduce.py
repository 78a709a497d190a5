"""`rnnlab reproduce textbook | beyond ...`: the tutorials' experiments on the real data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from rnnlab.cli.output import JsonFlag, console, print_json
from rnnlab.errors import InvalidInputError
from rnnlab.models.zoo import TEXTBOOK_NAMES

app = typer.Typer(help="Reproduce a tutorial's experiment on the real data.", no_args_is_help=True)


@app.command("textbook")
def reproduce_textbook(
    out: Annotated[Path, typer.Option(help="Folder for results and the best bundle.")] = Path("runs/textbook"),
    seed: int = 0,
    limit: Annotated[Optional[int], typer.Option(min=1, help="Use at most N train and N test reviews (quick look).")] = None,
    epochs: Annotated[Optional[int], typer.Option(min=1, help="Override every recipe's epochs (quick look).")] = None,
    models: Annotated[Optional[str], typer.Option(help="Comma-separated subset of the five models.")] = None,
    as_json: JsonFlag = False,
):
    """Train the textbook's five IMDB models and compare them with the published accuracies."""
    # Loaded on use: it imports Keras (seconds); `rnnlab --help` and light commands stay instant.
    from rnnlab.experiments.reproductions.textbook import reproduce_textbook as run


    names = tuple(m.strip() for m in models.split(",")) if models else TEXTBOOK_NAMES

    def show(row):
        if not as_json:
            console.print(f"[bold]{row.model}[/]: test accuracy {100 * row.test_accuracy:.2f}% "
                          f"({row.train_seconds:.0f} s training)")

    result = run(out, models=names, seed=seed, limit=limit, epochs=epochs, on_result=show)
    if as_json:
        return print_json(result)
    table = Table(title=f"Textbook reproduction on IMDB ({result['data']['test_examples']:,} test reviews)")
    for column in ("model", "parameters", "train s", "test acc.", "textbook", "diff"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for r in result["rows"]:
        ours = 100 * r["test_accuracy"]
        pub = r["published_accuracy"]
        diff = ours - pub if pub is not None else None
        table.add_row(r["model"], f"{r['params']:,}", f"{r['train_seconds']:.1f}", f"{ours:.2f}%",
                      f"{pub:.2f}%" if pub is not None else "-",
                      f"[{'green' if diff >= 0 else 'red'}]{diff:+.2f}[/]" if diff is not None else "-")
    console.print(table)
    console.print(f"best model: [bold]{result['best']}[/], saved to {out / 'best'}; results in {out / 'results.json'}")
    for p in result["predictions"]:
        console.print(f"  {p['label']} ({p['probability']:.3f})  {p['text']}")


beyond_app = typer.Typer(help="Stateful chunks, star ratings, numeric sequences and two-input models, measured.",
                  no_args_is_help=True)
Seeds = Annotated[str, typer.Option(help="Comma-separated training seeds.")]
Out = Annotated[Path, typer.Option(help="Folder for the results JSON.")]
Epochs = Annotated[Optional[int], typer.Option(min=1, help="Override the configs' epochs (quick look).")]
Configs = Annotated[Optional[Path], typer.Option(help="Folder holding the beyond training configs.")]


def _seeds(text: str) -> tuple[int, ...]:
    parts = [s.strip() for s in text.split(",") if s.strip()]
    if not parts or not all(p.lstrip("-").isdigit() for p in parts):
        raise InvalidInputError(f"--seeds takes comma-separated integers such as 0,1,2; got {text!r}.")
    return tuple(int(p) for p in parts)


def _show(result: dict) -> None:
    typer.echo(result["table"])


@beyond_app.command("stateful")
def stateful_command(out: Out = Path("runs/beyond"), seeds: Seeds = "0", epochs: Epochs = None,
                     limit: Annotated[Optional[int], typer.Option(min=1, help="At most N train and N test reviews.")] = None,
                     configs: Configs = None):
    """IMDB: stateful chunks of 100 tokens vs the first / last 100 tokens."""
    # Loaded on use: it imports Keras (seconds); `rnnlab --help` and light commands stay instant.
    from rnnlab.experiments.reproductions.beyond import compare_stateful

    _show(compare_stateful(out, seeds=_seeds(seeds), epochs=epochs, limit=limit, config_dir=configs, verbose="auto"))


@beyond_app.command("ratings")
def ratings_command(out: Out = Path("runs/beyond"), seeds: Seeds = "0", epochs: Epochs = None,
                    limit: Annotated[Optional[int], typer.Option(min=1, help="At most N train and N test reviews.")] = None,
                    configs: Configs = None):
    """IMDB star ratings as 8 classes, with baselines."""
    # Loaded on use: it imports Keras (seconds); `rnnlab --help` and light commands stay instant.
    from rnnlab.experiments.reproductions.beyond import rating_task

    _show(rating_task(out, seeds=_seeds(seeds), epochs=epochs, limit=limit, config_dir=configs, verbose="auto"))


@beyond_app.command("digits")
def digits_command(out: Out = Path("runs/beyond"), seeds: Seeds = "0,1,2", epochs: Epochs = None,
                   configs: Configs = None):
    """Digits as 8x8 row sequences: stacked LSTMs vs logistic regression."""
    # Loaded on use: it imports Keras (seconds); `rnnlab --help` and light commands stay instant.
    from rnnlab.experiments.reproductions.beyond import digits_task

    _show(digits_task(out, seeds=_seeds(seeds), epochs=epochs, config_dir=configs))


@beyond_app.command("amazon")
def amazon_command(out: Out = Path("runs/beyond"), seeds: Seeds = "0,1,2,3,4", epochs: Epochs = None,
                   configs: Configs = None):
    """Amazon: title + body as two inputs vs one concatenated input."""
    # Loaded on use: it imports Keras (seconds); `rnnlab --help` and light commands stay instant.
    from rnnlab.experiments.reproductions.beyond import amazon_inputs

    _show(amazon_inputs(out, seeds=_seeds(seeds), epochs=epochs, config_dir=configs))


app.add_typer(beyond_app, name="beyond")
