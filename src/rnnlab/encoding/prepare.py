"""From raw datasets to the arrays a model trains on: split, fit preprocessing, encode.

Kept apart from `train` so several models with the same preprocessing (a reproduction, a
sweep) encode the data once and share it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rnnlab.data import TextDataset, by_score, has_splits, is_imdb_folder, load_dataset, load_imdb
from rnnlab.data.tables import EXTENSIONS, is_dataframe
from rnnlab.encoding.split import split_holdout, split_validation
from rnnlab.errors import InvalidInputError
from rnnlab.text import Preprocessor
from rnnlab.text.cache import fit_encode

LENGTH_RULES = ("truncate", "filter")


@dataclass
class PreparedData:
    """Encoded splits plus the fitted preprocessor that produced them."""

    preprocessor: Preprocessor
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray | None
    y_val: np.ndarray | None
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    class_names: tuple[str, ...]
    info: dict = field(default_factory=dict)
    x_unlabelled: np.ndarray | None = None  # texts without labels, encoded alike (`add_unlabelled`)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def multi_label(self) -> bool:
        """Whether each row has a set of labels (``y`` is ``(n, num_classes)`` of 0/1)."""
        return np.ndim(self.y_train) == 2

    @property
    def numeric(self) -> bool:
        """Whether each row's label is a number to predict (``y`` is float; ``class_names`` is the target's name)."""
        return np.asarray(self.y_train).dtype.kind == "f"


def _is_imdb(dataset: str) -> bool:
    path = Path(dataset)
    return dataset == "imdb" or dataset.endswith(".tar.gz") or path.name == "aclImdb" or (path / "aclImdb").is_dir()


def load_splits(dataset: str, *, seed: int = 0, limit: int | None = None, test_fraction: float = 0.2,
                test: str | None = None, text_column: str | None = None, label_column: str | None = None,
                field_columns: dict | None = None, with_test: bool = True, label_separator: str | None = None,
                numeric_labels: bool | None = None, sheet: str | None = None
                ) -> tuple[TextDataset, TextDataset | None]:
    """Train and test examples of a dataset; datasets without a test split get a held-out one.

    Args:
        dataset: a dataset name or path (see :func:`rnnlab.data.load_dataset`), or a pandas DataFrame (a
            table in memory: a held-out test share is split from it unless ``test`` is given).
        seed: the seed of the held-out split and of the ``limit`` subsample.
        limit: keep at most this many train and this many test examples (stratified).
        test_fraction: the share held out as test data when the dataset has no test split
            and no ``test`` file is given.
        test: a file (or folder) of test examples, read with the same columns; its labels
            are mapped to the training data's classes.
        text_column, label_column, field_columns: the columns of a table file (default: found).
        label_separator: a table's label cells hold several labels joined by it (multi-label).
        numeric_labels: a table's label cells are numbers to predict (`rnnlab.data.load_table`).
        sheet: the sheet of an Excel workbook (default: its first); a ``test`` workbook is read at the same sheet.
        with_test: False returns ``(train, None)`` without opening any test data (a search
            that chooses settings); a held-out test share is still kept out of ``train``.
    """
    frame = is_dataframe(dataset)  # a pandas DataFrame: a table already in memory, one dataset to split
    dataset = dataset if frame else str(dataset)
    columns = {k: v for k, v in (("text_column", text_column), ("label_column", label_column),
                                 ("field_columns", field_columns), ("label_separator", label_separator),
                                 ("numeric_labels", numeric_labels), ("sheet", sheet)) if v}
    own_test = None  # reads the dataset's own test split, when it has one
    if frame:
        train = load_dataset(dataset, "train", **columns)
    elif _is_imdb(dataset) and not columns:
        path = None if dataset == "imdb" else dataset
        train = load_imdb("train", path=path)
        own_test = lambda: load_imdb("test", path=path)  # noqa: E731
    elif dataset.lower() in ("imdb-ratings", "imdb-score", "goemotions") and not columns:
        train = load_dataset(dataset, "train")
        own_test = lambda: load_dataset(dataset, "test")  # noqa: E731
    elif Path(dataset).is_dir() and has_splits(Path(dataset)) and not columns:
        train = load_dataset(dataset, "train")
        own_test = lambda: load_dataset(dataset, "test", class_names=train.class_names)  # noqa: E731
    else:
        train = load_dataset(dataset, "train", **columns)
    if frame:
        dataset = "the DataFrame"  # how the messages below name it
    if train.labels is None:
        raise InvalidInputError(f"Dataset {dataset!r} has no labels; a classifier needs labelled examples.")
    if train.multi_label and (train.class_counts() > 0).sum() < 2:
        raise InvalidInputError(f"The examples of {dataset!r} hold fewer than two distinct labels: a classifier needs "
                                "two or more. Check the label column (--label-column) and --label-separator.")
    if not train.multi_label and len(np.unique(train.labels)) < 2:
        found, needed = ((f"the value {float(train.labels[0]):g}", "a numeric target needs two or more values")
                         if train.numeric else (f"the label {train.class_names[train.labels[0]]!r}",
                                                "a classifier needs two or more classes"))
        raise InvalidInputError(f"Every example of {dataset!r} has {found}: {needed}. Check the label column "
                                "(--label-column).")
    if test is None and own_test is None:
        train, test_set = split_holdout(train, test_fraction, seed)
    elif not with_test:
        test_set = None
    elif test is not None:
        test_set = _load_test(test, train, columns)
        if test_set.labels is None:
            raise InvalidInputError(f"The test file {test} has no labels to score against.")
    else:
        test_set = own_test()
    if limit:
        train = train.sample(limit, seed=seed)
    if not with_test:
        return train, None
    if limit:
        test_set = test_set.sample(limit, seed=seed)
    return train, test_set


def _load_test(test, train: TextDataset, columns: dict) -> TextDataset:
    """A separate test file, folder or DataFrame, read with the training data's columns and classes."""
    frame = is_dataframe(test)
    path = test if frame else Path(str(test)).expanduser()
    if frame or path.suffix.lower() in EXTENSIONS:
        options = {"text_column": train.columns.get("text"), "label_column": train.columns.get("label"),
                   "numeric_labels": train.numeric or None, **columns}
        if frame or EXTENSIONS[path.suffix.lower()] != "xlsx":
            options.pop("sheet", None)  # the training workbook's sheet; a CSV or a DataFrame has none
        return load_dataset(path, "test", class_names=train.class_names, **{k: v for k, v in options.items() if v})
    if path.is_dir() and not is_imdb_folder(path):
        return load_dataset(path, "test", class_names=train.class_names)
    test_set = load_dataset(path, "test")
    if train.numeric and test_set.ratings is not None:  # an IMDB archive: its ratings are the numbers
        test_set = by_score(test_set)
    if test_set.class_names != train.class_names:
        raise InvalidInputError(f"The test data {test} has classes {test_set.class_names} but the training data has "
                                f"{train.class_names}.")
    return test_set


