"""Test-set metrics that mean the same thing for binary and multi-class models, and their counterparts for
several labels a row (label sets decided by a threshold per label, tuned on validation rows) and for a number
a row (regression)."""

from __future__ import annotations

import numpy as np

from rnnlab.training.calibration import error_of, reliability, scale
from rnnlab.training.forward import Forward


def probabilities(model, x: np.ndarray, *, spec=None, padding: str | None = None) -> np.ndarray:
    """Class probabilities (n, num_classes), whatever the output layer (sigmoid or softmax).

    Read through `rnnlab.training.forward.Forward`, the forward pass that prediction and
    serving use: with the model's ``spec`` and ``padding`` (the side id rows are padded on) a
    masked token model is read in length buckets; a stateful model reads each sequence
    chunk by chunk with its state carried.
    """
    return Forward(model, spec=spec, padding=padding)(x)


def decide(probs: np.ndarray, decision_threshold=None) -> np.ndarray:
    """Each row's class id: the most probable class, or for two classes with a ``decision_threshold``, the
    positive class (id 1) where its probability reaches the threshold."""
    probs = np.asarray(probs)
    if decision_threshold is not None and probs.shape[1] == 2:
        return (probs[:, 1] >= decision_threshold).astype(np.int64)
    return probs.argmax(axis=1)


def tune_decision_threshold(y_true: np.ndarray, probs: np.ndarray) -> float:
    """The positive class's threshold with the best macro-F1 on these rows (a 0.05 grid; ties: nearest 0.5)."""
    from sklearn.metrics import f1_score

    y_true = np.asarray(y_true).astype(int).reshape(-1)
    scores = np.array([f1_score(y_true, decide(probs, t), labels=[0, 1], average="macro", zero_division=0)
                       for t in THRESHOLD_GRID])
    best = np.flatnonzero(np.isclose(scores, scores.max()))
    return float(THRESHOLD_GRID[best[np.argmin(np.abs(THRESHOLD_GRID[best] - 0.5))]])


def classification_metrics(y_true: np.ndarray, probs: np.ndarray, class_names=None, decision_threshold=None) -> dict:
    """Accuracy, macro-F1, confusion matrix (rows = true class) and log loss; classes decided by `decide`.

    When there are more than two classes and every class name is a number (star ratings),
    `rating_mae` is the mean absolute difference between predicted and true values. Names
    that are just the class ids 0..k-1 (digits, integer-labelled tables) are categories, not
    ratings, and get none.
    """
    from sklearn.metrics import confusion_matrix, f1_score, log_loss, precision_recall_fscore_support

    y_true = np.asarray(y_true).astype(int)
    k = probs.shape[1]
    y_pred = decide(probs, decision_threshold)
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
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=labels, average=None,
                                                                     zero_division=0)
    metrics["per_class"] = {name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(n)}
                            for name, p, r, f, n in zip(metrics["class_names"], precision, recall, f1, support)}
    metrics["precision_recall"] = precision_recall_curves(np.eye(k, dtype=bool)[y_true], probs, metrics["class_names"])
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


#: Recall levels a precision-recall curve is stored at.
RECALL_LEVELS = np.round(np.linspace(0.0, 1.0, 51), 2)


def precision_recall_curves(y_true: np.ndarray, probs: np.ndarray, class_names) -> dict:
    """Each class's (or label's) precision-recall curve against the rest, from 0/1 rows ``y_true (n, k)``.

    For each name: the ``average_precision`` (scikit-learn's, the area under the stepwise curve) and the
    interpolated ``precision`` (the best precision at that recall or above) at the ``recall`` levels
    0, 0.02, ..., 1. A class with no row in ``y_true`` has no curve (None).
    """
    from sklearn.metrics import average_precision_score, precision_recall_curve

    y_true = np.asarray(y_true).astype(bool)
    probs = np.asarray(probs, dtype="float64")
    curves = {}
    for j, name in enumerate(class_names):
        truth = y_true[:, j]
        if not truth.any():
            curves[name] = None
            continue
        precision, recall, _ = precision_recall_curve(truth, probs[:, j])
        best = np.maximum.accumulate(precision[np.argsort(recall)][::-1])[::-1]  # best precision at recall >= r
        at = np.searchsorted(np.sort(recall), RECALL_LEVELS, side="left")
        curves[name] = {"average_precision": round(float(average_precision_score(truth, probs[:, j])), 6),
                        "recall": RECALL_LEVELS.tolist(),
                        "precision": [round(float(best[min(i, len(best) - 1)]), 6) for i in at]}
    return curves


