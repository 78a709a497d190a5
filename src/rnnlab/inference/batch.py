"""Batch prediction of a file of any size: records streamed in chunks, predictions written as they come.

`predict_file` reads the input a chunk at a time (`rnnlab.encoding.records.iter_records`),
classifies each chunk with the bundle's one predictor and appends the rows to a temporary
file that replaces the output only when every record is done, so memory stays flat however
long the file is and an interrupted run leaves no half-written output. The same rows come
from `rnnlab.experiments.batch` when the work runs on a Ray cluster.
"""

from __future__ import annotations

import contextlib
import csv
import json
import time
from pathlib import Path

from rnnlab.encoding.records import count_records, iter_records
from rnnlab.errors import InvalidInputError
from rnnlab.files import atomic_path
from rnnlab.progress import task

# Records per model call (the progress bar moves once per chunk).
CHUNK = 1_000
OUTPUT_SUFFIXES = (".csv", ".jsonl")


def output_columns(class_names) -> list[str]:
    return ["text", "label", "probability", *[f"p_{c}" for c in class_names], "n_tokens", "n_oov", "truncated"]


def prediction_row(p, class_names) -> list:
    """One prediction as the output file's cells (the order of `output_columns`)."""
    return [p.text, p.label, round(float(p.probability), 6),
            *[round(float(p.probabilities[c]), 6) for c in class_names], int(p.n_tokens), int(p.n_oov),
            bool(p.truncated)]


class PredictionWriter:
    """Rows to a .csv (header first) or a .jsonl file (one object per record), on an open handle."""

    def __init__(self, handle, path: Path, class_names):
        self.columns = output_columns(class_names)
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
                 chunk: int = CHUNK, progress: bool = True) -> dict:
    """Classify every record of `input` with `bundle` (a loaded `Bundle`) into `output` (.csv or .jsonl).

    Returns counts and timings: ``records``, ``seconds``, ``records_per_second``, ``labels``
    (records per predicted label).
    """
    output = check_output(output)
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise InvalidInputError(f"chunk must be a positive number of records, got {chunk!r}.")
    chunks = iter_records(input, bundle.inputs, text_column=text_column, chunk=chunk)
    total = count_records(input, bundle.inputs) if progress else None
    started = time.perf_counter()
    done, labels = 0, {}
    with atomic_path(output) as tmp, tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = PredictionWriter(handle, output, bundle.class_names)
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
