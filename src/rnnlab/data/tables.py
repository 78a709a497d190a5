"""Load a user's own labelled texts from CSV, TSV or JSON Lines.

Errors name the file and line, because the usual fix is to open the file at that line.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from rnnlab.data.dataset import TextDataset
from rnnlab.errors import (
    DataFormatError,
    DataNotFoundError,
    InvalidInputError,
    unknown_name,
)

FORMATS = ("csv", "tsv", "jsonl")
EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_INT = re.compile(r"[+-]?\d+")
# Integer labels are class ids 0..k-1; a larger id is a column of numbers, not of classes
# (and would make a model with that many outputs).
MAX_CLASS_ID = 9_999


def load_table(
    path,
    text_column: str = "text",
    label_column: str | None = "label",
    *,
    format: str | None = None,  # noqa: A002  (the user-facing word)
    class_names: Sequence[str] | None = None,
    name: str = "",
) -> TextDataset:
    """Read a table with one text column and, optionally, one label column.

    Args:
        path: a ``.csv``, ``.tsv`` or ``.jsonl`` file (CSV/TSV need a header row).
        text_column: the column holding the text (default ``"text"``).
        label_column: the column holding the class, or ``None`` for unlabelled data
            (default ``"label"``).
        format: ``"csv"``, ``"tsv"`` or ``"jsonl"``; default: from the file extension.
        class_names: names of class ids ``0..k-1``. Integer labels are used as ids as they are;
            string labels are looked up in ``class_names``, or, when not given, numbered in
            sorted order. Pass it when a file may lack some classes (e.g. a small test split).
        name: the dataset's name (default: the file name without extension).

    Example:
        >>> ds = load_table("reviews.csv", text_column="review", label_column="sentiment")  # doctest: +SKIP
    """
    path = Path(path).expanduser()
    rows = table_rows(path, format)
    texts, raw_labels, lines = [], [], []
    for line, row in rows:
        for column in (text_column, label_column):
            if column is not None and column not in row:
                present = ", ".join(repr(c) for c in row) or "none"
                raise DataFormatError(
                    f"{path}, line {line}: no column {column!r}. Columns present: {present}. "
                    f"Choose the text and label columns with text_column= and label_column=."
                )
        text = row[text_column]
        if not isinstance(text, str) or not text.strip():
            raise DataFormatError(f"{path}, line {line}: the {text_column!r} cell is empty or not text.")
        texts.append(text)
        if label_column is not None:
            label = row[label_column]
            if label is None or (isinstance(label, str) and not label.strip()):
                raise DataFormatError(f"{path}, line {line}: the {label_column!r} cell is empty.")
            raw_labels.append(label)
            lines.append(line)
    if not texts:
        raise DataFormatError(f"{path} has a header but no examples.")

    if label_column is None:
        labels, names = None, tuple(class_names or ())
    else:
        labels, names = _encode_labels(raw_labels, lines, class_names, path)
    return TextDataset(texts, labels, names, name=name or path.name.split(".")[0])


def table_rows(path, format: str | None = None) -> Iterator[tuple[int, dict]]:  # noqa: A002
    """``(line number, row)`` of a CSV or TSV file with a header row, or of a JSON-lines file.

    Errors name the file and the line; the format comes from the extension unless given.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataNotFoundError(f"{path} does not exist or is not a file. Check the path.")
    fmt = _format_of(path, format)
    content = read_utf8(path)
    if not content.strip():
        raise DataFormatError(f"{path} is empty: expected a header row and at least one example.")
    return _jsonl_rows(path, content) if fmt == "jsonl" else _delimited_rows(path, content, fmt)


def read_utf8(path: Path) -> str:
    """The file's text; a non-UTF-8 file fails with the line of the first bad byte."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")  # tolerate the BOM that spreadsheet exports add
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise DataFormatError(
            f"{path}, line {line}: not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start}). "
            f"Re-save the file as UTF-8, e.g. `iconv -f latin1 -t utf-8 IN > OUT`."
        ) from None


def _format_of(path: Path, format: str | None) -> str:  # noqa: A002
    if format is not None:
        if format.lower() not in FORMATS:
            raise unknown_name("table format", format, FORMATS)
        return format.lower()
    fmt = EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise InvalidInputError(
            f"Cannot tell the format of {path} from its extension {path.suffix!r}; "
            f"pass format= one of {', '.join(FORMATS)}."
        )
    return fmt


def _delimited_rows(path: Path, content: str, fmt: str) -> Iterator[tuple[int, dict[str, str]]]:
    reader = csv.reader(io.StringIO(content, newline=""), delimiter="\t" if fmt == "tsv" else ",")
    try:
        header = next(reader)
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # blank lines, e.g. a trailing newline pair
            if len(cells) != len(header):
                raise DataFormatError(
                    f"{path}, line {reader.line_num}: {len(cells)} cells but the header has "
                    f"{len(header)}. Quote cells that contain the delimiter or line breaks."
                )
            yield reader.line_num, dict(zip(header, cells))
    except csv.Error as err:
        raise DataFormatError(f"{path}, line {reader.line_num}: {err}.") from None


def _jsonl_rows(path: Path, content: str) -> Iterator[tuple[int, dict]]:
    for line_number, line in enumerate(content.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (ValueError, RecursionError) as err:  # also a 5,000-digit number or nesting too deep
            reason = err.msg if isinstance(err, json.JSONDecodeError) else str(err)
            raise DataFormatError(f"{path}, line {line_number}: not valid JSON ({reason}).") from None
        if not isinstance(row, dict):
            raise DataFormatError(f"{path}, line {line_number}: expected a JSON object per line.")
        yield line_number, row


def _encode_labels(values: list, lines: list[int], class_names, path: Path) -> tuple[np.ndarray, tuple[str, ...]]:
    """Turn raw label cells into class ids and the matching class names."""
    as_ints = [_as_int(v) for v in values]
    names = tuple(str(c) for c in class_names) if class_names is not None else None
    if all(i is not None for i in as_ints) and (names is not None or min(as_ints) >= 0):
        # Integer labels are already class ids: keep them, so a split lacking a class keeps its ids.
        if names is None and max(as_ints) > MAX_CLASS_ID:
            line = lines[as_ints.index(max(as_ints))]
            raise DataFormatError(
                f"{path}, line {line}: label {max(as_ints)} is too large for a class id (integer labels are "
                f"class ids 0..{MAX_CLASS_ID}). Pass class_names=, or check that the label column holds classes."
            )
        k = len(names) if names is not None else max(as_ints) + 1
        for value, line in zip(as_ints, lines):
            if not 0 <= value < k:
                raise DataFormatError(
                    f"{path}, line {line}: label {value} is not a class id 0..{k - 1} for class names {names}."
                )
        return np.asarray(as_ints, dtype=np.int64), names or tuple(str(i) for i in range(k))

    keys = [str(v).strip() for v in values]
    if names is None:
        names = tuple(sorted(set(keys), key=_natural_key))
    index = {n: i for i, n in enumerate(names)}
    for key, line in zip(keys, lines):
        if key not in index:
            raise DataFormatError(f"{path}, line {line}: label {key!r} is not one of the class names {names}.")
    return np.asarray([index[k] for k in keys], dtype=np.int64), names


def _as_int(value) -> int | None:
    if isinstance(value, (bool, int)):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INT.fullmatch(value.strip()):
        return int(value)
    return None


def _natural_key(name: str):
    """Sort "-1" before "1" and "2" before "10" when labels are numbers."""
    return (0, int(name), "") if _INT.fullmatch(name) else (1, 0, name)
