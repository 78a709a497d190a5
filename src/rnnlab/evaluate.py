"""Test-set metrics that mean the same thing for binary and multi-class models."""

from __future__ import annotations

import numpy as np


def probabilities(model, x: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """Class probabilities (n, num_classes), whatever the output layer (sigmoid or softmax)."""
    out = np.asarray(model.predict(x, batch_size=batch_size, verbose=0), dtype="float64")
    if out.ndim == 1 or out.shape[1] == 1:
        p = out.reshape(-1)
        return np.stack([1.0 - p, p], axis=1)
    return out


def classification_metrics(y_true: np.ndarray, probs: np.ndarray, class_names=None) -> dict:
    """Accuracy, macro-F1, confusion matrix (rows = true class) and log loss."""
    from sklearn.metrics import confusion_matrix, f1_score, log_loss

    y_true = np.asarray(y_true).astype(int)
    k = probs.shape[1]
    y_pred = probs.argmax(axis=1)
    labels = list(range(k))
    return {
        "examples": int(len(y_true)),
        "accuracy": float((y_pred == y_true).mean()),
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "loss": float(log_loss(y_true, np.clip(probs, 1e-7, 1 - 1e-7), labels=labels)),
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "class_names": list(class_names) if class_names is not None else [str(i) for i in labels],
    }


def evaluate(model, x: np.ndarray, y: np.ndarray, class_names=None, batch_size: int = 512) -> dict:
    """Predict `x` in large batches and score it against `y`."""
    return classification_metrics(y, probabilities(model, x, batch_size), class_names)
