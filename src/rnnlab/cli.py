"""The `rnnlab` command: a thin shell over functions users can import.

Errors caused by input (`RnnlabError`) print one clear line and exit with status 2; anything
else is a bug and keeps its traceback.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from rnnlab import _backend  # noqa: F401  (before keras)
from rnnlab.errors import InvalidInputError, RnnlabError

app = typer.Typer(help="Build, train, compare and ship recurrent text classifiers.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
reproduce_app = typer.Typer(help="Reproduce a tutorial's experiment on the real data.", no_args_is_help=True)
data_app = typer.Typer(help="Look at datasets.", no_args_is_help=True)
app.add_typer(reproduce_app, name="reproduce")
app.add_typer(data_app, name="data")
embeddings_app = typer.Typer(help="Pre-trained word vectors: train word2vec on IMDB, check coverage.",
                             no_args_is_help=True)
app.add_typer(embeddings_app, name="embeddings")


def _mount_experiments() -> None:
    from rnnlab.experiments.cli import experiment_app  # light: does not import keras

    app.add_typer(experiment_app, name="experiment")
    from rnnlab.experiments.beyond import app as beyond_app

    reproduce_app.add_typer(beyond_app, name="beyond")


_mount_experiments()

console = Console()
err = Console(stderr=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of a table.")]


def _print_json(data) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


# ----------------------------------------------------------------------- models
@app.command()
def models(as_json: JsonFlag = False):
    """List the named models with their parameter counts."""
    from rnnlab.models import MODELS

    rows = [{"name": m.name, "params": int(m.spec.build(compile=False).count_params()),
             "description": m.description, "dataset": m.recipe.dataset, "epochs": m.recipe.epochs,
             "published_accuracy": m.recipe.published_accuracy} for m in MODELS.values()]
    if as_json:
        return _print_json(rows)
    table = Table(title="Named models")
    for column in ("name", "parameters", "architecture", "dataset", "epochs", "published acc."):
        table.add_column(column, justify="right" if column in ("parameters", "epochs", "published acc.") else "left")
    for r in rows:
        published = f"{r['published_accuracy']:.2f}%" if r["published_accuracy"] else ""
        table.add_row(r["name"], f"{r['params']:,}", r["description"], r["dataset"], str(r["epochs"]), published)
    console.print(table)


def _build_named_or_spec(model: str):
    from rnnlab.train import resolve

    spec, _ = resolve(model)
    return spec.build(compile=False)


@app.command()
def summary(model: Annotated[str, typer.Argument(help="Model name or spec JSON file.")]):
    """Print the Keras summary of a model."""
    _build_named_or_spec(model).summary(print_fn=lambda line, **_: console.print(line, markup=False, highlight=False))


@app.command()
def weights(model: Annotated[str, typer.Argument(help="Model name or spec JSON file.")], as_json: JsonFlag = False):
    """Show each recurrent layer's weight shapes, checked against the parameter formulas."""
    from rnnlab.models.weights import recurrent_weights

    rows = recurrent_weights(_build_named_or_spec(model))
    if as_json:
        return _print_json([r.to_dict() for r in rows])
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


# ------------------------------------------------------------------------ train
def _print_test(test: dict) -> None:
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


