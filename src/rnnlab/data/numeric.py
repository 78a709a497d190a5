"""Numeric sequences `(time steps, features)` with class labels: arrays, CSV tables, digits.

The record type is :class:`SequenceDataset` (one float array per sequence, lengths may
differ); turning it into padded model input is `rnnlab.encoding.sequences.SequencePreprocessor`'s job.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnlab.data.dataset import _stratified_counts
from rnnlab.data.tables import _encode_labels, read_utf8
from rnnlab.errors import (
    DataFormatError,
    DataNotFoundError,
    InvalidInputError,
    unknown_name,
)
from rnnlab.files import DAMAGED_NUMPY_FILE_ERRORS

SEQUENCE_DATASETS = ("digits",)
ARRAY_SUFFIXES = (".npz", ".npy")
TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t"}
_X_KEYS = ("x", "X", "sequences", "data")
_Y_KEYS = ("y", "Y", "labels", "target")


@dataclass(eq=False)
class SequenceDataset:
    """Numeric sequences with optional class labels.

    Args:
        sequences: one float array `(steps_i, features)` per example; all share `features`.
        labels: int64 class ids `0..k-1`, or None.
        class_names: `class_names[i]` names class id `i`.
        name: a short label for messages and reports (default `""`).

    Example:
        >>> ds = SequenceDataset([np.zeros((3, 2)), np.ones((5, 2))], np.array([0, 1]), ("a", "b"))
        >>> ds.features, ds.lengths.tolist()
        (2, [3, 5])
    """

    sequences: list[np.ndarray]
    labels: np.ndarray | None
    class_names: tuple[str, ...]
    name: str = ""

    def __post_init__(self) -> None:
        self.sequences = [np.asarray(s, dtype=np.float32) for s in self.sequences]
        self.sequences = [s.reshape(-1, 1) if s.ndim == 1 else s for s in self.sequences]
        self.class_names = tuple(str(c) for c in self.class_names)
        if not self.sequences:
            raise InvalidInputError("A SequenceDataset needs at least one sequence.")
        widths = {s.shape[1] for s in self.sequences if s.ndim == 2}
        if any(s.ndim != 2 for s in self.sequences) or len(widths) != 1:
            raise InvalidInputError(
                f"Every sequence must be a (steps, features) array with the same number of features; "
                f"got feature counts {sorted(widths)}.")
        if any(len(s) == 0 for s in self.sequences):
            raise InvalidInputError("Every sequence needs at least one time step.")
        if self.labels is not None:
            self.labels = np.asarray(self.labels, dtype=np.int64).reshape(-1)
            if len(self.labels) != len(self.sequences):
                raise InvalidInputError(f"labels has {len(self.labels)} entries but there are "
                                        f"{len(self.sequences)} sequences.")
            if self.labels.min() < 0 or self.labels.max() >= len(self.class_names):
                raise InvalidInputError(f"labels must be class ids in 0..{len(self.class_names) - 1}.")

    def __len__(self) -> int:
        return len(self.sequences)

    def __repr__(self) -> str:
        return f"SequenceDataset(name={self.name!r}, n={len(self)}, features={self.features})"

    @property
    def features(self) -> int:
        return int(self.sequences[0].shape[1])

    @property
    def lengths(self) -> np.ndarray:
        return np.fromiter((len(s) for s in self.sequences), dtype=np.int64, count=len(self))

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def subset(self, indices) -> SequenceDataset:
        idx = np.asarray(indices)
        idx = np.flatnonzero(idx) if idx.dtype == bool else idx.astype(np.int64).reshape(-1)
        return SequenceDataset([self.sequences[i] for i in idx.tolist()],
                               None if self.labels is None else self.labels[idx], self.class_names, self.name)

    def sample(self, n: int, seed: int = 0) -> SequenceDataset:
        """`n` examples keeping the class proportions, in shuffled order (as `TextDataset.sample`)."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise InvalidInputError(f"n must be a positive integer; got {n!r}.")
        if n >= len(self):
            return self
        rng = np.random.default_rng(seed)
        if self.labels is None:
            return self.subset(rng.choice(len(self), size=n, replace=False))
        counts = _stratified_counts(np.bincount(self.labels, minlength=self.num_classes), n)
        chosen = [rng.choice(np.flatnonzero(self.labels == c), size=k, replace=False)
                  for c, k in enumerate(counts) if k]
        return self.subset(rng.permutation(np.concatenate(chosen)))


