"""`rnnlab train` and `rnnlab baseline`: train a model or a linear baseline and score it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from rnnlab.cli.output import JsonFlag, console, print_json, print_test
from rnnlab.files import write_json

app = typer.Typer()


@app.command()
def train(
    model: Annotated[str, typer.Argument(
        help="Named model (see `rnnlab models`), a spec JSON file, or a training config "
             "({\"spec\": ..., \"recipe\": ...}, e.g. configs/beyond/*.json).")],
    dataset: Annotated[Optional[str], typer.Option(
        help="imdb, imdb-ratings (8 star classes), amazon, digits, or a data file (.csv/.txt texts; "
             ".npz/.npy/.csv numeric sequences for a spec with features); default: the recipe's.")] = None,
    vocab_size: Annotated[Optional[int], typer.Option(min=3, help="Vocabulary ids, padding and OOV included.")] = None,
    maxlen: Annotated[Optional[int], typer.Option(min=1, help="Tokens fed per text.")] = None,
    epochs: Annotated[Optional[int], typer.Option(min=1)] = None,
    batch_size: Annotated[Optional[int], typer.Option(min=1)] = None,
    validation_split: Annotated[Optional[float], typer.Option(min=0.0, max=1.0)] = None,
    optimizer: Optional[str] = None,
    lr: Annotated[Optional[float], typer.Option("--lr", min=0.0, help="Learning rate.")] = None,
    clipnorm: Annotated[Optional[float], typer.Option(min=0.0)] = None,
    tokenizer: Annotated[Optional[str], typer.Option(help="keras or nltk.")] = None,
    early_stopping: Annotated[Optional[int], typer.Option(min=1, help="Patience in epochs on validation loss.")] = None,
    chunk_length: Annotated[Optional[int], typer.Option(
        min=1, help="Read each sequence (maxlen steps) in chunks of N steps with a stateful model that carries its "
             "state across batches; the batch size is fixed.")] = None,
    seed: int = 0,
    limit: Annotated[Optional[int], typer.Option(min=1, help="Use at most N train and N test examples.")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Bundle folder to write.")] = None,
    as_json: JsonFlag = False,
):
    """Train a model with its recipe, evaluate it on the test split, save a bundle."""
    # Loaded on use: it imports Keras (seconds); `rnnlab --help` and light commands stay instant.
    from rnnlab.training.engine import train as run_training


    result = run_training(model, out=out, seed=seed, limit=limit, early_stopping=early_stopping,
                          verbose=2 if as_json else "auto", dataset=dataset, vocab_size=vocab_size, maxlen=maxlen,
                          epochs=epochs, batch_size=batch_size, validation_split=validation_split,
                          optimizer=optimizer, learning_rate=lr, clipnorm=clipnorm, tokenizer=tokenizer,
                          chunk_length=chunk_length)
    if as_json:
        return print_json(result.metrics())
    console.print(f"[bold]{result.spec.name}[/]: {result.params:,} parameters, trained in {result.train_seconds:.1f} s")
    if result.test:
        print_test(result.test)
    if out:
        console.print(f"bundle saved to {out}")


@app.command()
def baseline(
    name: Annotated[str, typer.Argument(help="tfidf-lr (TF-IDF n-grams + logistic regression) or nbsvm.")],
    dataset: Annotated[str, typer.Option(help="imdb, amazon, imdb-ratings or a data file, as for `train`.")] = "imdb",
    seed: Annotated[int, typer.Option(help="The `train` seed whose data and validation rows to use.")] = 0,
    validation_split: Annotated[float, typer.Option(min=0.0, max=1.0, help="Fraction of training texts held out to tune on.")] = 0.2,
    limit: Annotated[Optional[int], typer.Option(min=1, help="Use at most N train and N test examples.")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Write the result to this JSON file.")] = None,
    as_json: JsonFlag = False,
):
    """Tune a linear baseline on the recurrent models' validation rows, score the test split once."""
    # Loaded on use: it imports Keras (seconds); `rnnlab --help` and light commands stay instant.
    from rnnlab.experiments.baseline import run_baseline


    result = run_baseline(name, dataset, seed=seed, validation_split=validation_split, limit=limit)
    if out is not None:
        write_json(out, result, indent=2)
    if as_json:
        return print_json(result)
    console.print(f"[bold]{name}[/] on {dataset}: {result['train_examples']:,} fit, "
                  f"{result['validation_examples']:,} validation, {result['test_examples']:,} test examples "
                  f"({result['seconds']:.1f} s)")
    cs = sorted({p["C"] for p in result["grid"]})
    table = Table(title="validation accuracy (rows: n-grams, columns: C)")
    table.add_column("n-grams")
    for c in cs:
        table.add_column(f"C={c:g}", justify="right")
    for ngrams in dict.fromkeys(tuple(p["ngram_range"]) for p in result["grid"]):
        scores = {p["C"]: p["validation_accuracy"] for p in result["grid"] if tuple(p["ngram_range"]) == ngrams}
        table.add_row(f"{ngrams[0]}-{ngrams[1]}", *[
            f"[bold]{100 * scores[c]:.2f}%[/]" if (c, list(ngrams)) == (result["C"], result["ngram_range"])
            else f"{100 * scores[c]:.2f}%" for c in cs])
    console.print(table)
    console.print(f"chosen: {result['ngram_range'][0]}-{result['ngram_range'][1]} grams, C={result['C']:g}, "
                  f"{result['n_features']:,} features, validation accuracy "
                  f"[bold]{100 * result['validation_accuracy']:.2f}%[/]")
    print_test({"accuracy": result["test_accuracy"], "macro_f1": result["macro_f1"], "loss": result["test_loss"],
                 "examples": result["test_examples"], "class_names": result["class_names"],
                 "confusion_matrix": result["confusion_matrix"],
                 **{k: result[k] for k in ("rating_mae",) if k in result}})
    if out is not None:
        console.print(f"result written to {out}")
