"""Small files of real reviews for command-line tests: a CSV as a user would bring it."""

from __future__ import annotations

import csv
from pathlib import Path

from rnnlab.data.amazon import load_amazon


def write_csv(path: Path, rows) -> Path:
    """``rows`` (the header first) as a UTF-8 CSV file at ``path``."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


def write_reviews_csv(path: Path, source: Path, rows: int = 300, *, labels: bool = True) -> Path:
    """The first ``rows`` Amazon reviews of ``source`` as ``review,sentiment`` (positive/negative) rows.

    Without ``labels`` only the ``review`` column is written (records to predict).
    """
    reviews = load_amazon(source)
    names = {"neg": "negative", "pos": "positive"}
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["review", "sentiment"] if labels else ["review"])
        for text, label in zip(reviews.texts[:rows], reviews.labels[:rows]):
            name = names.get(reviews.class_names[label], reviews.class_names[label])
            writer.writerow([text, name] if labels else [text])
    return path
