"""Batch prediction of a file of any size: records streamed in chunks, predictions written as they come.

`predict_file` reads the input a chunk at a time (`rnnlab.encoding.records.iter_records`),
classifies each chunk with the bundle's one predictor and appends the rows to a temporary
file that replaces the output only when every record is done, so memory stays flat however
long the file is and an interrupted run leaves no half-written output.

`predict_file_on_ray` gives the same rows on a Ray cluster with Ray Data: the workers read the
input in blocks (.txt, .csv, .tsv, .jsonl, .parquet), `map_batches` hands each block to an
actor that loaded the bundle once, and this process writes the predictions as they stream
back, in the input's order, to a temporary file renamed over the output at the end. Every
node must see the bundle and the input under the same path (a shared or copied folder).
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import time
from pathlib import Path

import numpy as np

from rnnlab.encoding.records import count_records, iter_records, record_columns
from rnnlab.errors import InvalidInputError
from rnnlab.files import atomic_path
from rnnlab.progress import task
from rnnlab.training import cluster

# Records per model call (the progress bar moves once per chunk).
CHUNK = 1_000
OUTPUT_SUFFIXES = (".csv", ".jsonl")


# How an output file's ``labels`` cell joins a label set (a model with several labels a row).
LABEL_JOIN = "|"


def output_columns(class_names, label_sets: bool = False, regression: bool = False) -> list[str]:
    """The output file's columns; ``label_sets`` adds ``labels`` (a multi-label bundle's label set); a
    ``regression`` bundle's rows hold its number, ``value``, instead of labels and probabilities."""
    if regression:
        return ["text", "value", "n_tokens", "n_oov", "truncated"]
    return ["text", "label", *(["labels"] if label_sets else []), "probability", *[f"p_{c}" for c in class_names],
            "n_tokens", "n_oov", "truncated"]


def file_columns(bundle) -> list[str]:
    """`output_columns` of a loaded bundle: label sets for a multi-label bundle, a number for a regression."""
    regression = bool(getattr(getattr(bundle, "spec", None), "regression", False))
    return output_columns(bundle.class_names, getattr(bundle, "thresholds", None) is not None, regression)


def prediction_row(p, class_names) -> list:
    """One prediction as the output file's cells (the order of `output_columns`; ``labels`` joined by ``|``
    when the prediction has a label set; a regression's number as ``value``)."""
    if p.value is not None:
        return [p.text, round(float(p.value), 6), int(p.n_tokens), int(p.n_oov), bool(p.truncated)]
    return [p.text, p.label, *([LABEL_JOIN.join(p.labels)] if p.labels is not None else []),
            round(float(p.probability), 6),
            *[round(float(p.probabilities[c]), 6) for c in class_names], int(p.n_tokens), int(p.n_oov),
            bool(p.truncated)]


class PredictionWriter:
    """Rows to a .csv (header first) or a .jsonl file (one object per record), on an open handle."""

    def __init__(self, handle, path: Path, columns: list[str]):
        self.columns = columns
        self.jsonl = path.suffix.lower() == ".jsonl"
        self.handle = handle
        self.writer = None if self.jsonl else csv.writer(handle)
        if self.writer:
            self.writer.writerow(self.columns)

    def write(self, rows) -> None:
        for row in rows:
            if self.jsonl:
                self.handle.write(json.dumps(dict(zip(self.columns, row))) + "\n")  # ASCII: no raw U+2028 line breaks
            else:
                self.writer.writerow([f"{v:.6f}" if isinstance(v, float) else v for v in row])


def check_output(path: Path) -> Path:
    path = Path(path)
    if path.is_dir():
        raise InvalidInputError(f"{path} is a folder; give a file name for the predictions (.csv or .jsonl).")
    if path.suffix.lower() not in OUTPUT_SUFFIXES:
        raise InvalidInputError(f"Predictions are written as .csv or .jsonl; got {path.name!r}.")
    return path


def predict_file(bundle, input: str | Path, output: str | Path, *, text_column: str | None = None,  # noqa: A002
                 chunk: int = CHUNK, progress: bool = True, sheet: str | None = None) -> dict:
    """Classify every record of `input` with `bundle` (a loaded `Bundle`) into `output` (.csv or .jsonl).

    Returns counts and timings: ``records``, ``seconds``, ``records_per_second``, ``labels``
    (records per predicted label).
    """
    output = check_output(output)
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise InvalidInputError(f"chunk must be a positive number of records, got {chunk!r}.")
    chunks = iter_records(input, bundle.inputs, text_column=text_column, chunk=chunk, sheet=sheet)
    total = count_records(input, bundle.inputs, sheet=sheet) if progress else None
    started = time.perf_counter()
    done, labels = 0, {}
    with atomic_path(output) as tmp, tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = PredictionWriter(handle, output, file_columns(bundle))
        shown = task("predicting", total=total, unit="records", quiet_below=5_000) if progress else \
            contextlib.nullcontext(lambda n=1, info="": None)
        with shown as advance:
            for records in chunks:
                predictions = bundle.predict(records)
                writer.write(prediction_row(p, bundle.class_names) for p in predictions)
                for p in predictions:
                    labels[p.label] = labels.get(p.label, 0) + 1
                done += len(records)
                advance(len(records))
    if not done:
        output.unlink(missing_ok=True)
        raise InvalidInputError(f"{input} holds no records to classify.")
    seconds = time.perf_counter() - started
    return {"records": done, "seconds": round(seconds, 2), "records_per_second": round(done / seconds, 1),
            "labels": labels, "output": str(output)}