def prepare(train: TextDataset, test: TextDataset | None, *, mode: str = "keras", vocab_size: int | None = 8000,
            maxlen: int | None = 200, padding: str = "pre", truncating: str = "pre",
            validation_split: float = 0.2, length_rule: str = "truncate", seed: int = 0,
            cache: bool = False) -> PreparedData:
    """Shuffle, carve the validation split, fit the vocabulary on the training part only, encode.

    Keras' `fit(validation_split=...)` takes the *last* rows without shuffling; our datasets
    are ordered by class, so we shuffle first (with `seed`) and then take the last rows,
    which keeps the same semantics without a one-class validation set.

    Each text is tokenized once. With `cache`, the encoded arrays are stored on disk keyed by
    the texts and these settings (`rnnlab.text.cache`), and a later identical call loads them.
    """
    if length_rule not in LENGTH_RULES:
        raise InvalidInputError(f"length_rule must be one of {LENGTH_RULES}, got {length_rule!r}.")
    fit_rows, val_rows = split_validation(len(train), validation_split, seed)
    train = train.subset(np.concatenate([fit_rows, val_rows]))
    n_val = len(val_rows)

    preprocessor = Preprocessor(mode=mode, vocab_size=vocab_size, maxlen=maxlen, padding=padding,
                                truncating=truncating)
    groups = [train.texts] if test is None else [train.texts, test.texts]
    encodings = fit_encode(preprocessor, groups, fit_count=len(train) - n_val, cache=cache)

    def encode(ds: TextDataset, encoded):
        x, y = encoded.ids, ds.labels
        if length_rule == "filter" and maxlen:
            # Keras imdb.load_data(maxlen=m) keeps sequences shorter than m with the start
            # token counted, i.e. at most m - 2 words; padded to the longest that is m - 1.
            keep = ~np.asarray(encoded.truncated) & (np.asarray(encoded.n_tokens) < maxlen)
            x, y = x[keep], y[keep]
        return x, np.asarray(y)

    x_all, y_all = encode(train, encodings[0])
    if length_rule == "filter":
        # Filtering changes the row count, so split after it, keeping the same fraction.
        n_val = int(round(len(x_all) * validation_split))
    x_train, y_train = x_all[: len(x_all) - n_val], y_all[: len(y_all) - n_val]
    x_val = x_all[len(x_all) - n_val:] if n_val else None
    y_val = y_all[len(y_all) - n_val:] if n_val else None
    x_test = y_test = None
    if test is not None:
        x_test, y_test = encode(test, encodings[1])
    info = {
        "train_examples": int(len(x_train)),
        "validation_examples": int(0 if x_val is None else len(x_val)),
        "test_examples": int(0 if x_test is None else len(x_test)),
        "vocabulary_size": len(preprocessor.vocabulary),
        "length_rule": length_rule,
        "validation_split": validation_split,
        "seed": seed,
    }
    return PreparedData(preprocessor, x_train, y_train, x_val, y_val, x_test, y_test, train.class_names, info)
