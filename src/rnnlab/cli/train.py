"""`rnnlab train` and `rnnlab baseline`: train a model or a linear baseline and score it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from rnnlab.cli.options import MLFLOW, MLFLOW_ALONE, MlflowCommand
from rnnlab.cli.output import JsonFlag, console, err, print_json, print_test
from rnnlab.errors import InvalidInputError
from rnnlab.files import write_json

app = typer.Typer()


@app.command(cls=MlflowCommand)
def train(
    model: Annotated[str, typer.Argument(
        help="Named model (see `rnnlab models`), `auto` (settings chosen from the data, a linear baseline "
             "beside it), a spec JSON file, or a training config ({\"spec\": ..., \"recipe\": ...}).")],
    dataset: Annotated[Optional[str], typer.Option(
        help="imdb, imdb-ratings (8 star classes), imdb-score (the rating as a number), amazon, digits, or your data: a .csv/.tsv/.jsonl/.parquet/.xlsx "
             "table, a folder with a folder of .txt files per class, a fastText .txt file (.npz/.npy/.csv numeric "
             "sequences for a spec with features); default: the recipe's.")] = None,
    text_column: Annotated[Optional[str], typer.Option(help="The table's text column (default: found).")] = None,
    label_column: Annotated[Optional[str], typer.Option(help="The table's label column (default: found).")] = None,
    label_separator: Annotated[Optional[str], typer.Option(
        help="The label cells hold several labels joined by this string, e.g. ',' or '|': a multi-label model "
             "(one sigmoid per label, a threshold per label tuned on validation). JSON-list cells need none.")
    ] = None,
    numeric_labels: Annotated[bool, typer.Option(
        "--numeric-labels", help="The label cells are numbers to predict (a rating, a score): a regression model, "
        "scored by MAE, RMSE and R^2 (a column of numbers that are not all whole is read so without it).")] = False,
    sheet: Annotated[Optional[str], typer.Option(
        help="The sheet of an Excel workbook (.xlsx) --dataset (default: its first).")] = None,
    field_column: Annotated[Optional[list[str]], typer.Option(
        help="FIELD=COLUMN for a model reading several fields, e.g. --field-column title=Summary (repeatable).")
    ] = None,
    test: Annotated[Optional[str], typer.Option(
        help="A file or folder of test examples, read like --dataset (default: the dataset's test split, "
             "else a held-out share).")] = None,
    test_fraction: Annotated[Optional[float], typer.Option(
        min=0.01, max=0.9, help="Share of a dataset without a test split held out for testing (default 0.2).")
    ] = None,
    vocab_size: Annotated[Optional[int], typer.Option(min=3, help="Vocabulary ids, padding and OOV included.")] = None,
    maxlen: Annotated[Optional[int], typer.Option(min=1, help="Tokens fed per text.")] = None,
    epochs: Annotated[Optional[int], typer.Option(min=1, help="Epochs (for `auto`: the most it trains).")] = None,
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
    baseline_name: Annotated[str, typer.Option("--baseline", help="For `auto`: the linear baseline trained beside "
                                               "it, nbsvm, tfidf-lr or none.")] = "nbsvm",
    adversarial: Annotated[Optional[float], typer.Option(
        min=0.0, help="Weight of adversarial training: the loss again with the embedded words moved along its "
             "gradient (default 0, off).")] = None,
    virtual_adversarial: Annotated[Optional[float], typer.Option(
        min=0.0, help="Weight of virtual adversarial training: how much the predictions change under the worst "
             "small move of the embedded words; needs no labels, so it learns from --unlabelled texts too.")] = None,
    entropy: Annotated[Optional[float], typer.Option(
        min=0.0, help="Weight of entropy minimisation on the predictions (labelled and --unlabelled texts).")] = None,
    perturbation: Annotated[Optional[float], typer.Option(
        min=0.0, help="The adversarial moves' size, as a share of each text's embedding norm (default 0.05).")
    ] = None,
    unlabelled: Annotated[Optional[str], typer.Option(
        help="Texts without labels for --virtual-adversarial and --entropy (for `auto`: always used): imdb (its "
             "50,000 unsup reviews), a table (.csv/.tsv/.jsonl/.parquet) or a .txt file of one text per line.")
    ] = None,
    unlabelled_column: Annotated[Optional[str], typer.Option(
        help="The --unlabelled table's text column (default: found).")] = None,
    class_weight: Annotated[Optional[str], typer.Option(
        help="balanced: weigh each training text by n / (classes x its class's count), so a rare class counts as "
             "much as a common one (one label a text).")] = None,
    decision_threshold: Annotated[Optional[str], typer.Option(
        help="Two classes: the positive class's probability from which a text gets it, a number in (0, 1), or "
             "'tune' for the best macro-F1 on the validation rows; stored in the bundle (default: the more "
             "probable class).")] = None,
    seed: int = 0,
    limit: Annotated[Optional[int], typer.Option(min=1, help="Use at most N train and N test examples.")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Bundle folder to write.")] = None,
    mlflow: Annotated[Optional[str], typer.Option(
        MLFLOW, metavar="[URI]",
        help="Also log the run (parameters, curves, test metrics, bundle) to MLflow: a tracking URI or a local "
             f"folder; alone, {MLFLOW_ALONE}.")] = None,
    as_json: JsonFlag = False,
):
    """Train a model with its recipe, evaluate it on the test split, save a bundle.

    Every bundle holds TensorBoard event files: `tensorboard --logdir OUT/logs`.
    """
    # Loaded on use: it imports Keras (seconds); `rnnlab --help` and light commands stay instant.
    from rnnlab.training.engine import prepare_for, resolve
    from rnnlab.training.engine import train as run_training

    source = {"text_column": text_column, "label_column": label_column, "field_columns": _field_columns(field_column),
              "test": test, "test_fraction": test_fraction, "unlabelled": unlabelled,
              "unlabelled_column": unlabelled_column, "label_separator": label_separator,
              "numeric_labels": numeric_labels or None, "sheet": sheet}
    objectives = {k: v for k, v in (("adversarial", adversarial), ("virtual_adversarial", virtual_adversarial),
                                    ("entropy", entropy), ("perturbation", perturbation),
                                    ("class_weight", class_weight),
                                    ("decision_threshold", _decision_threshold(decision_threshold))) if v is not None}
    if class_weight not in (None, "balanced"):
        raise InvalidInputError(f"--class-weight takes 'balanced', got {class_weight!r} (a table of weights by class "
                                "goes in a config's [training] class_weight).")
    if label_separator is not None and not label_separator:
        raise InvalidInputError("--label-separator joins the labels of a cell: give it a string such as ',' or '|'.")
    if unlabelled_column is not None and unlabelled is None:
        raise InvalidInputError("--unlabelled-column names a column of the --unlabelled file; give --unlabelled too.")
    if model == "auto":
        return _train_auto(dataset, source, out=out, seed=seed, limit=limit, vocab_size=vocab_size, maxlen=maxlen,
                           epochs=epochs, tokenizer=tokenizer, baseline=baseline_name, as_json=as_json, mlflow=mlflow,
                           unused={"--batch-size": batch_size, "--validation-split": validation_split,
                                   "--optimizer": optimizer, "--lr": lr, "--clipnorm": clipnorm,
                                   "--early-stopping": early_stopping, "--chunk-length": chunk_length,
                                   **{f"--{k.replace('_', '-')}": v for k, v in objectives.items()}})
    if baseline_name != "nbsvm":
        raise InvalidInputError("--baseline applies to `rnnlab train auto` only.")
    overrides = dict(dataset=dataset, vocab_size=vocab_size, maxlen=maxlen, epochs=epochs, batch_size=batch_size,
                     validation_split=validation_split, optimizer=optimizer, learning_rate=lr, clipnorm=clipnorm,
                     tokenizer=tokenizer, chunk_length=chunk_length, **source)
    spec, recipe = resolve(model, **overrides)
    data = prepare_for(spec, recipe, seed=seed, limit=limit)
    if not as_json and data.info.get("profile"):
        print_profile(data.info["profile"], data.info.get("columns"))
    result = run_training(model, out=out, seed=seed, limit=limit, early_stopping=early_stopping,
                          data=data, objectives=objectives, **overrides)
    run_id = _log_mlflow(result, out, mlflow)
    if as_json:
        return print_json({**result.metrics(), **({"mlflow_run": run_id} if run_id else {})})
    console.print(f"[bold]{result.spec.name}[/]: {result.params:,} parameters, trained in {result.train_seconds:.1f} s")
    if result.test:
        print_test(result.test)
    warn_flat(result)
    if out:
        console.print(f"bundle saved to {out} (curves: tensorboard --logdir {out}/logs)")
    if run_id:
        console.print(f"logged to MLflow ({mlflow}): run {run_id}")


def warn_flat(result) -> None:
    """Say why every probability is near the class shares when the fitted temperature says the model learnt little."""
    warning = (result.notes.get("calibration") or {}).get("warning")
    if warning:
        err.print(f"[yellow]warning[/]: {warning}")


def _log_mlflow(result, out, uri):
    if uri is None:
        return None
    from rnnlab.training.tracking import log_mlflow

    def log_model(mlflow, bundle):  # the bundle as a pyfunc model: mlflow.pyfunc.load_model("runs:/RUN_ID/model")
        from rnnlab.inference.pyfunc import log_bundle_model

        log_bundle_model(mlflow, bundle)

    return log_mlflow(result, out, uri, log_model=log_model)


def _field_columns(pairs: list[str] | None) -> dict[str, str] | None:
    if not pairs:
        return None
    found = {}
    for pair in pairs:
        name, sep, column = pair.partition("=")
        if not sep or not name.strip() or not column.strip():
            raise InvalidInputError(f"--field-column {pair!r}: write FIELD=COLUMN, e.g. --field-column title=Summary.")
        found[name.strip()] = column.strip()
    return found


def _train_auto(dataset, source, *, out, seed, limit, vocab_size, maxlen, epochs, tokenizer, baseline, as_json,
                mlflow, unused):
    from rnnlab.experiments.recipes.auto import MAX_EPOCHS, train_auto

    given = [name for name, value in unused.items() if value is not None]
    if given:
        raise InvalidInputError(f"`rnnlab train auto` chooses {', '.join(given)} itself; leave it out, or train a "
                                "named model to set it.")
    if dataset is None:
        raise InvalidInputError("`rnnlab train auto` needs --dataset: a file or folder of your data, or a dataset "
                                "name (imdb, amazon).")
    if source.pop("field_columns"):
        raise InvalidInputError("`rnnlab train auto` reads one text column; --field-column is for a fields model.")
    if source.pop("numeric_labels"):
        raise InvalidInputError("`rnnlab train auto` classifies; for numbers to predict train a named model, e.g. "
                                "`rnnlab train gru --dataset FILE --numeric-labels`.")

    def show(info, settings):
        if as_json:
            return
        print_profile(info["profile"], info.get("columns"))
        console.print(f"chosen: vocabulary {settings['vocab_size']:,}, maxlen {settings['maxlen']} tokens, "
                      f"batches of {settings['batch_size']}"
                      + (", balanced class weights (skewed classes)" if settings.get("class_weight") else ""))

    auto = train_auto(dataset, out=out, seed=seed, limit=limit, vocab_size=vocab_size, maxlen=maxlen,
                      epochs=epochs or MAX_EPOCHS, tokenizer=tokenizer or "keras",
                      baseline=None if baseline == "none" else baseline,
                      on_data=show, **{k: v for k, v in source.items() if v is not None})
    summary = auto.summary()
    run_id = _log_mlflow(auto.result, out, mlflow)
    if as_json:
        return print_json({**summary, **({"mlflow_run": run_id} if run_id else {})})
    result = auto.result
    console.print(f"[bold]{result.spec.name}[/]: {result.params:,} parameters, trained in "
                  f"{result.train_seconds:.1f} s ({len(result.history.get('loss', []))} epochs)")
    if result.test:
        print_test(result.test)
    multi = result.spec.multi_label
    score = "macro_f1" if multi else "accuracy"
    if multi:
        console.print("several labels a text: one sigmoid per label, thresholds tuned on the validation rows; "
                      "models compared by macro-F1")
    candidates = summary.get("candidates") or {}
    recurrent = {**summary["recurrent"], **candidates.get(result.spec.name, {})}

    def shown(figures, key):
        value = figures.get(key)
        return "" if value is None else f"{100 * value:.2f}%"

    if auto.baseline:
        table = Table(title="recurrent model against the linear baseline (same split"
                            + (", macro-F1)" if multi else ")"))
        for column in ("model", "validation", "test", "seconds"):
            table.add_column(column, justify="left" if column == "model" else "right")
        table.add_row(result.spec.name, shown(recurrent, f"validation_{score}"), shown(recurrent, f"test_{score}"),
                      f"{result.train_seconds:.1f}")
        b = auto.baseline
        table.add_row(f"{b['name']} ({b['ngram_range'][0]}-{b['ngram_range'][1]} grams, C={b['C']:g})",
                      shown(b, f"validation_{score}"), shown(b, f"test_{score}"), f"{b['seconds']:.1f}")
        docvec = candidates.get("doc-vectors")
        if docvec:
            table.add_row(f"document vectors ({docvec['dim']} dimensions, {docvec['epochs']} epochs)",
                          shown(docvec, f"validation_{score}"), shown(docvec, f"test_{score}"),
                          f"{docvec['seconds']:.1f}")
        blend = candidates.get("blend")
        if blend and blend.get(f"test_{score}") is not None:
            weights = ", ".join(f"{name} {w:.2f}" for name, w in blend["weights"].items())
            table.add_row(f"blend ({weights}; validation cross-fitted)", shown(blend, f"validation_{score}"),
                          shown(blend, f"test_{score}"), "")
        console.print(table)
        if recurrent.get(f"test_{score}") is not None and b.get(f"test_{score}") is not None:
            gap = 100 * (recurrent[f"test_{score}"] - b[f"test_{score}"])
            verdict = "earned its cost" if gap > 0 else "did not beat the baseline here"
            console.print(f"the recurrent model {verdict}: {gap:+.2f} points on test")
    if summary["model"] != result.spec.name and summary.get(f"test_{score}") is not None:
        console.print(f"kept: [bold]{summary['model']}[/] (best on validation), test {score.replace('_', '-')} "
                      f"{100 * summary[f'test_{score}']:.2f}%")
    console.print(f"total {auto.seconds:.1f} s" + (f"; bundle saved to {out}" if out else ""))
    if run_id:
        console.print(f"logged to MLflow ({mlflow}): run {run_id}")


def print_profile(profiles: dict, columns: dict | None = None) -> None:
    """Class balance, text lengths and warnings of the training and test data."""
    if columns:
        console.print("columns: " + ", ".join(f"{role} = {name!r}" for role, name in columns.items()))
    train, test = profiles["train"], profiles.get("test") or {}
    if train.get("target"):  # numbers to predict: their spread, not classes
        t = train["target"]
        console.print(f"data: {train['examples']:,} training, {test.get('examples', 0):,} test examples; "
                      f"{t['name']} from {t['min']:g} to {t['max']:g} (median {t['median']:g}, mean {t['mean']:g}, "
                      f"sd {t['std']:g})")
    table = Table(title=f"data: {train['examples']:,} training, {test.get('examples', 0):,} test examples")
    table.add_column("class")
    table.add_column("train", justify="right")
    table.add_column("test", justify="right")
    for name, count in train["classes"].items():
        share = count / max(1, train["examples"])
        table.add_row(name, f"{count:,} ({100 * share:.1f}%)", f"{test.get('classes', {}).get(name, 0):,}")
    if train["classes"]:
        console.print(table)
    words = train["words"]
    console.print(f"words per text: median {words['median']:g}, mean {words['mean']:g}, 90% under {words['p90']:g}, "
                  f"longest {words['max']:g}")
    for where, found in (("training", train), ("test", test)):
        for warning in found.get("warnings", []):
            err.print(f"[yellow]warning[/] ({where} data): {warning}")


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
    from rnnlab.experiments.recipes.baseline import run_baseline


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


def _decision_threshold(value: str | None):
    """``--decision-threshold``: None, ``"tune"`` or a number in (0, 1)."""
    if value is None or value == "tune":
        return value
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is None or not 0 < number < 1:
        raise InvalidInputError(f"--decision-threshold takes 'tune' or a number between 0 and 1, got {value!r}.")
    return number
