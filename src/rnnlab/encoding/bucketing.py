"""Length bucketing: batches of reviews of similar length, each padded only to its bucket.

At maxlen 200 half of the IMDB reviews are shorter than 175 tokens and a quarter shorter
than 110, so a batch padded to maxlen spends a large share of its recurrent steps on
padding. Here each review goes to the shortest of a few *bucket lengths* that holds it,
batches are drawn from one bucket at a time and cut to that length. A small fixed set of
lengths keeps JAX to a handful of compiled shapes (one per bucket, plus one for the last,
partial batch).

Cutting works on the padded id matrix a :class:`~rnnlab.text.Preprocessor` returns (id 0
is only ever padding): with pre-padding a batch keeps its last ``length`` columns, with
post-padding its first ones.

Does a review get the same prediction at its bucket length as at ``maxlen``?

* **With a mask** (``mask_zero=True``): masked steps leave the recurrent state unchanged,
  so yes, up to float rounding, for every pooling. Each review keeps at least one padding
  step whenever it had one at ``maxlen`` (its bucket is longer than the review), because a
  masked step still *emits* the previous output, and max pooling would otherwise see one
  value fewer.
* **Without a mask, pre-padding, last state** (the textbook models): the padding steps run
  the cell on the padding embedding before the review starts, moving the state away from
  zero; fewer of them change the state the review starts from. The difference fades over
  the review's own steps, so long reviews barely change, but a trained LSTM remembers far
  back and short reviews can move by a tenth of a probability: not noise. Such models are
  therefore not bucketed by default at prediction time (`rnnlab.inference.predictor`), and
  training them with buckets trains on less padding than they will see in a bundle.
* **Without a mask and with post-padding, or with avg/max pooling, or bidirectional**: the
  padding steps are part of what the model reads after the review; bucketing changes the
  result. Use a mask for these.

Example:
    >>> lengths = sequence_lengths(x_train)  # doctest: +SKIP
    >>> buckets = bucket_lengths(lengths, maxlen=200)  # doctest: +SKIP
    >>> model.fit(BucketedBatches(x_train, y_train, batch_size=128, buckets=buckets))  # doctest: +SKIP
"""

from __future__ import annotations

import keras
import numpy as np

from rnnlab.errors import InvalidInputError

DEFAULT_BUCKETS = 4
_MULTIPLE = 8  # bucket lengths are rounded up to a multiple of this (friendlier shapes)


def sequence_lengths(ids: np.ndarray) -> np.ndarray:
    """Non-padding ids per row of a padded id matrix (id 0 is padding)."""
    ids = np.asarray(ids)
    if ids.ndim != 2:
        raise InvalidInputError(f"ids must be a 2-D id matrix, got shape {ids.shape}.")
    return np.count_nonzero(ids, axis=1)


