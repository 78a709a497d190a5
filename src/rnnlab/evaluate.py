"""Test-set metrics that mean the same thing for binary and multi-class models."""

from __future__ import annotations

import numpy as np


def probabilities(model, x: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """Class probabilities (n, num_classes), whatever the output layer (sigmoid or softmax).

    A stateful model reads each sequence chunk by chunk with its state carried (its own
    fixed batch size then replaces `batch_size`).
    """
    from rnnlab.stateful import is_stateful, predict_stateful

    if is_stateful(model):
        out = np.asarray(predict_stateful(model, x), dtype="float64")
    else:
        out = np.asarray(model.predict(x, batch_size=batch_size, verbose=0), dtype="float64")
    if out.ndim == 1 or out.shape[1] == 1:
        p = out.reshape(-1)
        return np.stack([1.0 - p, p], axis=1)
    return out


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


def evaluate(model, x: np.ndarray, y: np.ndarray, class_names=None, batch_size: int = 512) -> dict:
    """Predict `x` in large batches and score it against `y`."""
    return classification_metrics(y, probabilities(model, x, batch_size), class_names)