# Candidate thresholds of a label: the one with the best F1 on the validation rows wins.
THRESHOLD_GRID = np.round(np.arange(0.05, 0.96, 0.05), 2)


def tune_thresholds(y_true: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """One threshold per label: the grid value with the best F1 on these rows (ties: nearest 0.5).

    A label absent from the rows keeps 0.5: no threshold can be chosen for it.

    Example:
        >>> y = np.array([[1, 0], [0, 1], [1, 0]])
        >>> tune_thresholds(y, np.array([[0.3, 0.1], [0.2, 0.7], [0.4, 0.2]])).tolist()
        [0.3, 0.5]
    """
    y_true = np.asarray(y_true) > 0
    probs = np.asarray(probs, dtype="float64")
    grid = THRESHOLD_GRID
    chosen = np.full(y_true.shape[1], 0.5)
    predicted = probs[:, :, None] >= grid[None, None, :]  # (n, k, thresholds)
    hits = (predicted & y_true[:, :, None]).sum(axis=0)
    f1 = 2 * hits / np.maximum(predicted.sum(axis=0) + y_true.sum(axis=0)[:, None], 1)
    for label in np.flatnonzero(y_true.any(axis=0)):
        best = np.flatnonzero(np.isclose(f1[label], f1[label].max()))
        chosen[label] = grid[best[np.argmin(np.abs(grid[best] - 0.5))]]
    return chosen


def label_sets(probs: np.ndarray, thresholds) -> np.ndarray:
    """Which labels each row holds: ``probs >= threshold`` per label, and the most probable label
    where none reaches its threshold (every text gets at least one label)."""
    probs = np.asarray(probs)
    chosen = probs >= np.asarray(thresholds)[None, :]
    empty = ~chosen.any(axis=1)
    chosen[np.flatnonzero(empty), probs[empty].argmax(axis=1)] = True
    return chosen


def headline_score(y_true: np.ndarray, probs: np.ndarray, thresholds=None) -> float:
    """What models of these labels are compared by: the accuracy of the most probable class, or for label
    sets (2-D ``y_true``) the macro-F1 of the label sets at ``thresholds`` (0.5 each by default); the same
    figures as `classification_metrics`' and `multilabel_metrics`', without their tables and curves."""
    from sklearn.metrics import f1_score

    probs = np.asarray(probs)
    if np.ndim(y_true) == 2:
        thresholds = np.full(probs.shape[1], 0.5) if thresholds is None else thresholds
        return float(f1_score(np.asarray(y_true) > 0, label_sets(probs, thresholds), average="macro",
                              zero_division=0))
    return float((probs.argmax(axis=1) == np.asarray(y_true)).mean())


def multilabel_metrics(y_true: np.ndarray, probs: np.ndarray, class_names=None, thresholds=None) -> dict:
    """Macro- and micro-F1, per-label precision/recall/F1, subset accuracy, Hamming loss and log loss of
    label sets; ``accuracy`` is the subset accuracy (every label of the row right)."""
    from sklearn.metrics import precision_recall_fscore_support

    y_true = np.asarray(y_true) > 0
    probs = np.asarray(probs, dtype="float64")
    k = probs.shape[1]
    names = list(class_names) if class_names is not None else [str(i) for i in range(k)]
    thresholds = np.full(k, 0.5) if thresholds is None else np.asarray(thresholds, dtype="float64")
    predicted = label_sets(probs, thresholds)
    precision, recall, f1, support = precision_recall_fscore_support(y_true, predicted, average=None, zero_division=0)
    micro = precision_recall_fscore_support(y_true, predicted, average="micro", zero_division=0)
    clipped = np.clip(probs, 1e-7, 1 - 1e-7)
    subset = float((predicted == y_true).all(axis=1).mean())
    return {
        "examples": int(len(y_true)),
        "multi_label": True,
        "accuracy": subset,
        "subset_accuracy": subset,
        "macro_f1": float(f1.mean()),
        "micro_f1": float(micro[2]),
        "micro_precision": float(micro[0]),
        "micro_recall": float(micro[1]),
        "hamming_loss": float((predicted != y_true).mean()),
        "loss": float(-(y_true * np.log(clipped) + (~y_true) * np.log(1 - clipped)).sum(axis=1).mean()),
        "per_label": {name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(n),
                             "threshold": float(t)}
                      for name, p, r, f, n, t in zip(names, precision, recall, f1, support, thresholds)},
        "precision_recall": precision_recall_curves(y_true, probs, names),
        "class_names": names,
    }