class _BundleWorker:
    """A Ray Data actor: loads the bundle once, then classifies batch after batch."""

    def __init__(self, bundle: str, columns: dict):
        from rnnlab.inference import Bundle

        self.bundle = Bundle.load(bundle)
        self.columns = columns

    def __call__(self, batch: dict) -> dict:
        names = self.bundle.class_names
        if "text" in self.columns:
            records = [_text(v) for v in batch[self.columns["text"]]]
        else:
            records = [{f: _text(batch[c][i]) for f, c in self.columns.items()}
                       for i in range(len(next(iter(batch.values()))))]
        rows = [prediction_row(p, names) for p in self.bundle.predict(records)]
        return {column: np.asarray([row[k] for row in rows], dtype=object)
                for k, column in enumerate(file_columns(self.bundle))}


def _text(value) -> str:
    return "" if value is None else str(value)


def _read(ray, path: Path):
    suffix = path.suffix.lower()
    where = str(path.resolve())
    if suffix in (".csv", ".tsv", ".tab"):
        import pyarrow.csv as pacsv

        parse = pacsv.ParseOptions(delimiter="\t" if suffix != ".csv" else ",", newlines_in_values=True)
        return ray.data.read_csv(where, parse_options=parse)
    if suffix in (".jsonl", ".ndjson"):
        return ray.data.read_json(where, lines=True)
    if suffix in (".parquet", ".pq"):
        return ray.data.read_parquet(where)
    return ray.data.read_text(where, drop_empty_lines=True)


def predict_file_on_ray(bundle: str | Path, input: str | Path, output: str | Path, *,  # noqa: A002
                        address: str | None = None, workers: int | None = None, text_column: str | None = None,
                        chunk: int = CHUNK) -> dict:
    """Classify every record of `input` with the bundle at `bundle` on Ray; write `output` (.csv or .jsonl).

    Args:
        address: the Ray cluster (None starts Ray on this machine).
        workers: model copies (actors, one CPU each); default: one per CPU of the cluster but one,
            which reads the input. Ray waits for free CPUs, so leave some for the reading tasks.
        text_column: the text column of a table file (default: ``text``, ``review``...).
        chunk: records per model call.
    """
    from rnnlab.inference import Bundle

    bundle, input, output = Path(bundle), Path(input), check_output(Path(output))  # noqa: A001
    if not input.is_file():
        raise InvalidInputError(f"Input file {input} does not exist.")
    loaded = Bundle.load(bundle)  # checks the bundle here before any worker starts
    if loaded.kind == "sequences":
        raise InvalidInputError("Numeric-sequence bundles predict locally: leave out --address.")
    env = cluster.thread_environment(1)
    started = time.perf_counter()
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    with cluster.connect(address, env=env) as ray:
        ray.data.DataContext.get_current().execution_options.preserve_order = True
        ray.data.DataContext.get_current().enable_progress_bars = False
        data = _read(ray, input)
        columns = _columns(data.schema().names, loaded, input, text_column)
        # One CPU per model copy; by default one is left for the tasks that read the input.
        copies = workers or max(1, int(ray.cluster_resources().get("CPU", 1)) - 1)
        predicted = data.map_batches(_BundleWorker, fn_constructor_args=(str(bundle.resolve()), columns),
                                     batch_size=chunk, concurrency=copies, num_cpus=1, batch_format="numpy")
        done = 0
        with atomic_path(output) as tmp, tmp.open("w", newline="", encoding="utf-8") as handle:
            names = file_columns(loaded)
            writer = PredictionWriter(handle, output, names)
            for batch in predicted.iter_batches(batch_size=chunk, batch_format="numpy"):
                rows = list(zip(*(batch[c] for c in names)))
                writer.write([_plain(v) for v in row] for row in rows)
                done += len(rows)
        if not done:
            output.unlink(missing_ok=True)
            raise InvalidInputError(f"{input} holds no records to classify.")
        where = f"the Ray cluster at {address}" if address else "Ray on this machine"
    seconds = time.perf_counter() - started
    return {"records": done, "seconds": round(seconds, 2), "records_per_second": round(done / seconds, 1),
            "workers": copies, "where": where, "output": str(output)}


def _columns(names: list[str], loaded, input: Path, text_column: str | None) -> dict:
    if input.suffix.lower() not in (".csv", ".tsv", ".tab", ".jsonl", ".ndjson", ".parquet", ".pq"):
        if loaded.kind != "text":
            raise InvalidInputError(f"{input}: a bundle reading fields takes a table file with a column per field.")
        return {"text": "text"}
    return record_columns(input, names, loaded.inputs, text_column)


def _plain(value):
    return value.item() if hasattr(value, "item") else value
