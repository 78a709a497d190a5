"""Amazon review polarity (Zhang et al., 2015) in the fastText format, or as a two-column CSV.

There is no official download of the sample this project uses, so the file is only looked up
locally; the error message says where to put it.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from rnnlab.data.dataset import TextDataset
from rnnlab.data.locate import locate
from rnnlab.data.tables import read_utf8
from rnnlab.errors import DataFormatError

AMAZON_FILE = "amazon_polarity_sample.ft.txt"
CLASS_NAMES = ("neg", "pos")
_FASTTEXT_LABELS = {"__label__1": 0, "__label__2": 1}  # 1 = negative, 2 = positive


def load_amazon(path=None) -> TextDataset:
    """Load Amazon polarity reviews: labels neg=0 / pos=1, text ``"Title: body"``.

    Args:
        path: the file, or a folder holding ``amazon_polarity_sample.ft.txt``. Default: look in
            ``$RNNLAB_DATA_DIR``, then the cache. A ``.csv`` file is read as ``review_text,label``
            rows (label 0/1, header optional); other files as fastText lines
            ``__label__1|2 Title: body``.

    For fastText files, ``fields["title"]`` and ``fields["body"]`` split each text at its first
    ``": "`` (title empty when there is none).

    Example:
        >>> ds = load_amazon()  # doctest: +SKIP
        >>> ds.fields["title"][0]  # doctest: +SKIP
        'Great CD'
    """
    file = locate(AMAZON_FILE, path)
    if file.name.lower().endswith(".csv"):
        texts, labels = _read_csv(file)
        fields = {}
    else:
        texts, labels = _read_fasttext(file)
        titles, bodies = zip(*(_split_title(t) for t in texts)) if texts else ((), ())
        fields = {"title": list(titles), "body": list(bodies)}
    if not texts:
        raise DataFormatError(f"{file} holds no reviews.")
    return TextDataset(texts, np.asarray(labels, dtype=np.int64), CLASS_NAMES, name="amazon", fields=fields)


def _read_fasttext(file: Path) -> tuple[list[str], list[int]]:
    texts, labels = [], []
    # split("\n"), not splitlines(): reviews may contain form feeds or U+2028, which are not line ends here.
    for number, line in enumerate(read_utf8(file).split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        tag, _, text = line.partition(" ")
        if tag not in _FASTTEXT_LABELS:
            raise DataFormatError(
                f"{file}, line {number}: expected the line to start with __label__1 (negative) or "
                f"__label__2 (positive) and a space; it starts with {line[:30]!r}."
            )
        text = text.strip()
        if not text:
            raise DataFormatError(f"{file}, line {number}: the review text is empty.")
        texts.append(text)
        labels.append(_FASTTEXT_LABELS[tag])
    return texts, labels


def _read_csv(file: Path) -> tuple[list[str], list[int]]:
    texts, labels = [], []
    reader = csv.reader(io.StringIO(read_utf8(file), newline=""))
    first_row = True
    try:
        for cells in reader:
            number = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != 2:
                raise DataFormatError(
                    f"{file}, line {number}: expected 2 cells (review_text,label), got {len(cells)}. "
                    f"Quote reviews that contain commas."
                )
            text, label = cells[0], cells[1].strip()
            is_header = first_row and not _looks_like_int(label)
            first_row = False
            if is_header:
                continue
            if label not in ("0", "1"):
                raise DataFormatError(
                    f"{file}, line {number}: label must be 0 (negative) or 1 (positive), got {label!r}. "
                    f"For other label schemes use load_table."
                )
            if not text.strip():
                raise DataFormatError(f"{file}, line {number}: the review text is empty.")
            texts.append(text)
            labels.append(int(label))
    except csv.Error as err:
        raise DataFormatError(f"{file}, line {reader.line_num}: {err}.") from None
    return texts, labels


def _looks_like_int(cell: str) -> bool:
    return cell.lstrip("+-").isdigit()


def _split_title(text: str) -> tuple[str, str]:
    title, sep, body = text.partition(": ")
    return (title, body) if sep else ("", text)
