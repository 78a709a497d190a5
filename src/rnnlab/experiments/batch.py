"""Batch prediction on a Ray cluster with Ray Data: one loaded model per worker, output in input order.

Ray Data reads the input file in blocks on the workers (.txt, .csv, .tsv, .jsonl, .parquet),
`map_batches` hands each block to a worker actor that loaded the bundle once, and this
process writes the predictions as they stream back, in the input's order, to a temporary
file renamed over the output at the end. Every node must see the bundle and the input under
the same path (a shared or copied folder). Locally, `rnnlab.inference.batch.predict_file`
does the same without Ray.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from rnnlab.encoding.records import record_columns
from rnnlab.errors import InvalidInputError
from rnnlab.experiments import cluster
from rnnlab.files import atomic_path
from rnnlab.inference.batch import (
    CHUNK,
    PredictionWriter,
    check_output,
    output_columns,
    prediction_row,
)


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
                for k, column in enumerate(output_columns(names))}


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
    class_names = loaded.class_names
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
            writer = PredictionWriter(handle, output, class_names)
            names = output_columns(class_names)
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
