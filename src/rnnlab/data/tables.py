"""Load a user's own labelled texts from CSV, TSV, JSON Lines, Parquet or an Excel workbook.

Errors name the file and line (the row, for Parquet), because the usual fix is to open the
file at that line. When the caller does not name the text and label columns, they are
found: a column with a usual name (``text``, ``review``...; ``label``, ``sentiment``...),
else the column of longest cells for the text and the one with fewest distinct values for
the label.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from rnnlab.data.dataset import TextDataset
from rnnlab.errors import (
    DataFormatError,
    DataNotFoundError,
    InvalidInputError,
    unknown_name,
)

FORMATS = ("csv", "tsv", "jsonl", "parquet", "xlsx")
# Files bigger than this are parsed as they are read rather than read whole first.
STREAM_ABOVE = 32 * 1024 * 1024
EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
              ".parquet": "parquet", ".pq": "parquet", ".xlsx": "xlsx"}
AUTO = "auto"
# Usual names, in order of preference (compared without case).
TEXT_NAMES = ("text", "review", "review_text", "sentence", "content", "body", "comment", "document", "tweet",
              "message", "question")
LABEL_NAMES = ("label", "labels", "sentiment", "class", "category", "target", "polarity", "y", "rating", "stars",
               "score", "tags", "emotions")
# A label column names classes: a column with more distinct values than this is not one.
MAX_GUESSED_CLASSES = 100
COLUMN_ADVICE = "Name them with --text-column and --label-column (text_column= and label_column= in Python)."
_INT = re.compile(r"[+-]?\d+")
# Integer labels are class ids 0..k-1; a larger id is a column of numbers, not of classes
# (and would make a model with that many outputs).
MAX_CLASS_ID = 9_999


def load_table(
    path,
    text_column: str | None = AUTO,
    label_column: str | None = AUTO,
    *,
    format: str | None = None,  # noqa: A002  (the user-facing word)
    class_names: Sequence[str] | None = None,
    name: str = "",
    field_columns: Mapping[str, str] | None = None,
    label_separator: str | None = None,
    numeric_labels: bool | None = None,
    sheet: str | None = None,
) -> TextDataset:
    """Read a table with one text column and, optionally, one label column.

    Args:
        path: a ``.csv``, ``.tsv``, ``.jsonl`` or ``.parquet`` file (CSV/TSV need a header row), an Excel
            workbook (``.xlsx``: its first row is the header), or a pandas DataFrame (its missing cells
            count as empty).
        text_column: the column holding the text; ``"auto"`` (default) finds it (see the module
            docstring). The columns used are in the dataset's ``columns``.
        label_column: the column holding the class, ``"auto"`` (default) to find it, or
            ``None`` for unlabelled data.
        format: ``"csv"``, ``"tsv"``, ``"jsonl"`` or ``"parquet"``; default: from the file extension.
        class_names: names of class ids ``0..k-1``. With it, integer labels are used as ids
            and other labels are looked up in it. Without it, labels that are exactly the
            integers ``0..k-1`` are the ids; any other labels (words, stars 1-5, -1/1, true/false)
            are the class names, numbered in sorted order. Pass the training data's names when
            reading a file that may lack some classes (e.g. a small test split).
        name: the dataset's name (default: the file name without extension; ``"dataframe"``).
        field_columns: ``{field: column}`` for a model reading several fields (e.g.
            ``{"title": "Summary", "body": "Text"}``); they land in the dataset's ``fields``.
        label_separator: the label cells hold several labels joined by this string (``","``,
            ``"|"``...): the dataset is multi-label (``labels`` is ``(n, k)`` of 0/1). A cell that
            is a list (JSON lines, Parquet) or a JSON list in text (``["joy", "love"]``) is read as
            a set of labels without it. Each label is a name or an id, as for one label a row.
        numeric_labels: the label cells are numbers to predict (a rating, a score), not classes: the
            dataset is ``numeric`` and a model trained on it has a regression head. ``None`` (default)
            reads a column of numbers as numbers when any of them is not a whole number (``3.5``);
            whole numbers (stars 1-5) stay classes unless this is ``True``.
        sheet: the sheet of an Excel workbook to read (default: its first).

    Example:
        >>> ds = load_table("reviews.csv", text_column="review", label_column="sentiment")  # doctest: +SKIP
        >>> ds.columns  # doctest: +SKIP
        {'text': 'review', 'label': 'sentiment'}
    """
    if is_dataframe(path):
        rows = dataframe_rows(path)
        path, at = "the DataFrame", (lambda n: f"the DataFrame, row {n}")
        if not rows:
            raise DataFormatError("The DataFrame has no rows: nothing to learn from.")
    else:
        path = Path(path).expanduser()
        rows = list(table_rows(path, format, sheet=sheet))
        if not rows:
            raise DataFormatError(f"{path} has a header but no examples.")
        at = _where(path, _format_of(path, format), sheet)
    text_column, label_column = choose_columns(path, rows, text_column, label_column, label_separator)
    fields = dict(field_columns or {})
    texts, raw_labels, lines = [], [], []
    field_values: dict[str, list[str]] = {f: [] for f in fields}
    for line, row in rows:
        for column in (text_column, label_column, *fields.values()):
            if column is not None and column not in row:
                present = ", ".join(repr(c) for c in row) or "none"
                raise DataFormatError(f"{at(line)}: no column {column!r}. Columns present: {present}. {COLUMN_ADVICE}")
        text = row[text_column]
        if not isinstance(text, str) or not text.strip():
            raise DataFormatError(f"{at(line)}: the {text_column!r} cell is empty or not text.")
        texts.append(text)
        for field_name, column in fields.items():
            value = row[column]
            if value is not None and not isinstance(value, str):
                raise DataFormatError(f"{at(line)}: the {column!r} cell is not text.")
            field_values[field_name].append(value or "")
        if label_column is not None:
            label = row[label_column]
            if label is None or (isinstance(label, str) and not label.strip()):
                raise DataFormatError(f"{at(line)}: the {label_column!r} cell is empty.")
            raw_labels.append(label)
            lines.append(line)

    # Label cells read as numbers, when they could be a target to predict (read once, for both questions).
    numbers = None
    if label_column is not None and (numeric_labels or (numeric_labels is None and label_separator is None)):
        numbers = [_as_number(v) for v in raw_labels]
    if label_column is None:
        labels, names = None, tuple(class_names or ())
    elif numbers is not None and (numeric_labels or _fractional(numbers)):
        labels, names = _encode_numbers(numbers, raw_labels, lines, at, label_column), (str(label_column),)
    elif label_separator is not None or any(_is_label_list(v) for v in raw_labels[:1000]):
        labels, names = _encode_label_sets(raw_labels, lines, class_names, at, label_separator, label_column)
    else:
        labels, names = _encode_labels(raw_labels, lines, class_names, at)
    columns = {"text": text_column, **({"label": label_column} if label_column else {}), **fields}
    default_name = path.name.split(".")[0] if isinstance(path, Path) else "dataframe"
    return TextDataset(texts, labels, names, name=name or default_name, fields=field_values, columns=columns)


def choose_columns(path, rows: Sequence[tuple[int, dict]], text_column: str | None, label_column: str | None,
                   label_separator: str | None = None) -> tuple[str, str | None]:
    """The text and label columns: the ones asked for, or found when asked for ``"auto"`` (label cells split
    at ``label_separator`` when given, so a column of label sets counts its labels, not their combinations)."""
    columns = list(dict.fromkeys(k for _, row in rows[:1000] for k in row))
    sample = [row for _, row in rows[:2000]]
    if text_column == AUTO and AUTO not in columns:
        text_column = _by_name(columns, TEXT_NAMES) or _longest_cells(columns, sample)
        if text_column is None:
            raise DataFormatError(f"{path}: cannot tell which column holds the text (columns: "
                                  f"{', '.join(map(repr, columns)) or 'none'}). {COLUMN_ADVICE}")
    if label_column == AUTO and AUTO not in columns:
        others = [c for c in columns if c != text_column]
        label_column = (_by_name(others, LABEL_NAMES) or _fewest_values(others, sample, label_separator)
                        or _only_numbers(others, sample))
        if label_column is None:
            raise DataFormatError(f"{path}: cannot tell which column holds the labels (columns: "
                                  f"{', '.join(map(repr, columns)) or 'none'}). {COLUMN_ADVICE}")
    return text_column, label_column


def _by_name(columns: list[str], names: tuple[str, ...]) -> str | None:
    lowered = {str(c).strip().lower(): c for c in reversed(columns)}
    return next((lowered[n] for n in names if n in lowered), None)


def _longest_cells(columns: list[str], rows: list[dict]) -> str | None:
    """The column whose cells are text and longest on average (at least a few words)."""
    best, best_length = None, 15.0
    for column in columns:
        cells = [row.get(column) for row in rows]
        if not all(isinstance(c, str) for c in cells if c is not None):
            continue
        mean = sum(len(c or "") for c in cells) / max(1, len(cells))
        if mean > best_length:
            best, best_length = column, mean
    return best


def _fewest_values(columns: list[str], rows: list[dict], separator: str | None = None) -> str | None:
    """The column with the fewest distinct values (labels, when cells hold sets), when it could name classes."""
    best, best_count = None, None
    for column in columns:
        values = [row.get(column) for row in rows]
        if any(isinstance(v, dict) for v in values):
            continue
        items = [item for v in values if v is not None
                 for item in (v if isinstance(v, list) else str(v).split(separator) if separator else [v])]
        if any(isinstance(item, (dict, list)) for item in items):
            continue
        count = len({str(item).strip() for item in items})
        if 2 <= count <= min(MAX_GUESSED_CLASSES, max(2, len(rows) // 2)) and (best_count is None or count < best_count):
            best, best_count = column, count
    return best


def _only_numbers(columns: list[str], rows: list[dict]) -> str | None:
    """The one column whose cells are all numbers (a target to predict with too many values for classes)."""
    found = [c for c in columns if rows and all(_as_number(row.get(c)) is not None for row in rows)]
    return found[0] if len(found) == 1 else None


def source_name(value):
    """How a data source is recorded (a recipe, a result): itself, a path as text, or a pandas DataFrame as
    ``"DataFrame (N rows: columns)"``."""
    if is_dataframe(value):
        return f"DataFrame ({len(value):,} rows: {', '.join(map(str, value.columns))})"
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, os.PathLike):
        return str(value)
    return f"{len(value):,} texts given in Python"  # a list, array or pandas Series of texts


def is_dataframe(value) -> bool:
    """Whether ``value`` is a pandas DataFrame (told by its interface: pandas stays an optional import)."""
    return hasattr(value, "columns") and hasattr(value, "to_dict") and hasattr(value, "iloc")


def dataframe_rows(frame) -> list[tuple[int, dict]]:
    """``(row number from 1, row)`` of a DataFrame, its missing cells (NaN, None, NA) as None."""
    columns = [str(c) for c in frame.columns]
    if len(set(columns)) != len(columns):
        raise DataFormatError(f"The DataFrame has repeated column names ({', '.join(map(repr, columns))}): name "
                              "each column once.")
    rows = []
    for n, record in enumerate(frame.to_dict(orient="records"), start=1):
        rows.append((n, {str(k): (None if _missing(v) else v) for k, v in record.items()}))
    return rows


def _missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN and pandas' NA/NaT are not equal to themselves
    except (TypeError, ValueError):
        return False


def _where(path: Path, fmt: str, sheet: str | None = None):
    """How a message names a place in the file: its line, or its row for Parquet (no lines) and for a
    workbook (the sheet's row number, as Excel shows it)."""
    if fmt == "xlsx":
        return lambda n: f"{path}{f', sheet {sheet!r}' if sheet else ''}, row {n}"
    return (lambda n: f"{path}, row {n}") if fmt == "parquet" else (lambda n: f"{path}, line {n}")


def table_rows(path, format: str | None = None, *, sheet: str | None = None  # noqa: A002
               ) -> Iterator[tuple[int, dict]]:
    """``(line number, row)`` of a CSV or TSV file with a header row, of a JSON-lines file, of a Parquet
    file or of a workbook's sheet (``sheet``, default the first; its row numbers).

    Errors name the file and the line; the format comes from the extension unless given.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataNotFoundError(f"{path} does not exist or is not a file. Check the path.")
    fmt = _format_of(path, format)
    if sheet is not None and fmt != "xlsx":
        raise InvalidInputError(f"--sheet (sheet=) names a sheet of an Excel workbook; {path} is a {fmt} file. "
                                "Leave it out.")
    if fmt == "xlsx":
        return _xlsx_rows(path, sheet)
    if fmt == "parquet":
        return _parquet_rows(path)
    if path.stat().st_size > STREAM_ABOVE:
        return _streamed_rows(path, fmt)
    content = read_utf8(path)
    if not content.strip():
        raise DataFormatError(f"{path} is empty: expected a header row and at least one example.")
    return _jsonl_rows(path, content) if fmt == "jsonl" else _delimited_rows(path, content, fmt)


def _streamed_rows(path: Path, fmt: str) -> Iterator[tuple[int, dict]]:
    """The rows of a big file read as they are parsed, so memory stays flat whatever its size."""
    handle = path.open("r", encoding="utf-8-sig", newline="" if fmt != "jsonl" else None)
    try:
        rows = _jsonl_rows(path, handle) if fmt == "jsonl" else _delimited_rows(path, handle, fmt)
        yield from rows
    except UnicodeDecodeError:
        read_utf8(path)  # raises the error that names the line and the byte
        raise
    finally:
        handle.close()


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


def _delimited_rows(path: Path, content, fmt: str) -> Iterator[tuple[int, dict[str, str]]]:
    source = io.StringIO(content, newline="") if isinstance(content, str) else content
    reader = csv.reader(source, delimiter="\t" if fmt == "tsv" else ",")
    try:
        header = next(reader, None)
        if header is None:
            raise DataFormatError(f"{path} is empty: expected a header row and at least one example.")
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


def _parquet_rows(path: Path) -> Iterator[tuple[int, dict]]:
    # pyarrow is imported on use: only Parquet files need it.
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.ParquetFile(path)
    except (pa.ArrowException, OSError, ValueError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise DataFormatError(f"{path} is not a readable Parquet file ({reason}).") from None
    if table.metadata.num_rows == 0:
        raise DataFormatError(f"{path} holds no rows.")
    return _parquet_batches(table)


def _parquet_batches(table) -> Iterator[tuple[int, dict]]:
    row = 0
    with table:  # one batch of rows in memory at a time
        for batch in table.iter_batches(batch_size=10_000):
            for record in batch.to_pylist():
                row += 1
                yield row, record


def _xlsx_rows(path: Path, sheet: str | None) -> Iterator[tuple[int, dict]]:
    """The rows of one sheet of an Excel workbook, read as they are parsed (openpyxl's read-only mode):
    the first non-empty row is the header; cells keep their type (text, numbers, booleans; dates as ISO
    text; formulas as their saved values), empty cells are None and empty rows are skipped."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as err:  # not a zip (BadZipFile), not a workbook, or damage deep in the zip or XML readers
        raise _unreadable(path, err) from None
    if sheet is not None and sheet not in book.sheetnames:
        book.close()
        raise InvalidInputError(f"{path} has no sheet {sheet!r}; its sheets: "
                                f"{', '.join(map(repr, book.sheetnames))}. Name one with --sheet (sheet=).")
    return _sheet_rows(path, book, book[sheet] if sheet is not None else book.worksheets[0])


def _sheet_rows(path: Path, book, worksheet) -> Iterator[tuple[int, dict]]:
    import datetime

    def value(cell):
        if isinstance(cell, (datetime.datetime, datetime.date, datetime.time)):
            return cell.isoformat()
        if isinstance(cell, float) and cell.is_integer() and abs(cell) < 2 ** 53:
            return int(cell)  # Excel stores every number as a float
        return cell

    others = f" (sheets: {', '.join(map(repr, book.sheetnames))}; name one with --sheet)" if len(book.sheetnames) > 1 \
        else ""
    try:
        header, examples = None, 0
        for number, cells in enumerate(worksheet.iter_rows(values_only=True), start=1):
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue
            if header is None:
                header = ["" if c is None else str(c).strip() for c in cells]
                while header and not header[-1]:
                    header.pop()
                continue
            extra = [c for c in cells[len(header):] if c is not None]
            if extra:
                raise DataFormatError(f"{path}, sheet {worksheet.title!r}, row {number}: a cell right of the header's "
                                      f"last column ({len(header)}); give every column a name in the header row.")
            examples += 1
            yield number, {name: value(cells[i]) if i < len(cells) else None for i, name in enumerate(header)}
        if not examples:
            raise DataFormatError(f"{path}: sheet {worksheet.title!r} holds no examples under a header row{others}.")
    except DataFormatError:
        raise
    except Exception as err:  # the sheet's XML is parsed as it is read: damage shows up here
        raise _unreadable(path, err) from None
    finally:
        book.close()


def _unreadable(path: Path, err: Exception) -> DataFormatError:
    reason = str(err).splitlines()[0][:120] if str(err) else type(err).__name__
    return DataFormatError(f"{path} is not a readable Excel workbook ({reason}). Save it again as .xlsx, or export the "
                           "sheet as CSV.")


def _jsonl_rows(path: Path, content) -> Iterator[tuple[int, dict]]:
    lines = content.split("\n") if isinstance(content, str) else content
    for line_number, line in enumerate(lines, start=1):
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


def _encode_labels(values: list, lines: list[int], class_names, at) -> tuple[np.ndarray, tuple[str, ...]]:
    """Turn raw label cells into class ids and the matching class names."""
    as_ints = [_as_int(v) for v in values]
    names = tuple(str(c) for c in class_names) if class_names is not None else None
    distinct = set(as_ints)
    dense = None not in distinct and min(distinct) == 0 and max(distinct) == len(distinct) - 1
    by_name = names is not None and all(str(v).strip() in names for v in values)
    if not by_name and all(i is not None for i in as_ints) and (names is not None or dense):
        # Integer labels 0..k-1 (or with class names given) are already class ids: keep them.
        # Other integers (stars 1-5, -1/1) are names of classes like any other label.
        if names is None and max(as_ints) > MAX_CLASS_ID:
            line = lines[as_ints.index(max(as_ints))]
            raise DataFormatError(
                f"{at(line)}: label {max(as_ints)} is too large for a class id (integer labels are "
                f"class ids 0..{MAX_CLASS_ID}). Pass class_names=, or check that the label column holds classes."
            )
        k = len(names) if names is not None else max(as_ints) + 1
        for value, line in zip(as_ints, lines):
            if not 0 <= value < k:
                raise DataFormatError(
                    f"{at(line)}: label {value} is not a class id 0..{k - 1} for class names {names}."
                )
        return np.asarray(as_ints, dtype=np.int64), names or tuple(str(i) for i in range(k))

    keys = [str(v).strip() for v in values]
    if names is None:
        names = tuple(sorted(set(keys), key=_natural_key))
    index = {n: i for i, n in enumerate(names)}
    for key, line in zip(keys, lines):
        if key not in index:
            raise DataFormatError(f"{at(line)}: label {key!r} is not one of the class names {names}.")
    return np.asarray([index[k] for k in keys], dtype=np.int64), names


def _as_number(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _fractional(numbers: list) -> bool:
    """Whether label cells read as ``numbers`` (`_as_number`) are all numbers and some are not whole: a target to
    predict, not classes."""
    return bool(numbers) and None not in numbers and all(np.isfinite(numbers)) and any(
        not float(n).is_integer() for n in numbers)


def _encode_numbers(numbers: list, values: list, lines: list[int], at, column: str) -> np.ndarray:
    """Label cells ``values``, read as ``numbers``, -> a float array (a regression target)."""
    for number, value, line in zip(numbers, values, lines):
        if number is None or not np.isfinite(number):
            raise DataFormatError(f"{at(line)}: the {column!r} cell {str(value)[:40]!r} is not a number; a numeric "
                                  "label column holds a number in every row.")
    if len(set(numbers)) < 2:
        raise DataFormatError(f"Every {column!r} cell holds {numbers[0]:g}: a numeric target needs two or more "
                              "distinct values.")
    return np.asarray(numbers, dtype=np.float32)


def _is_label_list(value) -> bool:
    return isinstance(value, list) or (isinstance(value, str) and value.lstrip().startswith("[")
                                       and value.rstrip().endswith("]"))


def _encode_label_sets(values: list, lines: list[int], class_names, at, separator: str | None, column: str
                       ) -> tuple[np.ndarray, tuple[str, ...]]:
    """Label cells holding several labels each -> an ``(n, k)`` array of 0/1 and the class names."""
    if separator is not None and (not isinstance(separator, str) or not separator):
        raise InvalidInputError(f"label_separator must be a non-empty string such as ',', got {separator!r}.")
    sets: list[list] = []
    for value, line in zip(values, lines):
        if isinstance(value, str) and _is_label_list(value):
            try:
                value = json.loads(value)
            except (ValueError, RecursionError):
                raise DataFormatError(f"{at(line)}: the {column!r} cell {value[:40]!r} looks like a JSON list but is "
                                      "not valid JSON.") from None
        if isinstance(value, list):
            items = value
        elif separator is not None:
            items = str(value).split(separator)
        else:
            items = [value]
        items = [item.strip() if isinstance(item, str) else item for item in items]
        items = [item for item in items if item not in ("", None)]
        if not items:
            raise DataFormatError(f"{at(line)}: the {column!r} cell holds no label.")
        if any(isinstance(item, (list, dict)) for item in items):
            raise DataFormatError(f"{at(line)}: the {column!r} cell nests lists; expected a flat list of labels.")
        sets.append(items)
    flat = [item for items in sets for item in items]
    flat_lines = [line for items, line in zip(sets, lines) for _ in items]
    ids, names = _encode_labels(flat, flat_lines, class_names, at)
    labels = np.zeros((len(sets), len(names)), dtype=np.int8)
    rows = np.repeat(np.arange(len(sets)), [len(items) for items in sets])
    labels[rows, ids] = 1
    return labels, names


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