def load_digits_sequences() -> SequenceDataset:
    """scikit-learn's 1,797 handwritten digits read row by row: 8 steps x 8 pixel features, 10 classes.

    The data ships with scikit-learn, so it works offline. Pixel values are 0-16 as stored.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    return SequenceDataset(list(digits.images.astype(np.float32)), digits.target,
                           tuple(str(c) for c in digits.target_names), name="digits")


def load_arrays(path, labels=None, class_names: Sequence[str] | None = None) -> SequenceDataset:
    """Sequences from NumPy files (read without pickle).

    Args:
        path: a `.npz` holding `x` `(n, steps, features)` (or `(n, steps)` for one feature)
            and `y` `(n,)`, optionally `lengths` `(n,)` (real steps of each padded row, the
            rest is dropped) and `class_names`; or a `.npy` holding `x` alone.
        labels: for a `.npy`, the labels file; default: `NAME.labels.npy` beside it, or the
            same name with `x` replaced by `y` (`x.npy` -> `y.npy`, `train_x.npy` -> `train_y.npy`).
        class_names: names of class ids `0..k-1` (default: from the file, else `"0".."k-1"`).
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataNotFoundError(f"{path} does not exist or is not a file.")
    lengths = names = None
    is_npz = path.suffix.lower() == ".npz"
    labels_file = None if is_npz else _labels_file(path, labels)
    try:
        if is_npz:
            with np.load(path, allow_pickle=False) as archive:
                x = _first_key(archive, _X_KEYS, path, "sequences")
                y = _first_key(archive, _Y_KEYS, path, "labels")
                lengths = archive["lengths"] if "lengths" in archive.files else None
                names = archive["class_names"] if "class_names" in archive.files else None
        else:
            x = np.load(path, allow_pickle=False)
            y = np.load(labels_file, allow_pickle=False)
    except ValueError as exc:  # object arrays (they need pickle, which we never enable), a bad header
        raise DataFormatError(f"Cannot read {path} without pickle: {exc}. Save plain numeric arrays.") from None
    except DAMAGED_NUMPY_FILE_ERRORS as exc:  # np.load of an empty, truncated or damaged file
        raise DataFormatError(f"{path} is not a readable NumPy file ({exc or type(exc).__name__}): it is empty, "
                              "truncated or damaged. Save the arrays again with np.savez or np.save.") from None
    for name, array in (("sequences", x), ("labels", y)):
        if not isinstance(array, np.ndarray):  # a .npy name on an .npz archive
            raise DataFormatError(f"{path}: the {name} file holds several arrays; save one array per .npy file.")
    if x.ndim not in (2, 3):
        raise DataFormatError(f"{path}: sequences must be (n, steps) or (n, steps, features), got shape {x.shape}.")
    if y.ndim != 1 or len(y) != len(x):
        raise DataFormatError(f"{path}: {len(x)} sequences need labels of shape ({len(x)},), got {y.shape}.")
    if not len(x):
        raise DataFormatError(f"{path} holds no sequences.")
    if not np.issubdtype(x.dtype, np.number):
        raise DataFormatError(f"{path}: sequences must be numbers, got dtype {x.dtype}.")
    if lengths is not None and (lengths.shape != (len(x),) or lengths.dtype.kind not in "iu"):
        raise DataFormatError(f"{path}: lengths must hold one integer per sequence, got shape {lengths.shape} "
                              f"and dtype {lengths.dtype}.")
    if names is not None:
        if names.ndim != 1:
            raise DataFormatError(f"{path}: class_names must be a list of names, got shape {names.shape}.")
        names = names.tolist()
    sequences = list(x.astype(np.float32))
    if lengths is not None:
        sequences = [s[: int(n)] for s, n in zip(sequences, lengths)]
    ids, class_tuple = _encode_labels(list(np.asarray(y).tolist()), list(range(1, len(y) + 1)),
                                      class_names or names, path)
    return SequenceDataset(sequences, ids, class_tuple, name=path.name.split(".")[0])


def _first_key(archive, keys, path: Path, what: str) -> np.ndarray:
    for key in keys:
        if key in archive.files:
            return archive[key]
    raise DataFormatError(f"{path} has no {what} array: expected one of {', '.join(keys)}; "
                          f"it holds {', '.join(archive.files) or 'nothing'}.")


def _labels_file(path: Path, labels) -> Path:
    if labels is not None:
        labels = Path(labels).expanduser()
        if not labels.is_file():
            raise DataNotFoundError(f"Labels file {labels} does not exist or is not a file.")
        return labels
    stem = path.name[: -len(".npy")]
    candidates = [path.with_name(f"{stem}.labels.npy")]
    if stem.endswith(("x", "X")):
        candidates.append(path.with_name(f"{stem[:-1]}{'y' if stem.endswith('x') else 'Y'}.npy"))
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise DataNotFoundError(f"No labels for {path}: pass labels=, or put them in "
                            f"{' or '.join(str(c.name) for c in candidates)} beside it.")


