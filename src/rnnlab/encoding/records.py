"""Records for a bundle from files and datasets: what ``rnnlab predict --input`` and ``rnnlab evaluate`` read.

Each input kind reads the files its records come in:

* text: ``.txt`` (one text per line), ``.csv`` / ``.tsv`` / ``.jsonl`` / ``.parquet`` / ``.xlsx`` with a text
  column (``text``, else ``review`` or ``review_text``, or the one named by ``text_column``; a workbook's
  ``sheet``, default its first);
* fields: ``.csv`` / ``.tsv`` / ``.jsonl`` / ``.xlsx`` with a column per field the bundle was trained on;
* sequences: ``.npy`` (``N x steps x features``) or ``.csv`` (one sequence per row, its
  ``steps x features`` values in order).
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from rnnlab.data.numeric import load_sequences
from rnnlab.data.tables import EXTENSIONS, read_utf8, table_rows
from rnnlab.encoding.fields import field_texts
from rnnlab.encoding.prepare import load_splits
from rnnlab.encoding.split import split_holdout
from rnnlab.errors import InvalidInputError

TEXT_COLUMNS = ("text", "review", "review_text")
TABLE_SUFFIXES = tuple(EXTENSIONS)
# Files read as one text a line: these suffixes, or none.
LINE_SUFFIXES = ("", ".txt", ".text")

__all__ = ["count_records", "dataset_records", "iter_records", "read_records", "record_columns"]


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise InvalidInputError(f"Input file {path} does not exist.")
    return read_utf8(path)


def read_records(path: str | Path, inputs, *, text_column: str | None = None, sheet: str | None = None) -> list:
    """The records in ``path`` for a bundle whose input kind is ``inputs``."""
    records = [record for chunk in iter_records(path, inputs, text_column=text_column, sheet=sheet)
               for record in chunk]
    if not records:
        raise InvalidInputError(f"{path} holds no records to classify.")
    return records


def iter_records(path: str | Path, inputs, *, text_column: str | None = None,
                 chunk: int = 1000, sheet: str | None = None) -> Iterator[list]:
    """The records in ``path`` in lists of up to ``chunk``, read as they are needed.

    Text and table files are parsed as they are read (a big file never sits in memory
    whole); a numeric-sequence file is read at once. Errors about the file's columns are
    raised before the first chunk.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if sheet is not None and suffix != ".xlsx":
        raise InvalidInputError(f"--sheet names a sheet of an Excel workbook; {path} is not one (.xlsx). Leave it out.")
    if inputs.kind == "sequences":
        sequences = _read_sequences(path, inputs)
        return (sequences[i:i + chunk] for i in range(0, len(sequences), chunk))
    if inputs.kind == "text" and suffix not in TABLE_SUFFIXES:
        return _chunks(_text_lines(path), chunk)
    if suffix not in TABLE_SUFFIXES:
        raise InvalidInputError(f"{path}: a bundle reading fields ({', '.join(inputs.fields)}) takes a .csv, .tsv, "
                                ".jsonl, .parquet or .xlsx file with a column per field.")
    rows = table_rows(path, sheet=sheet)
    first = next(rows, None)
    columns = record_columns(path, list(first[1]) if first else [], inputs, text_column)
    if inputs.kind == "text":
        make = lambda n, row: _cell(row.get(columns["text"]), path, n, columns["text"])  # noqa: E731
    else:
        make = lambda n, row: {f: _cell(row.get(c), path, n, c) for f, c in columns.items()}  # noqa: E731
    every = itertools.chain([first] if first else [], rows)
    return _chunks((make(n, row) for n, row in every), chunk)


def record_columns(path, columns: list[str], inputs, text_column: str | None = None) -> dict[str, str]:
    """Which column of a table holds each part of a record: ``{"text": column}`` for a text bundle
    (``text_column``, else ``text``, ``review``...), ``{field: field}`` for a fields bundle."""
    if inputs.kind == "text":
        column = text_column or next((c for c in TEXT_COLUMNS if c in columns), None)
        if column is None or column not in columns:
            wanted = repr(text_column) if text_column else "'text'"
            raise InvalidInputError(f"{path} has no column {wanted} (columns: {', '.join(columns) or 'none'}); "
                                    "name the text column with --text-column.")
        return {"text": column}
    missing = [f for f in inputs.fields if f not in columns]
    if missing:
        raise InvalidInputError(f"{path} has no column {', '.join(map(repr, missing))} (columns: "
                                f"{', '.join(columns) or 'none'}); this bundle reads "
                                f"{', '.join(map(repr, inputs.fields))}.")
    return {f: f for f in inputs.fields}


