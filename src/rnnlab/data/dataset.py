"""The one record type every loader returns, so the rest of rnnlab sees a single shape of data."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rnnlab.errors import InvalidInputError


@dataclass(eq=False)  # element-wise numpy comparison makes a generated __eq__ meaningless
class TextDataset:
    """Texts with optional class labels and parallel per-example arrays.

    Args:
        texts: the raw documents, one string per example.
        labels: int64 class ids ``0..k-1``, or ``None`` for unlabelled data; for several labels a row,
            an ``(n, k)`` array of 0/1 (one column per class name: ``multi_label``); for a number a row
            (a rating, a price), a float array with a single name in ``class_names``, the target's
            (``numeric``).
        class_names: ``class_names[i]`` is the name of class id ``i``; for numbers, ``(target name,)``.
        name: a short label for messages and reports (default ``""``).
        ratings: per-example star rating where the source has one (IMDB), else ``None``.
        fields: extra per-example text fields, e.g. ``{"title": [...], "body": [...]}``.
        columns: for a table, the columns read: ``{"text": ..., "label": ...}`` and one per field.

    Example:
        >>> ds = TextDataset(["good", "bad"], np.array([1, 0]), ("neg", "pos"))
        >>> len(ds.subset([1])), ds.num_classes
        (1, 2)
    """

    texts: list[str]
    labels: np.ndarray | None
    class_names: tuple[str, ...]
    name: str = ""
    ratings: np.ndarray | None = None
    fields: dict[str, list[str]] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.texts = list(self.texts)
        self.class_names = tuple(str(c) for c in self.class_names)
        n = len(self.texts)
        if self.labels is not None and np.ndim(self.labels) == 2:
            self.labels = _label_sets(self.labels, self.class_names, n)
        elif self.labels is not None and _is_numeric(self.labels, self.class_names):
            self.labels = np.asarray(self.labels, dtype=np.float32).reshape(-1)
            _check_length("labels", len(self.labels), n)
            if not np.isfinite(self.labels).all():
                raise InvalidInputError("numeric labels must be finite numbers (no NaN or infinity).")
        elif self.labels is not None:
            self.labels = np.asarray(self.labels, dtype=np.int64).reshape(-1)
            _check_length("labels", len(self.labels), n)
            if n and (self.labels.min() < 0 or self.labels.max() >= len(self.class_names)):
                raise InvalidInputError(
                    f"labels must be class ids in 0..{len(self.class_names) - 1} "
                    f"(one per class name {self.class_names}); got values "
                    f"{int(self.labels.min())}..{int(self.labels.max())}."
                )
        if self.ratings is not None:
            self.ratings = np.asarray(self.ratings).reshape(-1)
            _check_length("ratings", len(self.ratings), n)
        self.fields = {key: list(values) for key, values in self.fields.items()}
        for key, values in self.fields.items():
            _check_length(f"fields[{key!r}]", len(values), n)

    def __len__(self) -> int:
        return len(self.texts)

    def __repr__(self) -> str:  # the default would print every text
        labelled = ("unlabelled" if self.labels is None else f"target={self.class_names[0]!r}" if self.numeric
                    else f"classes={self.class_names}")
        return f"TextDataset(name={self.name!r}, n={len(self)}, {labelled})"

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def multi_label(self) -> bool:
        """Whether each example has a set of labels (``labels`` is ``(n, k)`` of 0/1) rather than one."""
        return self.labels is not None and self.labels.ndim == 2

    @property
    def numeric(self) -> bool:
        """Whether each example's label is a number (``labels`` is float, ``class_names`` the target's name)."""
        return self.labels is not None and self.labels.dtype.kind == "f"

    def class_counts(self) -> np.ndarray:
        """Examples per class (for several labels a row, examples holding each label; for numbers, all of them)."""
        if self.numeric:
            return np.asarray([len(self)], dtype=np.int64)
        if self.multi_label:
            return self.labels.sum(axis=0).astype(np.int64)
        return np.bincount(self.labels, minlength=self.num_classes)

    def subset(self, indices) -> TextDataset:
        """Examples at ``indices`` (ints or a boolean mask), every parallel array kept aligned."""
        idx = np.asarray(indices)
        if idx.dtype == bool:
            if idx.shape != (len(self),):
                raise InvalidInputError(
                    f"a boolean mask must have one entry per example ({len(self)}); got shape {idx.shape}."
                )
            idx = np.flatnonzero(idx)
        elif idx.size == 0:
            idx = idx.astype(np.int64)
        elif not np.issubdtype(idx.dtype, np.integer):
            raise InvalidInputError(f"indices must be integers or a boolean mask; got dtype {idx.dtype}.")
        idx = idx.reshape(-1)
        positions = idx.tolist()
        return TextDataset(
            texts=[self.texts[i] for i in positions],
            labels=None if self.labels is None else self.labels[idx],
            class_names=self.class_names,
            name=self.name,
            ratings=None if self.ratings is None else self.ratings[idx],
            fields={key: [values[i] for i in positions] for key, values in self.fields.items()},
            columns=self.columns,
        )

    def sample(self, n: int, seed: int = 0) -> TextDataset:
        """A random subset of ``n`` examples that keeps the class proportions, in shuffled order.

        Shuffled rather than source order because sources are often sorted by class, and a
        trailing validation slice of sorted data would hold a single class.
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise InvalidInputError(f"n must be a positive integer; got {n!r}.")
        if n >= len(self):
            return self
        rng = np.random.default_rng(seed)
        if self.labels is None or self.multi_label or self.numeric:  # label sets, numbers: a plain random sample
            return self.subset(rng.choice(len(self), size=n, replace=False))
        counts = _stratified_counts(self.class_counts(), n)
        chosen = [
            rng.choice(np.flatnonzero(self.labels == c), size=k, replace=False)
            for c, k in enumerate(counts)
            if k
        ]
        return self.subset(rng.permutation(np.concatenate(chosen)))


def _stratified_counts(class_sizes: np.ndarray, n: int) -> np.ndarray:
    """Split ``n`` across classes in proportion to their sizes (largest-remainder rounding)."""
    exact = class_sizes * n / class_sizes.sum()
    counts = np.floor(exact).astype(np.int64)
    # Give the leftover examples to the largest remainders; ties go to the lower class id.
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return np.minimum(counts, class_sizes)


def _is_numeric(labels, class_names: tuple[str, ...]) -> bool:
    """Numbers, not class ids: float labels with the one name of their target."""
    return len(class_names) == 1 and np.asarray(labels).dtype.kind == "f"


def _label_sets(labels, class_names: tuple[str, ...], n: int) -> np.ndarray:
    """An ``(n, k)`` array of 0/1 label sets, checked against the class names."""
    labels = np.asarray(labels)
    _check_length("labels", len(labels), n)
    if labels.shape[1] != len(class_names):
        raise InvalidInputError(f"labels has {labels.shape[1]} columns but there are {len(class_names)} class names: "
                                "a row of label sets holds one 0/1 column per class.")
    if labels.size and not np.isin(labels, (0, 1)).all():
        raise InvalidInputError("label sets must hold only 0 and 1 (one column per class).")
    return labels.astype(np.int8)


def _check_length(what: str, got: int, expected: int) -> None:
    if got != expected:
        raise InvalidInputError(f"{what} has {got} entries but there are {expected} texts.")
