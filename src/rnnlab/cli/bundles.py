"""`rnnlab predict | evaluate | explain | serve`: use a saved bundle of any input kind.

Text bundles take raw strings; every kind takes ``--input FILE`` (see
:mod:`rnnlab.encoding.records` for the files each kind reads).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from rnnlab.cli.output import JsonFlag, console, print_json, print_json_lines, print_test
from rnnlab.encoding.records import dataset_records, read_records
from rnnlab.errors import InvalidInputError
from rnnlab.files import atomic_path
from rnnlab.plots import plot_token_scores
from rnnlab.progress import task

app = typer.Typer()

BundleArg = Annotated[Path, typer.Argument(help="Bundle folder.")]
TextColumn = Annotated[Optional[str], typer.Option(help="The text column of a .csv/.tsv/.jsonl/.parquet/.xlsx input "
                                                        "(default: text, review or review_text).")]
Sheet = Annotated[Optional[str], typer.Option(help="The sheet of an Excel workbook (.xlsx) --input (default: its "
                                                   "first).")]


@app.command()
def evaluate(
    bundle: BundleArg,
    dataset: Annotated[Optional[str], typer.Option(help="Dataset name or file; default: the one it was trained on.")] = None,
    split: str = "test",
    limit: Annotated[Optional[int], typer.Option(min=1, help="Evaluate on N examples.")] = None,
    as_json: JsonFlag = False,
):
    """Score a saved bundle on a dataset split (split as in training)."""
    # Loaded on use: it imports Keras (seconds); `rnnlab --help` and light commands stay instant.
    from rnnlab.inference import Bundle
    from rnnlab.models import Recipe
    import numpy as np

    from rnnlab.training.calibration import scale
    from rnnlab.training.metrics import scored_probabilities

    loaded = Bundle.load(bundle)
    seed = int(loaded.metrics.get("seed", 0))
    recipe = loaded.metrics.get("recipe") or {}
    dataset = dataset or recipe.get("dataset") or "imdb"
    # The training data again: read with the columns, test file and held-out share it was trained with.
    same = dataset == recipe.get("dataset")
    source = {k: recipe[k] for k in Recipe().source_options() if same and recipe.get(k) is not None}
    records, labels, class_names = dataset_records(dataset, split, loaded.inputs, seed=seed, limit=limit, **source)
    if tuple(class_names) != tuple(loaded.class_names):
        raise InvalidInputError(f"{dataset!r} has classes {', '.join(class_names)} but the bundle predicts "
                                f"{', '.join(loaded.class_names)}: evaluate it on data with its classes.")
    probs = loaded.predictor.predict_proba(records)
    thresholds = getattr(loaded, "thresholds", None)
    if (np.ndim(labels) == 2) != (thresholds is not None):
        raise InvalidInputError(f"{dataset!r} has {'label sets' if np.ndim(labels) == 2 else 'one label a row'} but "
                                f"the bundle predicts {'label sets' if thresholds is not None else 'one label'}: "
                                "evaluate it on data like its training data.")
    temperature = getattr(loaded, "temperature", None)
    # The predictor scaled the probabilities; scaling by 1 / T gives the model's own back, for the ECE before.
    raw = probs if temperature is None else scale(probs, 1.0 / np.asarray(temperature), thresholds is not None)
    result = scored_probabilities(labels, raw, loaded.class_names, thresholds=thresholds, temperature=temperature,
                                  decision_threshold=getattr(loaded, "decision_threshold", None))
    result.update(dataset=dataset, split=split)
    if as_json:
        return print_json(result)
    print_test(result)


def _write_predictions(path: Path, predictions, loaded) -> None:
    from rnnlab.inference.batch import PredictionWriter, file_columns, prediction_row

    with atomic_path(path) as tmp, tmp.open("w", newline="", encoding="utf-8") as handle:
        PredictionWriter(handle, path, file_columns(loaded)).write(prediction_row(p, loaded.class_names)
                                                                   for p in predictions)


@app.command()
def predict(
    bundle: BundleArg,
    texts: Annotated[Optional[list[str]], typer.Argument(help="Texts to classify (text bundles).")] = None,
    input: Annotated[Optional[Path], typer.Option("--input", help=(
        "Records to classify: .txt (one text per line) or .csv/.tsv/.jsonl/.parquet/.xlsx with a text column; the bundle's "
        "field columns for a two-field bundle; .npy or .csv (one sequence per row) for numeric sequences."))] = None,
    output: Annotated[Optional[Path], typer.Option("--output", help=(
        "Write predictions to this .csv or .jsonl file; with --input, records are streamed in chunks (any file "
        "size, flat memory)."))] = None,
    text_column: TextColumn = None,
    sheet: Sheet = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per record (with --output: one object "
                                                         "saying what was written).")] = False,
    address: Annotated[Optional[str], typer.Option(help=(
        "With --input and --output: predict on the Ray cluster at HOST:PORT (or 'auto') with Ray Data, one loaded "
        "model per worker, output in input order. The input must be readable by every node."))] = None,
    workers: Annotated[Optional[int], typer.Option(min=1, help="With --address: model copies on the cluster "
                                                                "(default: one per free CPU).")] = None,
):
    """Classify raw records (texts, field records or numeric sequences) with a saved bundle."""
    # Loaded on use: it imports Keras (seconds); `rnnlab --help` and light commands stay instant.
    from rnnlab.inference import Bundle
    from rnnlab.inference.batch import CHUNK, check_output, predict_file

    if address is not None or workers is not None:
        if input is None or output is None or texts:
            raise InvalidInputError("--address/--workers predict a file on a cluster: give --input FILE and --output "
                                    "FILE (and no texts).")
        if sheet is not None or input.suffix.lower() == ".xlsx":
            raise InvalidInputError("A cluster reads .csv, .tsv, .jsonl, .parquet or .txt input, not a workbook: save "
                                    "the sheet as CSV, or predict it here without --address.")
        from rnnlab.inference.batch import predict_file_on_ray

        stats = predict_file_on_ray(bundle, input, check_output(output), address=address, workers=workers,
                                    text_column=text_column)
        if as_json:
            return print_json({**stats, "output": str(output)})
        console.print(f"{stats['records']:,} predictions written to {output} ({stats['records_per_second']:,.0f} "
                      f"records/s on {stats['where']})")
        return
    loaded = Bundle.load(bundle)
    items: list = list(texts or [])
    if items and loaded.kind != "text":
        raise InvalidInputError(f"This bundle reads {loaded.inputs.record_help} per record, not plain texts: "
                                "pass them with --input FILE.")
    if input is not None and output is not None and not items:
        stats = predict_file(loaded, input, output, text_column=text_column, sheet=sheet)
        if as_json:
            return print_json({**stats, "output": str(output)})
        console.print(f"{stats['records']:,} predictions written to {output} ({stats['records_per_second']:,.0f} "
                      "records/s)")
        return
    if input is not None:
        items += read_records(input, loaded.inputs, text_column=text_column, sheet=sheet)
    if not items:
        raise InvalidInputError("Nothing to classify: give texts as arguments or --input FILE.")
    predictions = []
    with task("predicting", total=len(items), unit="records", quiet_below=5_000) as advance:
        for start in range(0, len(items), CHUNK):
            predictions += loaded.predict(items[start:start + CHUNK])
            advance(min(CHUNK, len(items) - start))
    if output is not None:
        _write_predictions(check_output(output), predictions, loaded)
        if as_json:
            return print_json({"records": len(predictions), "output": str(output)})
        console.print(f"{len(predictions):,} predictions written to {output}")
        return
    if as_json:
        return print_json_lines(p.to_dict() for p in predictions)
    table = Table()
    if predictions[0].value is not None:  # a regression: the predicted number
        for column in ("text", loaded.class_names[0], "tokens", "oov"):
            table.add_column(column)
        for p in predictions:
            shown = p.text if len(p.text) <= 70 else p.text[:67] + "..."
            table.add_row(shown, f"{p.value:.3f}", str(p.n_tokens), str(p.n_oov))
        return console.print(table)
    label_sets = predictions[0].labels is not None
    for column in ("text", "labels" if label_sets else "label", "probability", "tokens", "oov"):
        table.add_column(column)
    for p in predictions:
        shown = p.text if len(p.text) <= 70 else p.text[:67] + "..."
        if label_sets:  # each label of the set with its own probability
            label = ", ".join(f"{name} ({p.probabilities[name]:.2f})" for name in p.labels)
            table.add_row(shown, label, f"{p.probability:.3f}", str(p.n_tokens), str(p.n_oov))
            continue
        colour = "green" if p.label in ("pos", "positive") else "red" if p.label in ("neg", "negative") else "white"
        table.add_row(shown, f"[{colour}]{p.label}[/]", f"{p.probability:.3f}", str(p.n_tokens), str(p.n_oov))
    console.print(table)


@app.command()
def explain(
    bundle: BundleArg,
    text: Annotated[Optional[str], typer.Argument(help="The text to explain (text bundles).")] = None,
    input: Annotated[Optional[Path], typer.Option("--input", help="Explain the first record of this file "
                                                                  "(any bundle kind, as for predict).")] = None,
    text_column: TextColumn = None,
    sheet: Sheet = None,
    png: Annotated[Optional[Path], typer.Option("--png", help="Also draw the text shaded by score to this PNG.")] = None,
    as_json: JsonFlag = False,
):
    """Which words (or time steps) a prediction rests on: attention weights, or occlusion."""
    # Loaded on use: it imports Keras (seconds); `rnnlab --help` and light commands stay instant.
    from rnnlab.inference import Bundle

    # Imported on use: rnnlab.serve pulls in FastAPI, which the other commands do not need.
    from rnnlab.serve.service import ModelService

    loaded = Bundle.load(bundle)
    if (text is None) == (input is None):
        raise InvalidInputError("Give one record to explain: a text argument, or --input FILE (its first record).")
    if text is not None and loaded.kind != "text":
        raise InvalidInputError(f"This bundle reads {loaded.inputs.record_help} per record, not a plain text: "
                                "pass it with --input FILE.")
    record = text if text is not None else read_records(input, loaded.inputs, text_column=text_column, sheet=sheet)[0]
    result = ModelService(loaded, max_texts=1).explain(record)
    regression = result.get("value") is not None
    # What was predicted: the class and its probability, or the number.
    said = f"{result['target']} {result['value']:.3f}" if regression else f"{result['label']} ({result['probability']:.3f})"
    if png is not None:
        key = ("blue: attention weight, darker = more" if result["method"] == "attention"
               else f"green / red: the word raises / lowers the predicted {result['target']}" if regression
               else "green / red: the word pushes towards / away from the positive class")
        title = f"{said}; {key}"
        plot_token_scores([t["token"] for t in result["tokens"]], [t["score"] for t in result["tokens"]], png,
                          title=title, method=result["method"])
    if as_json:
        print_json(result)
        return
    console.print(f"{said}; scores by {result['method']}")
    ranked = sorted(result["tokens"], key=lambda t: -abs(t["score"]))[:10]
    console.print(", ".join(f"{t['token']} {t['score']:+.3f}" for t in ranked))
    for name, part in (result.get("parts") or {}).items():  # a stack: each member's share
        grams = ", ".join(f"{g['ngram']} {g['weight']:+.2f}" for g in part.get("ngrams") or [])
        console.print(f"  member {escape(name)}: P({result['target']}) {part['probability']:.3f}, weight "
                      f"{part['weight']:.3f}, share {part['share']:+.3f}" + (f"; n-grams: {escape(grams)}" if grams else ""))
    if png is not None:
        console.print(f"figure: {png}")


@app.command()
def export(
    bundle: BundleArg,
    out: Annotated[Path, typer.Option(help="The export folder to write (replaced if it exists).")],
    format: Annotated[str, typer.Option("--format", help="onnx: model.onnx, preprocessing.json (vocabulary, "  # noqa: A002
                                        "tokenizing rules, padding, output meaning) and rnnlab_reader.py.")] = "onnx",
    as_json: JsonFlag = False,
):
    """Export a text bundle to run without rnnlab: the model as ONNX, its preprocessing as JSON, a reader."""
    from rnnlab.inference.export import EQUAL_WITHIN, export_bundle

    written = export_bundle(bundle, out, format=format)
    if as_json:
        return print_json(written)
    console.print(f"exported to {escape(written['out'])}: {', '.join(written['files'])} ({written['bytes']:,} bytes)")
    console.print(f"checked with onnxruntime on {written['check_texts']} texts: probabilities within "
                  f"{written['largest_difference']:.1e} of the bundle's (allowed {EQUAL_WITHIN:g})")


@app.command()
def serve(
    bundle: BundleArg,
    host: Annotated[str, typer.Option(help="Interface to listen on (0.0.0.0: every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port (0: any free port).")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Processes, each loading the model once.")] = 1,
    max_texts: Annotated[int, typer.Option(min=1, help="Most records per predict request.")] = 64,
    max_chars: Annotated[int, typer.Option(min=1, help="Most characters per text.")] = 20_000,
    max_body_bytes: Annotated[Optional[int], typer.Option(min=1, help="Largest request body; default: room for the other limits.")] = None,
    batching: Annotated[bool, typer.Option("--batching/--no-batching", help=(
        "Predict the records of concurrent requests in one model call."))] = True,
    batch_wait_ms: Annotated[float, typer.Option(min=0.0, max=1000.0, help=(
        "Under load, how long a batch may wait for more requests (a lone client never waits)."))] = 2.0,
):
    """Serve a bundle: JSON API under /v1, a page to try it at /, API docs at /docs."""
    # Imported on use: FastAPI and uvicorn are for this command only.
    from rnnlab.serve import run

    console.print(f"loading {bundle} and compiling the model...")
    run(bundle, host=host, port=port, workers=workers, max_texts=max_texts, max_chars=max_chars,
        max_body_bytes=max_body_bytes, batching=batching, batch_wait_ms=batch_wait_ms)