def count_records(path: str | Path, inputs, *, sheet: str | None = None) -> int:
    """How many records `iter_records` will yield, counted in one streaming pass (Parquet: from its footer)."""
    path = Path(path)
    if path.suffix.lower() in (".parquet", ".pq") and inputs.kind != "sequences":
        import pyarrow.parquet as pq

        with contextlib.suppress(Exception):
            return int(pq.ParquetFile(path).metadata.num_rows)
    if inputs.kind == "text" and path.suffix.lower() not in TABLE_SUFFIXES:
        return sum(1 for _ in _text_lines(path))
    if inputs.kind == "sequences":
        return len(_read_sequences(path, inputs))
    return sum(1 for _ in table_rows(path, sheet=sheet))


def _text_lines(path: Path) -> Iterator[str]:
    """The non-blank lines of a text file, read as they are needed."""
    if not path.is_file():
        raise InvalidInputError(f"Input file {path} does not exist.")
    _check_lines_file(path)
    try:
        with path.open("r", encoding="utf-8-sig") as handle:
            for line in handle:
                line = line.rstrip("\r\n")
                if line.strip():
                    yield line
    except UnicodeDecodeError:
        read_utf8(path)  # raises the error that names the line and the byte
        raise


def _check_lines_file(path: Path) -> None:
    """Refuse a file that is not plain text before a byte of it is classified (a spreadsheet, a PDF...)."""
    accepted = ".txt (one text per line) or a .csv, .tsv, .jsonl, .parquet or .xlsx table with a text column"
    if path.suffix.lower() not in LINE_SUFFIXES:
        raise InvalidInputError(f"{path}: cannot read {path.suffix} files as records; give {accepted} (save a "
                                "spreadsheet as .xlsx or CSV).")
    with path.open("rb") as handle:
        head = handle.read(65_536)
    if b"\x00" in head:
        raise InvalidInputError(f"{path} is not a text file (it holds NUL bytes); give {accepted}.")


def _chunks(items, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _cell(value, path: Path, row: int, column: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInputError(f"{path}, row {row}: column {column!r} must be text, got {type(value).__name__}.")
    return value


def _read_sequences(path: Path, inputs) -> list[np.ndarray]:
    features = inputs.preprocessor.features
    suffix = path.suffix.lower()
    if not path.is_file():
        raise InvalidInputError(f"Input file {path} does not exist.")
    if suffix == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise InvalidInputError(f"{path} is not a readable .npy array ({exc}).") from None
        if array.ndim == 2 and features == 1:
            array = array[:, :, None]
        if array.ndim != 3 or array.shape[2] != features:
            raise InvalidInputError(f"{path} holds an array of shape {array.shape}; this bundle reads "
                                    f"(sequences, steps, {features}).")
        return list(array.astype(np.float32))
    if suffix != ".csv":
        raise InvalidInputError(f"{path}: a numeric-sequence bundle takes .npy (sequences x steps x features) or "
                                ".csv (one sequence per row) input.")
    sequences = []
    for n, row in enumerate(csv.reader(io.StringIO(_read_text(path))), start=1):
        cells = [c for c in row if c.strip()]
        if not cells:
            continue
        try:
            values = np.asarray([float(c) for c in cells], dtype=np.float32)
        except ValueError:
            if n == 1:
                continue  # a header row
            raise InvalidInputError(f"{path}, row {n}: every value must be a number.") from None
        if len(values) % features:
            raise InvalidInputError(f"{path}, row {n}: {len(values)} values is not a whole number of time steps of "
                                    f"{features} features.")
        sequences.append(values.reshape(-1, features))
    if not sequences:
        raise InvalidInputError(f"{path} holds no sequences to classify.")
    return sequences


def dataset_records(dataset: str, split: str, inputs, *, seed: int = 0, limit: int | None = None,
                    test_fraction: float = 0.2, **source) -> tuple[list, np.ndarray, tuple[str, ...]]:
    """``(records, labels, class_names)`` of a dataset split, split exactly as training split it.

    ``source``: the columns and test file training read (`Recipe.source_options`)."""
    if split not in ("train", "test"):
        raise InvalidInputError(f"Unknown split {split!r}: use train or test.")
    if inputs.kind == "sequences":
        train, test = split_holdout(load_sequences(dataset), test_fraction, seed)
        part = train if split == "train" else test
        if limit:
            part = part.sample(limit, seed=seed)
        return list(part.sequences), np.asarray(part.labels), tuple(part.class_names)
    train, test = load_splits(dataset, seed=seed, limit=None, test_fraction=test_fraction, **source)
    part = train if split == "train" else test
    if limit:
        part = part.sample(limit, seed=seed)
    if part.labels is None:
        raise InvalidInputError(f"Dataset {dataset!r} has no labels to score against.")
    if inputs.kind == "text":
        records = list(part.texts)
    else:
        columns = {f: field_texts(part, f) for f in inputs.fields}
        records = [{f: columns[f][i] for f in inputs.fields} for i in range(len(part))]
    return records, np.asarray(part.labels), tuple(part.class_names)
