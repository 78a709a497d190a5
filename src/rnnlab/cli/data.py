"""`rnnlab data stats | export-keras`: look at datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from rnnlab.cli.output import JsonFlag, console, print_json
from rnnlab.data import load_dataset, load_imdb
from rnnlab.text import Tokenizer, length_stats, plot_length_histogram
from rnnlab.text.keras_format import export_keras_imdb

app = typer.Typer(help="Look at datasets.", no_args_is_help=True)


@app.command("stats")
def data_stats(
    dataset: str = "imdb",
    split: str = "train",
    tokenizer: Annotated[str, typer.Option(help="keras or nltk.")] = "keras",
    maxlen: Annotated[Optional[int], typer.Option(min=1, help="Report how well this length covers the reviews.")] = 200,
    limit: Annotated[Optional[int], typer.Option(min=1, help="Look at N reviews.")] = None,
    plot: Annotated[Optional[Path], typer.Option(help="Write a length histogram PNG here.")] = None,
    as_json: JsonFlag = False,
):
    """Review length statistics (in tokens) and a suggested maxlen."""

    examples = load_dataset(dataset, split)
    if limit:
        examples = examples.sample(limit) if examples.labels is not None else examples.subset(range(min(limit, len(examples))))
    lengths = [len(tokens) for tokens in Tokenizer(tokenizer).tokenize_many(examples.texts)]
    stats = length_stats(lengths, maxlen=maxlen)
    stats.update({"dataset": dataset, "split": split, "tokenizer": tokenizer, "maxlen": maxlen})
    if plot:
        plot_length_histogram(lengths, plot, maxlen=maxlen, title=f"{dataset} {split}: tokens per text")
        stats["plot"] = str(plot)
    if as_json:
        return print_json(stats)
    table = Table(title=f"{dataset} {split}: {stats['count']:,} texts, {tokenizer} tokens")
    table.add_column("statistic")
    table.add_column("value", justify="right")
    for key, value in stats.items():
        if key in ("dataset", "split", "tokenizer", "plot"):
            continue
        table.add_row(key, f"{value:.3f}" if isinstance(value, float) else str(value))
    console.print(table)
    if plot:
        console.print(f"histogram written to {plot}")


@app.command("export-keras")
def data_export_keras(
    out: Annotated[Path, typer.Option(help="Folder for imdb.npz and imdb_word_index.json.")] = Path("keras-imdb"),
    limit: Annotated[Optional[int], typer.Option(min=1, help="Export at most N train and N test reviews.")] = None,
):
    """Write the parsed IMDB archive in the keras.datasets.imdb format (imdb.npz + word index)."""

    train_set, test_set = load_imdb("train"), load_imdb("test")
    if limit:
        train_set, test_set = train_set.sample(limit), test_set.sample(limit)
    out.mkdir(parents=True, exist_ok=True)
    npz, index = export_keras_imdb(train_set.texts, train_set.labels, test_set.texts, test_set.labels,
                                   out / "imdb.npz", out / "imdb_word_index.json")
    console.print(f"wrote {npz} and {index}: load them with rnnlab.text.keras_format.load_keras_imdb "
                  "or keras.datasets.imdb semantics")
