"""Datasets as :class:`TextDataset` records: IMDB, Amazon polarity, and the user's own tables and folders.

``load_dataset("imdb")`` is the one-line path; the loaders, :func:`locate` and
:func:`download` beneath it are public for anything the one-liner does not cover.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from rnnlab.data.amazon import load_amazon
from rnnlab.data.dataset import TextDataset
from rnnlab.data.download import download
from rnnlab.data.folders import has_splits, load_folders
from rnnlab.data.goemotions import load_goemotions
from rnnlab.data.imdb import ARCHIVE_NAME, IMDB_SHA256, IMDB_URL, load_imdb
from rnnlab.data.locate import cache_dir, locate
from rnnlab.data.numeric import SequenceDataset, load_sequences
from rnnlab.data.ratings import RATING_CLASSES, by_rating, by_score
from rnnlab.data.tables import EXTENSIONS, is_dataframe, load_table
from rnnlab.errors import (
    DataFormatError,
    DataNotFoundError,
    InvalidInputError,
    unknown_name,
)

DATASETS = ("imdb", "imdb-ratings", "imdb-score", "amazon", "goemotions")
_ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")


def load_dataset(name_or_path, split: str = "train", **kwargs) -> TextDataset:
    """Load a dataset by name (``"imdb"``, ``"amazon"``) or from a file or folder path.

    Args:
        name_or_path: a known dataset name (``"imdb-ratings"`` is IMDB labelled by its eight
            star ratings, ``"imdb-score"`` by its rating as a number to predict; ``"goemotions"`` has several labels a comment), or a path: an IMDB archive or ``aclImdb`` folder,
            a fastText ``.txt`` file, a ``.csv`` / ``.tsv`` / ``.jsonl`` / ``.parquet`` table,
            a folder of class folders of text files (:func:`load_folders`), or a pandas DataFrame
            (read as a table).
        split: ``"train"``, ``"test"`` or ``"unsup"`` for IMDB; ``"train"`` or ``"all"`` for
            the Amazon sample; ``"train"``, ``"dev"`` or ``"test"`` for GoEmotions; ``"train"`` or
            ``"test"`` for a folder with those folders.
            A single file is a whole dataset, so ``split`` is ignored for it.
        **kwargs: passed to the loader (e.g. ``path=`` for a name, ``text_column=`` for a table).

    Example:
        >>> train = load_dataset("imdb", "train")  # doctest: +SKIP
        >>> mine = load_dataset("reviews.csv", text_column="review")  # doctest: +SKIP
    """
    if is_dataframe(name_or_path):  # a table already in memory: the whole dataset, as a table file is
        return load_table(name_or_path, **kwargs)
    key = str(name_or_path).strip().lower()
    if key in ("imdb", "imdb-ratings", "imdb-score"):
        imdb = load_imdb(split, **_only_for("the IMDB dataset", kwargs, ("path",)))
        return imdb if key == "imdb" else by_rating(imdb) if key == "imdb-ratings" else by_score(imdb)
    if key == "goemotions":
        return load_goemotions(split, **_only_for("GoEmotions", kwargs, ("path",)))
    if key == "amazon":
        if split == "test":
            raise InvalidInputError(
                "The Amazon sample has no test split. Load it with split='train' (or 'all') and "
                "hold part of it out for validation."
            )
        if split not in ("train", "all"):
            raise unknown_name("Amazon split", split, ("all", "train", "test"))
        return load_amazon(**_only_for("the Amazon sample", kwargs, ("path",)))

    path = Path(name_or_path).expanduser()
    if path.exists():
        return _load_path(path, split, **kwargs)
    if os.sep in str(name_or_path) or "/" in str(name_or_path) or path.suffix:
        raise DataNotFoundError(
            f"{path} does not exist. Pass an existing file or folder, or one of the dataset "
            f"names: {', '.join(DATASETS)}."
        )
    raise unknown_name("dataset", str(name_or_path), DATASETS)


def _load_path(path: Path, split: str, **kwargs) -> TextDataset:
    """Pick the loader from what the path looks like."""
    name = path.name.lower()
    if name.endswith(_ARCHIVE_SUFFIXES) or (path.is_dir() and is_imdb_folder(path)):
        return load_imdb(split, path=path, **_only_for("the IMDB archive", kwargs))
    if path.is_dir():
        return load_folders(path, split, **_only_for("a folder of class folders", kwargs, ("class_names", "name")))
    if name.endswith(".txt"):
        return load_amazon(path, **_only_for("a fastText .txt file", kwargs))
    if name.endswith(".csv") and not kwargs and _is_review_label_csv(path):
        return load_amazon(path)
    if path.suffix.lower() in EXTENSIONS or "format" in kwargs:
        return load_table(path, **kwargs)
    raise DataFormatError(
        f"Cannot tell how to read {path}. Supported: an IMDB archive (.tar.gz) or aclImdb folder, "
        f"fastText .txt, and tables ({', '.join(sorted(EXTENSIONS))}; or pass format=)."
    )


UNLABELLED_NAMES = ("imdb",)


def load_unlabelled(source, column: str | None = None) -> TextDataset:
    """Plain texts to learn from without labels: IMDB's 50,000 ``unsup`` reviews, or a user's file.

    Args:
        source: ``"imdb"`` (the archive's ``unsup`` reviews; never its test split), texts as a
            list, numpy array or pandas Series, a table
            (``.csv``, ``.tsv``, ``.jsonl``, ``.parquet``: the ``column`` named, else the text
            column found as for labelled data), a pandas DataFrame (the same way) or a ``.txt`` file
            of one text per line.
        column: the table's text column (default: found).

    Example:
        >>> extra = load_unlabelled("more-reviews.csv", column="review")  # doctest: +SKIP
        >>> len(extra), extra.labels is None  # doctest: +SKIP
        (12000, True)
    """
    if is_dataframe(source):
        found = load_table(source, text_column=column or "auto", label_column=None)
        if not any(text.strip() for text in found.texts):
            raise DataFormatError("The DataFrame holds no text to learn from; check its text column.")
        return found
    if not isinstance(source, (str, os.PathLike)):  # texts given in Python: a list, array or pandas Series
        texts = source.tolist() if hasattr(source, "tolist") else list(source)
        bad = next((i for i, text in enumerate(texts) if not isinstance(text, str)), None)
        if bad is not None:
            raise InvalidInputError(f"Unlabelled texts: item {bad} is {type(texts[bad]).__name__}, not text; pass "
                                    "strings.")
        if not any(text.strip() for text in texts):
            raise DataFormatError("The unlabelled texts are all empty; pass texts to learn from.")
        return TextDataset(texts, None, (), name="unlabelled")
    key = str(source).strip().lower()
    if key in UNLABELLED_NAMES:
        if column is not None:
            raise InvalidInputError("--unlabelled-column names a column of a table file; IMDB's unsup reviews have "
                                    "none. Leave it out.")
        return load_imdb("unsup")
    path = Path(source).expanduser()
    if not path.is_file():
        raise DataNotFoundError(f"Unlabelled texts: {path} is not a file. Pass a table (.csv, .tsv, .jsonl, "
                                f".parquet), a .txt file of one text per line, or {' or '.join(UNLABELLED_NAMES)}.")
    if path.suffix.lower() == ".txt":
        if column is not None:
            raise InvalidInputError(f"--unlabelled-column names a column of a table; {path} is a text file of one "
                                    "text per line. Leave it out.")
        from rnnlab.data.tables import read_utf8

        texts = [line.strip() for line in read_utf8(path).splitlines() if line.strip()]
        found = TextDataset(texts, None, (), name=path.stem)
    elif path.suffix.lower() in EXTENSIONS:
        found = load_table(path, text_column=column or "auto", label_column=None)
    else:
        raise DataFormatError(f"Cannot read unlabelled texts from {path}: use a table ({', '.join(sorted(EXTENSIONS))})"
                              " or a .txt file of one text per line.")
    if not any(text.strip() for text in found.texts):
        raise DataFormatError(f"{path} holds no text to learn from; check the file (and --unlabelled-column).")
    return found


def is_imdb_folder(path: Path) -> bool:
    """True for the extracted archive (or a folder holding it), which `load_imdb` reads with its ratings."""
    return (path.name == "aclImdb" or (path / "imdb.vocab").is_file() or (path / "aclImdb").is_dir()
            or (path / ARCHIVE_NAME).is_file())


def _only_for(what: str, kwargs: dict, allowed: tuple[str, ...] = ()) -> dict:
    """Refuse table options (text_column=...) for a source that has no columns."""
    extra = sorted(set(kwargs) - set(allowed))
    if extra:
        raise InvalidInputError(f"{', '.join(extra)} applies to table files (.csv, .tsv, .jsonl, .parquet), not to "
                                f"{what}.")
    return kwargs


def _is_review_label_csv(path: Path) -> bool:
    """True for the two-column ``review_text,label`` layout, which load_table's defaults do not fit."""
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as f:
        try:
            first = next(csv.reader(f), [])
        except csv.Error:  # load_table reports it, with the line
            return False
    cells = [c.strip().lower() for c in first]
    return cells == ["review_text", "label"] or (len(cells) == 2 and cells[1] in ("0", "1"))


__all__ = [
    "load_unlabelled",
    "DATASETS",
    "IMDB_SHA256",
    "IMDB_URL",
    "RATING_CLASSES",
    "SequenceDataset",
    "TextDataset",
    "by_rating",
    "by_score",
    "cache_dir",
    "download",
    "has_splits",
    "is_imdb_folder",
    "load_folders",
    "load_amazon",
    "load_goemotions",
    "load_dataset",
    "load_imdb",
    "load_sequences",
    "load_table",
    "locate",
]