@app.command()
def train(
    model: Annotated[str, typer.Argument(
        help="Named model (see `rnnlab models`), a spec JSON file, or a training config "
             "({\"spec\": ..., \"recipe\": ...}, e.g. configs/beyond/*.json).")],
    dataset: Annotated[Optional[str], typer.Option(
        help="imdb, imdb-ratings (8 star classes), amazon, digits, or a data file (.csv/.txt texts; "
             ".npz/.npy/.csv numeric sequences for a spec with features); default: the recipe's.")] = None,
    vocab_size: Optional[int] = None,
    maxlen: Optional[int] = None,
    epochs: Optional[int] = None,
    batch_size: Optional[int] = None,
    validation_split: Optional[float] = None,
    optimizer: Optional[str] = None,
    lr: Annotated[Optional[float], typer.Option("--lr", help="Learning rate.")] = None,
    clipnorm: Optional[float] = None,
    tokenizer: Annotated[Optional[str], typer.Option(help="keras or nltk.")] = None,
    early_stopping: Annotated[Optional[int], typer.Option(help="Patience in epochs on validation loss.")] = None,
    chunk_length: Annotated[Optional[int], typer.Option(
        help="Read each sequence (maxlen steps) in chunks of N steps with a stateful model that carries its "
             "state across batches; the batch size is fixed.")] = None,
    seed: int = 0,
    limit: Annotated[Optional[int], typer.Option(help="Use at most N train and N test examples.")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Bundle folder to write.")] = None,
    as_json: JsonFlag = False,
):
    """Train a model with its recipe, evaluate it on the test split, save a bundle."""
    from rnnlab.train import train as run_training

    result = run_training(model, out=out, seed=seed, limit=limit, early_stopping=early_stopping,
                          verbose=2 if as_json else "auto", dataset=dataset, vocab_size=vocab_size, maxlen=maxlen,
                          epochs=epochs, batch_size=batch_size, validation_split=validation_split,
                          optimizer=optimizer, learning_rate=lr, clipnorm=clipnorm, tokenizer=tokenizer,
                          chunk_length=chunk_length)
    if as_json:
        return _print_json(result.metrics())
    console.print(f"[bold]{result.spec.name}[/]: {result.params:,} parameters, trained in {result.train_seconds:.1f} s")
    if result.test:
        _print_test(result.test)
    if out:
        console.print(f"bundle saved to {out}")


@app.command()
def evaluate(
    bundle: Annotated[Path, typer.Argument(help="Bundle folder.")],
    dataset: str = "imdb",
    split: str = "test",
    limit: Optional[int] = None,
    as_json: JsonFlag = False,
):
    """Score a saved bundle on a dataset split."""
    from rnnlab.bundle import Bundle
    from rnnlab.evaluate import evaluate as score
    from rnnlab.prepare import load_splits

    loaded = Bundle.load(bundle)
    seed = int(loaded.metrics.get("seed", 0))
    train_set, test_set = load_splits(dataset, seed=seed)
    examples = {"train": train_set, "test": test_set}.get(split)
    if examples is None:
        raise InvalidInputError(f"Unknown split {split!r}: use train or test.")
    if limit:
        examples = examples.sample(limit, seed=seed)
    x = loaded.preprocessor.transform(examples.texts)
    result = score(loaded.model, x, examples.labels, loaded.class_names)
    if as_json:
        return _print_json(result)
    _print_test(result)


@app.command()
def baseline(
    name: Annotated[str, typer.Argument(help="tfidf-lr (TF-IDF n-grams + logistic regression) or nbsvm.")],
    dataset: Annotated[str, typer.Option(help="imdb, amazon, imdb-ratings or a data file, as for `train`.")] = "imdb",
    seed: Annotated[int, typer.Option(help="The `train` seed whose data and validation rows to use.")] = 0,
    validation_split: Annotated[float, typer.Option(help="Fraction of training texts held out to tune on.")] = 0.2,
    limit: Annotated[Optional[int], typer.Option(help="Use at most N train and N test examples.")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Write the result to this JSON file.")] = None,
    as_json: JsonFlag = False,
):
    """Tune a linear baseline on the recurrent models' validation rows, score the test split once."""
    from rnnlab.experiments.baseline import run_baseline

    result = run_baseline(name, dataset, seed=seed, validation_split=validation_split, limit=limit)
    if out is not None:
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, out)
    if as_json:
        return _print_json(result)
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
    _print_test({"accuracy": result["test_accuracy"], "macro_f1": result["macro_f1"], "loss": result["test_loss"],
                 "examples": result["test_examples"], "class_names": result["class_names"],
                 "confusion_matrix": result["confusion_matrix"],
                 **{k: result[k] for k in ("rating_mae",) if k in result}})
    if out is not None:
        console.print(f"result written to {out}")


def _read_texts(path: Path) -> list[str]:
    if not path.exists():
        raise InvalidInputError(f"Input file {path} does not exist.")
    try:
        content = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start}); re-save it as UTF-8.")
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(content.splitlines())
        columns = reader.fieldnames or []
        column = next((c for c in ("text", "review", "review_text") if c in columns), columns[0] if columns else None)
        if column is None:
            raise InvalidInputError(f"{path} has no header row; put the texts in a column named 'text'.")
        return [row[column] for row in reader]
    return [line for line in content.splitlines() if line.strip()]


