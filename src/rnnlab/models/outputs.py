"""What a model's output layer means: the one place a sigmoid unit becomes two class columns (and a
regression's unit stays one column of numbers)."""

from __future__ import annotations

import numpy as np

__all__ = ["class_probabilities", "read_outputs"]


def class_probabilities(out) -> np.ndarray:
    """``(n, num_classes)`` float64 probabilities from a sigmoid unit's or a softmax layer's output.

    A binary model has one sigmoid unit (the probability of class 1); every consumer sees
    two columns, so binary and multi-class models are read the same way.
    """
    out = np.asarray(out, dtype="float64")
    if out.ndim == 1 or out.shape[1] == 1:
        p = out.reshape(-1)
        return np.stack([1.0 - p, p], axis=1)
    return out


def read_outputs(out, regression: bool = False) -> np.ndarray:
    """What every consumer reads of a model's output, in float64: class probabilities
    (`class_probabilities`), or for a regression ``(n, 1)`` predicted values."""
    if regression:
        return np.asarray(out, dtype="float64").reshape(-1, 1)
    return class_probabilities(out)
