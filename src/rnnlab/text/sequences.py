"""Pad and truncate id sequences to one length (Keras ``pad_sequences`` semantics)."""

from __future__ import annotations

import numpy as np

from rnnlab.errors import InvalidInputError

SIDES = ("pre", "post")


def check_length_options(maxlen, padding: str = "pre", truncating: str = "pre") -> None:
    """Raise InvalidInputError unless ``maxlen`` is None or >= 1 and the sides are known."""
    if maxlen is not None and (not isinstance(maxlen, (int, np.integer)) or isinstance(maxlen, bool)
                               or maxlen < 1):
        raise InvalidInputError(f"maxlen must be None or an integer >= 1, got {maxlen!r}.")
    for name, value in (("padding", padding), ("truncating", truncating)):
        if value not in SIDES:
            raise InvalidInputError(f"{name} must be 'pre' or 'post', got {value!r}.")


def pad(sequences, maxlen: int | None, padding: str = "pre", truncating: str = "pre",
        dtype: str = "int32") -> np.ndarray:
    """Pad (with 0) and truncate ``sequences`` into an array of shape ``(n, maxlen)``.

    A thin wrapper over ``keras.utils.pad_sequences`` with the same defaults as the
    tutorials: ``"pre"`` padding and ``"pre"`` truncation keep the *end* of a long review,
    where the verdict usually is.

    Args:
        sequences: list of id lists (or 1-D arrays).
        maxlen: output length; ``None`` pads to the longest sequence.
        padding: ``"pre"`` (default) or ``"post"``: where zeros are added.
        truncating: ``"pre"`` (default) or ``"post"``: where long sequences are cut.
        dtype: output dtype (default ``"int32"``).

    Example:
        >>> pad([[1, 2, 3], [4]], maxlen=2).tolist()
        [[2, 3], [0, 4]]
    """
    check_length_options(maxlen, padding, truncating)
    if isinstance(sequences, np.ndarray) and sequences.dtype != object:
        sequences = list(sequences)  # a 2-D id array: one row per sequence
    if not hasattr(sequences, "__len__"):
        sequences = list(sequences)
    if len(sequences) == 0:
        return np.zeros((0, maxlen or 0), dtype=dtype)
    from keras.utils import pad_sequences  # importing Keras takes seconds: only when needed

    return pad_sequences(sequences, maxlen=None if maxlen is None else int(maxlen),
                         dtype=dtype, padding=padding, truncating=truncating, value=0)