def _write_predictions_csv(path: Path, predictions, class_names) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "probability", *[f"p_{c}" for c in class_names],
                         "n_tokens", "n_oov", "truncated"])
        for p in predictions:
            writer.writerow([p.text, p.label, f"{p.probability:.6f}",
                             *[f"{p.probabilities[c]:.6f}" for c in class_names], p.n_tokens, p.n_oov, p.truncated])
    os.replace(tmp, path)


@app.command()
def predict(
    bundle: Annotated[Path, typer.Argument(help="Bundle folder.")],
    texts: Annotated[Optional[list[str]], typer.Argument(help="Texts to classify.")] = None,
    input: Annotated[Optional[Path], typer.Option("--input", help="txt (one text per line) or csv with a text column.")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", help="Write predictions to this CSV file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per text.")] = False,
):
    """Classify raw texts with a saved bundle."""
    from rnnlab.bundle import Bundle

    items = list(texts or [])
    if input is not None:
        items += _read_texts(input)
    if not items:
        raise InvalidInputError("Nothing to classify: give texts as arguments or --input FILE.")
    loaded = Bundle.load(bundle)
    predictions = loaded.predict(items)
    if output is not None:
        _write_predictions_csv(output, predictions, loaded.class_names)
        console.print(f"{len(predictions):,} predictions written to {output}")
        return
    if as_json:
        for p in predictions:
            sys.stdout.write(json.dumps(p.to_dict()) + "\n")
        return
    table = Table()
    for column in ("text", "label", "probability", "tokens", "oov"):
        table.add_column(column)
    for p in predictions:
        shown = p.text if len(p.text) <= 70 else p.text[:67] + "..."
        colour = "green" if p.label in ("pos", "positive") else "red" if p.label in ("neg", "negative") else "white"
        table.add_row(shown, f"[{colour}]{p.label}[/]", f"{p.probability:.3f}", str(p.n_tokens), str(p.n_oov))
    console.print(table)


@app.command()
def explain(
    bundle: Annotated[Path, typer.Argument(help="Bundle folder.")],
    text: Annotated[str, typer.Argument(help="The text to explain.")],
    png: Annotated[Optional[Path], typer.Option("--png", help="Also draw the text shaded by score to this PNG.")] = None,
    as_json: JsonFlag = False,
):
    """Which words a prediction rests on: the model's attention weights, or occlusion when it has none."""
    from rnnlab.bundle import Bundle
    from rnnlab.serve.service import ModelService

    service = ModelService(Bundle.load(bundle), max_texts=1)
    result = service.explain(text)
    if png is not None:
        from rnnlab.plots import plot_token_scores

        key = ("blue: attention weight, darker = more" if result["method"] == "attention"
               else "green / red: the word pushes towards / away from the positive class")
        title = f"{result['label']} ({result['probability']:.3f}); {key}"
        plot_token_scores([t["token"] for t in result["tokens"]], [t["score"] for t in result["tokens"]], png,
                          title=title, method=result["method"])
    if as_json:
        _print_json(result)
        return
    console.print(f"{result['label']} ({result['probability']:.3f}); scores by {result['method']}")
    ranked = sorted(result["tokens"], key=lambda t: -abs(t["score"]))[:10]
    console.print(", ".join(f"{t['token']} {t['score']:+.3f}" for t in ranked))
    if png is not None:
        console.print(f"figure: {png}")


@app.command()
def serve(
    bundle: Annotated[Path, typer.Argument(help="Bundle folder.")],
    host: Annotated[str, typer.Option(help="Interface to listen on (0.0.0.0: every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Processes, each loading the model once.")] = 1,
    max_texts: Annotated[int, typer.Option(help="Most texts per predict request.")] = 64,
    max_chars: Annotated[int, typer.Option(help="Most characters per text.")] = 20_000,
    max_body_bytes: Annotated[Optional[int], typer.Option(help="Largest request body; default: room for the other limits.")] = None,
):
    """Serve a bundle: JSON API under /v1, a page to try it at /, API docs at /docs."""
    from rnnlab.serve import run

    console.print(f"loading {bundle} and compiling the model...")
    run(bundle, host=host, port=port, workers=workers, max_texts=max_texts, max_chars=max_chars,
        max_body_bytes=max_body_bytes)


# -------------------------------------------------------------------- reproduce
@reproduce_app.command("textbook")
def reproduce_textbook(
    out: Annotated[Path, typer.Option(help="Folder for results and the best bundle.")] = Path("runs/textbook"),
    seed: int = 0,
    limit: Annotated[Optional[int], typer.Option(help="Use at most N train and N test reviews (quick look).")] = None,
    epochs: Annotated[Optional[int], typer.Option(help="Override every recipe's epochs (quick look).")] = None,
    models: Annotated[Optional[str], typer.Option(help="Comma-separated subset of the five models.")] = None,
    as_json: JsonFlag = False,
):
    """Train the textbook's five IMDB models and compare them with the published accuracies."""
    from rnnlab.experiments.textbook import reproduce_textbook as run
    from rnnlab.models.zoo import TEXTBOOK_NAMES

    names = tuple(m.strip() for m in models.split(",")) if models else TEXTBOOK_NAMES

    def show(row):
        if not as_json:
            console.print(f"[bold]{row.model}[/]: test accuracy {100 * row.test_accuracy:.2f}% "
                          f"({row.train_seconds:.0f} s training)")

    result = run(out, models=names, seed=seed, limit=limit, epochs=epochs, verbose=0 if as_json else "auto",
                 on_result=show)
    if as_json:
        return _print_json(result)
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


# ------------------------------------------------------------------------- data
@data_app.command("stats")
def data_stats(
    dataset: str = "imdb",
    split: str = "train",
    tokenizer: Annotated[str, typer.Option(help="keras or nltk.")] = "keras",
    maxlen: Annotated[Optional[int], typer.Option(help="Report how well this length covers the reviews.")] = 200,
    limit: Optional[int] = None,
    plot: Annotated[Optional[Path], typer.Option(help="Write a length histogram PNG here.")] = None,
    as_json: JsonFlag = False,
):
    """Review length statistics (in tokens) and a suggested maxlen."""
    from rnnlab.data import load_dataset
    from rnnlab.text import Tokenizer, length_stats, plot_length_histogram

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
        return _print_json(stats)
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


@data_app.command("export-keras")
def data_export_keras(
    out: Annotated[Path, typer.Option(help="Folder for imdb.npz and imdb_word_index.json.")] = Path("keras-imdb"),
    limit: Annotated[Optional[int], typer.Option(help="Export at most N train and N test reviews.")] = None,
):
    """Write the parsed IMDB archive in the keras.datasets.imdb format (imdb.npz + word index)."""
    from rnnlab.data import load_imdb
    from rnnlab.text.keras_format import export_keras_imdb

    train_set, test_set = load_imdb("train"), load_imdb("test")
    if limit:
        train_set, test_set = train_set.sample(limit), test_set.sample(limit)
    out.mkdir(parents=True, exist_ok=True)
    npz, index = export_keras_imdb(train_set.texts, train_set.labels, test_set.texts, test_set.labels,
                                   out / "imdb.npz", out / "imdb_word_index.json")
    console.print(f"wrote {npz} and {index}: load them with rnnlab.text.keras_format.load_keras_imdb "
                  "or keras.datasets.imdb semantics")


# ------------------------------------------------------------------- embeddings
@embeddings_app.command("train")
def embeddings_train(
    dim: Annotated[int, typer.Option(help="Vector size.")] = 100,
    epochs: Annotated[int, typer.Option(help="Passes over the reviews.")] = 5,
    min_count: Annotated[int, typer.Option(help="Words seen fewer times get no vector.")] = 2,
    window: Annotated[int, typer.Option(help="Context words on each side.")] = 5,
    skip_gram: Annotated[bool, typer.Option("--skip-gram", help="Skip-gram instead of CBOW.")] = False,
    workers: Annotated[Optional[int], typer.Option(help="Training threads; default: every core.")] = None,
    seed: int = 0,
    limit: Annotated[Optional[int], typer.Option(help="Train on a sample of N reviews (quick look).")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Also copy the vectors file here.")] = None,
    as_json: JsonFlag = False,
):
    """Train word2vec on the IMDB train + unsup reviews; the same options reuse the cached vectors."""
    import time

    from rnnlab.text.vectors import detect_format
    from rnnlab.text.word2vec import train_word2vec, word2vec_path

    options = dict(dim=dim, window=window, min_count=min_count, epochs=epochs, seed=seed, limit=limit, sg=skip_gram)
    cached = word2vec_path(**options).is_file()
    started = time.perf_counter()
    path = train_word2vec(workers=workers, out=out, **options)
    seconds = time.perf_counter() - started
    found = detect_format(path)
    result = {"path": str(path), "words": found.count, "dim": found.dim, "seconds": round(seconds, 2),
              "cached": cached, "out": str(out) if out is not None else None}
    if as_json:
        return _print_json(result)
    how = "found in the cache" if cached else f"trained in {seconds:.1f} s"
    console.print(f"{found.count:,} words of dimension {found.dim}, {how}:", highlight=False)
    sys.stdout.write(f"{path}\n")
    if out is not None:
        console.print(f"copied to {out}", highlight=False)


@embeddings_app.command("coverage")
def embeddings_coverage(
    vectors: Annotated[str, typer.Argument(help="GloVe or word2vec vectors file (text or binary), or word2vec-imdb.")],
    vocab_size: Annotated[int, typer.Option(help="Vocabulary ids, padding and OOV included; 0: every word.")] = 8000,
    dim: Annotated[int, typer.Option(help="Vector size of word2vec-imdb (trained if missing).")] = 100,
    limit: Annotated[Optional[int], typer.Option(help="Fit the vocabulary on N training reviews.")] = None,
    as_json: JsonFlag = False,
):
    """How much of the IMDB training vocabulary, and of its tokens, a vectors file covers."""
    from rnnlab.data import load_imdb
    from rnnlab.text import Preprocessor
    from rnnlab.text.vectors import load_embedding_matrix
    from rnnlab.text.word2vec import locate_vectors

    if vocab_size < 0:
        raise InvalidInputError(f"--vocab-size must be 0 (every word) or positive, got {vocab_size}.")
    path = locate_vectors(vectors, dim)  # before the slow part: a wrong path fails at once
    reviews = load_imdb("train")
    if limit:
        reviews = reviews.sample(limit)
    vocabulary = Preprocessor(vocab_size=vocab_size or None).fit(reviews.texts).vocabulary
    _, coverage = load_embedding_matrix(path, vocabulary)
    result = {**coverage.to_dict(), "vocab_size": vocab_size or None, "reviews": len(reviews)}
    if as_json:
        return _print_json(result)
    table = Table(title=f"{path.name} on the IMDB training vocabulary ({len(reviews):,} reviews, 'keras' tokens)")
    table.add_column("")
    table.add_column("value", justify="right")
    table.add_row("format", f"{coverage.format}, dimension {coverage.dim}")
    table.add_row("vocabulary words with a vector",
                  f"{coverage.words_found:,} of {coverage.words:,} ({100 * coverage.word_share:.2f}%)")
    if coverage.tokens:
        table.add_row("training tokens covered",
                      f"{coverage.tokens_found:,} of {coverage.tokens:,} ({100 * coverage.token_share:.2f}%)")
    console.print(table)
    if coverage.missing:
        console.print("most frequent words without a vector: " + ", ".join(coverage.missing), highlight=False)


def main() -> None:
    try:
        app()
    except RnnlabError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