def load_sequence_csv(path, id_column: str = "sequence_id", label_column: str = "label", *,
                      time_column: str | None = None, feature_columns: Sequence[str] | None = None,
                      class_names: Sequence[str] | None = None) -> SequenceDataset:
    """Sequences from a table with one row per time step.

    Args:
        path: a `.csv` (or `.tsv`) file with a header row.
        id_column: the column naming the sequence a row belongs to (default `"sequence_id"`).
            Sequences come out in order of first appearance.
        label_column: the sequence's class, repeated on each of its rows (default `"label"`).
        time_column: a column to order each sequence's steps by; default: file order.
        feature_columns: the feature columns; default: every other column.
        class_names: as in `load_table`.

    Example (`walks.csv`)::

        sequence_id,t,x,y,label
        a,0,0.1,0.3,left
        a,1,0.2,0.1,left
        b,0,0.9,0.4,right
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataNotFoundError(f"{path} does not exist or is not a file.")
    delimiter = TABLE_SUFFIXES.get(path.suffix.lower(), ",")
    reader = csv.reader(io.StringIO(read_utf8(path), newline=""), delimiter=delimiter)
    rows = _checked_rows(reader, path)
    header = next(rows, None)
    if not header:
        raise DataFormatError(f"{path} is empty: expected a header row.")
    header = [h.strip() for h in header]
    for column in (id_column, label_column, time_column, *(feature_columns or ())):
        if column is not None and column not in header:
            raise DataFormatError(f"{path}: no column {column!r}. Columns present: {', '.join(header)}.")
    used = {id_column, label_column, time_column}
    features = list(feature_columns) if feature_columns else [h for h in header if h not in used]
    if not features:
        raise DataFormatError(f"{path}: no feature columns left besides {id_column!r} and {label_column!r}.")
    position = {h: i for i, h in enumerate(header)}
    steps: dict[str, list[tuple[float, list[float]]]] = {}
    seq_labels: dict[str, tuple[str, int]] = {}
    for cells in rows:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise DataFormatError(f"{path}, line {line}: {len(cells)} cells but the header has {len(header)}.")
        key = cells[position[id_column]].strip()
        label = cells[position[label_column]].strip()
        if key in seq_labels and seq_labels[key][0] != label:
            raise DataFormatError(
                f"{path}, line {line}: sequence {key!r} has label {label!r} here but {seq_labels[key][0]!r} "
                f"on line {seq_labels[key][1]}; a sequence has one label.")
        seq_labels.setdefault(key, (label, line))
        values = [_number(cells[position[c]], path, line, c) for c in features]
        order = _number(cells[position[time_column]], path, line, time_column) if time_column else len(steps.get(key, ()))
        steps.setdefault(key, []).append((order, values))
    if not steps:
        raise DataFormatError(f"{path} has a header but no rows.")
    sequences = [np.asarray([v for _, v in sorted(rows, key=lambda r: r[0])], dtype=np.float32)
                 for rows in steps.values()]
    labels = [seq_labels[k][0] for k in steps]
    lines = [seq_labels[k][1] for k in steps]
    ids, names = _encode_labels(labels, lines, class_names, path)
    return SequenceDataset(sequences, ids, names, name=path.name.split(".")[0])


def _checked_rows(reader, path: Path):
    """The reader's rows; a malformed one (a cell over the csv module's size limit) is a DataFormatError."""
    try:
        yield from reader
    except csv.Error as err:
        raise DataFormatError(f"{path}, line {reader.line_num}: {err}.") from None


def _number(cell: str, path: Path, line: int, column: str) -> float:
    try:
        return float(cell)
    except ValueError:
        raise DataFormatError(f"{path}, line {line}: column {column!r} holds {cell!r}, not a number.") from None


def load_sequences(name_or_path, **kwargs) -> SequenceDataset:
    """A numeric sequence dataset by name (`"digits"`) or path (`.npz`, `.npy`, `.csv`, `.tsv`)."""
    key = str(name_or_path).strip()
    if key.lower() == "digits":
        return load_digits_sequences()
    path = Path(key).expanduser()
    suffix = path.suffix.lower()
    if suffix in ARRAY_SUFFIXES:
        return load_arrays(path, **kwargs)
    if suffix in TABLE_SUFFIXES:
        return load_sequence_csv(path, **kwargs)
    if not path.suffix and "/" not in key:
        raise unknown_name("sequence dataset", key, SEQUENCE_DATASETS)
    raise DataFormatError(f"Cannot read numeric sequences from {path}: use .npz/.npy arrays or a .csv/.tsv table "
                          f"with one row per time step.")


def is_sequence_source(name_or_path) -> bool:
    """True for names and files that hold numeric sequences rather than texts (a DataFrame holds texts)."""
    if not isinstance(name_or_path, (str, Path)):
        return False
    key = str(name_or_path).strip()
    return key.lower() in SEQUENCE_DATASETS or Path(key).suffix.lower() in ARRAY_SUFFIXES