def regression_metrics(y_true: np.ndarray, values: np.ndarray, target: str | None = None) -> dict:
    """Mean absolute error, root mean squared error, R^2 (1 - squared error / the test values' variance) and
    Pearson's correlation of predicted ``values`` against numbers ``y_true``; ``loss`` is the mean squared error.

    Example:
        >>> m = regression_metrics(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0]))
        >>> round(m["mae"], 3), round(m["r2"], 3)
        (0.333, 0.5)
    """
    y_true = np.asarray(y_true, dtype="float64").reshape(-1)
    values = np.asarray(values, dtype="float64").reshape(-1)
    error = values - y_true
    spread = float(((y_true - y_true.mean()) ** 2).sum())
    correlation = np.corrcoef(y_true, values)[0, 1] if len(y_true) > 1 and values.std() > 0 and y_true.std() > 0 \
        else float("nan")
    return {
        "examples": int(len(y_true)),
        "regression": True,
        "target": target,
        "mae": float(np.abs(error).mean()),
        "rmse": float(np.sqrt((error ** 2).mean())),
        "r2": float(1.0 - (error ** 2).sum() / spread) if spread > 0 else None,
        "pearson": None if np.isnan(correlation) else float(correlation),
        "loss": float((error ** 2).mean()),
        "mean_value": float(values.mean()),
        "mean_target": float(y_true.mean()),
    }


def is_numeric_target(y) -> bool:
    """Whether labels ``y`` are numbers to predict (float), not class ids or label sets."""
    return np.asarray(y).dtype.kind == "f"


def evaluate(model, x: np.ndarray, y: np.ndarray, class_names=None, *, spec=None, padding: str | None = None,
             thresholds=None, temperature=None, decision_threshold=None) -> dict:
    """Score `model` on `x` against `y` (`probabilities` reads it; ``spec`` and ``padding`` as there), its
    probabilities scaled by ``temperature`` (`rnnlab.training.calibration`); label sets (``y`` of shape
    ``(n, k)``) are scored with ``thresholds`` (default 0.5 each), two classes with ``decision_threshold``."""
    return scored_probabilities(y, probabilities(model, x, spec=spec, padding=padding), class_names,
                                thresholds=thresholds, temperature=temperature, decision_threshold=decision_threshold)


def scored_probabilities(y: np.ndarray, raw: np.ndarray, class_names=None, *, thresholds=None,
                         temperature=None, decision_threshold=None) -> dict:
    """The metrics of a model's probabilities ``raw`` on rows labelled ``y``, after scaling by ``temperature``;
    with a calibration block: the expected calibration error before and after, and the reliability bins.
    Numbers to predict (float ``y``, ``raw`` the values ``(n, 1)``) get `regression_metrics` instead."""
    if is_numeric_target(y):
        return regression_metrics(y, raw, class_names[0] if class_names else None)
    multi = np.ndim(y) == 2
    probs = scale(raw, temperature, multi)
    metrics = multilabel_metrics(y, probs, class_names, thresholds) if multi else classification_metrics(
        y, probs, class_names, decision_threshold)
    if decision_threshold is not None and not multi:
        metrics["decision_threshold"] = float(decision_threshold)
    table = reliability(y, probs, multi)
    unscaled = table if temperature is None else reliability(y, raw, multi)
    metrics["calibration"] = {"temperature": None if temperature is None else np.round(temperature, 6).tolist(),
                              "ece": round(error_of(table), 6), "ece_unscaled": round(error_of(unscaled), 6),
                              "reliability": table}
    if temperature is not None:
        metrics["calibration"]["reliability_unscaled"] = unscaled
    return metrics