def bucket_lengths(lengths, maxlen: int, count: int = DEFAULT_BUCKETS) -> tuple[int, ...]:
    """``count`` bucket lengths (or fewer) that split ``lengths`` into groups of similar size.

    Each bound is a quantile of the lengths the rows need (see :func:`needed_length`),
    rounded up to a multiple of 8; the last one is always ``maxlen``.

    Example:
        >>> bucket_lengths([3, 10, 50, 120, 200, 200], maxlen=200, count=3)
        (56, 200)
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise InvalidInputError(f"count must be an integer >= 1, got {count!r}.")
    if isinstance(maxlen, bool) or not isinstance(maxlen, (int, np.integer)) or maxlen < 1:
        raise InvalidInputError(f"maxlen must be an integer >= 1, got {maxlen!r}.")
    need = needed_length(np.asarray(lengths), maxlen)
    if need.size == 0:
        return (int(maxlen),)
    bounds = np.quantile(need, np.arange(1, count) / count, method="higher") if count > 1 else []
    rounded = {min(int(maxlen), -(-int(b) // _MULTIPLE) * _MULTIPLE) for b in bounds}
    return tuple(sorted(rounded | {int(maxlen)}))


def even_buckets(maxlen: int, count: int = DEFAULT_BUCKETS) -> tuple[int, ...]:
    """``count`` evenly spaced bucket lengths up to ``maxlen``, rounded up to a multiple of 8.

    For prediction, where the lengths of future texts are unknown and the compiled shapes
    should not change from one call to the next.

    Example:
        >>> even_buckets(200, 4)
        (56, 104, 152, 200)
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise InvalidInputError(f"count must be an integer >= 1, got {count!r}.")
    bounds = {min(int(maxlen), -(-int(maxlen) * i // count // _MULTIPLE) * _MULTIPLE) for i in range(1, count)}
    return tuple(sorted(bounds | {int(maxlen)}))


def needed_length(lengths: np.ndarray, maxlen: int) -> np.ndarray:
    """The shortest padded length that reads a row the way ``maxlen`` does: one step longer
    than the row (so a row that had padding keeps some), at most ``maxlen``."""
    return np.minimum(np.asarray(lengths, dtype=np.int64) + 1, int(maxlen))


def assign_buckets(lengths, buckets: tuple[int, ...]) -> np.ndarray:
    """Index into ``buckets`` of the shortest bucket holding each row."""
    buckets = _check_buckets(buckets)
    need = needed_length(np.asarray(lengths), buckets[-1])
    return np.searchsorted(np.asarray(buckets), need, side="left")


def cut(ids: np.ndarray, length: int, padding: str = "pre") -> np.ndarray:
    """The columns of a padded id matrix that hold a batch at ``length`` steps."""
    if length >= ids.shape[1]:
        return ids
    return ids[:, ids.shape[1] - length:] if padding == "pre" else ids[:, :length]


def _check_buckets(buckets) -> tuple[int, ...]:
    buckets = tuple(int(b) for b in buckets)
    if not buckets or any(b < 1 for b in buckets) or list(buckets) != sorted(set(buckets)):
        raise InvalidInputError(f"buckets must be increasing positive lengths, got {buckets!r}.")
    return buckets


def bucketed_batches(lengths, buckets: tuple[int, ...], batch_size: int,
                     rng: np.random.Generator | None = None) -> list[tuple[np.ndarray, int]]:
    """Batches ``(row indices, length)`` covering every row once, each from one bucket.

    A bucket's leftover rows (fewer than ``batch_size``) move up to the next bucket, which
    holds them too, so only the longest bucket ends with a partial batch: the number of
    distinct batch shapes stays at ``len(buckets) + 1``. With ``rng``, rows are shuffled
    within buckets and the batches are returned in random order.
    """
    buckets = _check_buckets(buckets)
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise InvalidInputError(f"batch_size must be an integer >= 1, got {batch_size!r}.")
    which = assign_buckets(lengths, buckets)
    batches = []
    carry = np.zeros(0, dtype=np.int64)
    for b, length in enumerate(buckets):
        rows = np.flatnonzero(which == b)
        if rng is not None:
            rows = rng.permutation(rows)
        rows = np.concatenate([carry, rows])
        full = len(rows) - len(rows) % batch_size if b < len(buckets) - 1 else len(rows)
        batches += [(rows[i:i + batch_size], length) for i in range(0, full, batch_size)]
        carry = rows[full:]
    if rng is not None:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


class BucketedBatches(keras.utils.PyDataset):
    """Training batches for ``model.fit``, each cut to its bucket's length; reshuffled every epoch.

    The model must accept any sequence length: build its spec with ``maxlen=None`` (the
    preprocessor keeps the real ``maxlen``), as :func:`rnnlab.training.engine.fit` does with
    ``buckets=``.

    Args:
        x: padded id matrix ``(n, maxlen)``.
        y: labels ``(n,)``.
        batch_size: rows per batch (default 128).
        buckets: bucket lengths, or the number of buckets to choose from the data with
            :func:`bucket_lengths` (default 4).
        padding: the side the rows are padded on, ``"pre"`` (default) or ``"post"``.
        shuffle: shuffle rows and batches every epoch (default True).
        seed: seed of the shuffles (default 0).

    Example:
        >>> model.fit(BucketedBatches(x_train, y_train, batch_size=256), epochs=2)  # doctest: +SKIP
    """

    def __init__(self, x, y, batch_size: int = 128, buckets: int | tuple[int, ...] = DEFAULT_BUCKETS,
                 padding: str = "pre", shuffle: bool = True, seed: int = 0):
        super().__init__()
        self.x = np.asarray(x)
        self.y = np.asarray(y)
        if len(self.x) != len(self.y):
            raise InvalidInputError(f"x has {len(self.x)} rows but y has {len(self.y)}.")
        if padding not in ("pre", "post"):
            raise InvalidInputError(f"padding must be 'pre' or 'post', got {padding!r}.")
        self.lengths = sequence_lengths(self.x)
        maxlen = self.x.shape[1]
        self.buckets = bucket_lengths(self.lengths, maxlen, buckets) if isinstance(buckets, int) \
            else _check_buckets(buckets)
        self.batch_size = batch_size
        self.padding = padding
        self.shuffle = shuffle
        self._rng = np.random.default_rng(seed)
        self._batches = self._draw()

    def _draw(self):
        return bucketed_batches(self.lengths, self.buckets, self.batch_size, self._rng if self.shuffle else None)

    @property
    def num_batches(self) -> int:
        return len(self._batches)

    def __len__(self) -> int:
        return len(self._batches)

    def __getitem__(self, index: int):
        rows, length = self._batches[index]
        return cut(self.x[rows], length, self.padding), self.y[rows]

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self._batches = self._draw()

    @property
    def padded_steps(self) -> int:
        """Time steps of one epoch, padding included (``n * maxlen`` without bucketing)."""
        return int(sum(len(rows) * length for rows, length in self._batches))


class ArrayBatches(keras.utils.PyDataset):
    """``model.fit`` batches of whole rows, reshuffled every epoch (what ``fit(x, y, shuffle=True)`` feeds)."""

    def __init__(self, x, y, batch_size: int = 128, seed: int = 0):
        super().__init__()
        self.x, self.y, self.batch_size = np.asarray(x), np.asarray(y), int(batch_size)
        self._rng = np.random.default_rng(seed)
        self._order = self._rng.permutation(len(self.x))

    def __len__(self) -> int:
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index: int):
        rows = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        return self.x[rows], self.y[rows]

    def on_epoch_end(self) -> None:
        self._order = self._rng.permutation(len(self.x))


UNLABELLED_KEY = "unlabelled"


class WithUnlabelled(keras.utils.PyDataset):
    """Each labelled batch with as many unlabelled rows beside it: ``({input_name: x, "unlabelled": rows}, y)``.

    A model named input ignores the extra key, so Keras builds and validates on the labelled
    rows; `rnnlab.training.objectives.ObjectiveTrainer` takes the unlabelled rows out.

    The unlabelled rows are drawn at random (seeded by ``seed``, the epoch and the batch) from
    those that fit the labelled batch's length, and cut to it, so bucketed training compiles no
    new shapes; when none fits, from all rows.

    Args:
        labelled: the labelled batches (`BucketedBatches` or `ArrayBatches`).
        x_unlabelled: padded id matrix of the unlabelled texts.
        padding: the side the rows are padded on (default ``"pre"``).
        seed: seed of the draws (default 0).
        input_name: the model's input (default ``"tokens"``, rnnlab's token input).
    """

    def __init__(self, labelled, x_unlabelled, padding: str = "pre", seed: int = 0, input_name: str = "tokens"):
        super().__init__()
        self.labelled = labelled
        self.input_name = input_name
        self.x = np.asarray(x_unlabelled)
        if not len(self.x):
            raise InvalidInputError("No unlabelled texts to draw batches from.")
        self.lengths = sequence_lengths(self.x)
        self.padding = padding
        self.seed = int(seed)
        self.epoch = 0
        self._fitting: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.labelled)

    def _rows_up_to(self, length: int) -> np.ndarray:
        if length not in self._fitting:
            rows = np.flatnonzero(self.lengths <= length)
            self._fitting[length] = rows if len(rows) else np.arange(len(self.x))
        return self._fitting[length]

    def __getitem__(self, index: int):
        x, y = self.labelled[index]
        rng = np.random.default_rng([self.seed, self.epoch, index])
        rows = rng.choice(self._rows_up_to(x.shape[1]), size=len(x))
        return {self.input_name: x, UNLABELLED_KEY: cut(self.x[rows], x.shape[1], self.padding)}, y

    def on_epoch_end(self) -> None:
        self.labelled.on_epoch_end()
        self.epoch += 1


def bucketed_outputs(forward, ids: np.ndarray, buckets: tuple[int, ...] | int = DEFAULT_BUCKETS,
                     batch_size: int = 256, padding: str = "pre") -> np.ndarray:
    """``forward(batch)`` on every row of ``ids``, batched by bucket, in the original row order.

    Args:
        forward: maps an id matrix ``(b, length)`` to an array ``(b, ...)`` (e.g.
            :meth:`rnnlab.training.forward.CompiledModel.probabilities`).
        ids: padded id matrix ``(n, maxlen)``.
        buckets: bucket lengths, or how many to choose from the rows' lengths (default 4).
        batch_size: rows per call (default 256).
        padding: the side the rows are padded on (default ``"pre"``).
    """
    ids = np.asarray(ids)
    lengths = sequence_lengths(ids)
    if isinstance(buckets, int):
        buckets = bucket_lengths(lengths, ids.shape[1], buckets)
    out = None
    for rows, length in bucketed_batches(lengths, buckets, batch_size):
        result = np.asarray(forward(cut(ids[rows], length, padding)))
        if out is None:
            out = np.empty((len(ids),) + result.shape[1:], dtype=result.dtype)
        out[rows] = result
    if out is None:
        raise InvalidInputError("ids has no rows.")
    return out
