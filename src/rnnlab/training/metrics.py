"""Test-set metrics that mean the same thing for binary and multi-class models."""

from __future__ import annotations

import numpy as np

from rnnlab.training.forward import Forward


def probabilities(model, x: np.ndarray, *, spec=None, padding: str | None = None) -> np.ndarray:
    """Class probabilities (n, num_classes), whatever the output layer (sigmoid or softmax).

    Read through `rnnlab.training.forward.Forward`, the forward pass that prediction and
    serving use: with the model's ``spec`` and ``padding`` (the side id rows are padded on) a
    masked token model is read in length buckets; a stateful model reads each sequence
    chunk by chunk with its state carried.
    """
    return Forward(model, spec=spec, padding=padding)(x)


def classification_metrics(y_true: np.ndarray, probs: np.ndarray, class_names=None) -> dict:
    """Accuracy, macro-F1, confusion matrix (rows = true class) and log loss.

    When there are more than two classes and every class name is a number (star ratings),
    `rating_mae` is the mean absolute difference between predicted and true values. Names
    that are just the class ids 0..k-1 (digits, integer-labelled tables) are categories, not
    ratings, and get none.
    """
    from sklearn.metrics import confusion_matrix, f1_score, log_loss

    y_true = np.asarray(y_true).astype(int)
    k = probs.shape[1]
    y_pred = probs.argmax(axis=1)
    labels = list(range(k))
    # float32 softmax outputs are off 1 by ~1e-7 after clipping; sklearn warns unless they sum to 1.
    clipped = np.clip(probs, 1e-7, 1 - 1e-7)
    clipped = clipped / clipped.sum(axis=1, keepdims=True)
    metrics = {
        "examples": int(len(y_true)),
        "accuracy": float((y_pred == y_true).mean()),
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "loss": float(log_loss(y_true, clipped, labels=labels)),
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "class_names": list(class_names) if class_names is not None else [str(i) for i in labels],
    }
    values = _numeric_names(class_names)
    if values is not None and k > 2 and not np.array_equal(values, np.arange(k)):
        metrics["rating_mae"] = float(np.abs(values[y_pred] - values[y_true]).mean())
    return metrics


def _numeric_names(class_names) -> np.ndarray | None:
    """Class names as numbers (e.g. "1".."10" star ratings), or None if any is not a number."""
    if class_names is None:
        return None
    try:
        return np.asarray([float(name) for name in class_names])
    except (TypeError, ValueError):
        return None


def evaluate(model, x: np.ndarray, y: np.ndarray, class_names=None, *, spec=None, padding: str | None = None) -> dict:
    """Score `model` on `x` against `y` (`probabilities` reads it; ``spec`` and ``padding`` as there)."""
    return classification_metrics(y, probabilities(model, x, spec=spec, padding=padding), class_names)
