"""Honest probabilities: temperature scaling (Guo et al., ICML 2017) and calibration error.

A network trained to a low loss is often over-confident: of the reviews it calls positive with
probability 0.95, fewer than 95% are. Dividing its log-odds by one number, the temperature, fitted
on validation rows by likelihood, fixes most of that and changes no decision: the most probable
class of a row stays the most probable, and a sigmoid's 0.5 stays at 0.5.

Probabilities are scaled after the fact, so any model's output can be: a softmax's
``p_k ∝ exp(log p_k / T)``, a sigmoid's ``logit(p) / T``; a model of several labels a row gets one
temperature per label.

Example:
    >>> y = np.array([1, 1, 1, 0]); p = np.array([[0.01, 0.99]] * 3 + [[0.99, 0.01]])
    >>> float(fit_temperature(y, p)) > 0
    True
"""

from __future__ import annotations

import math

import numpy as np

from rnnlab.errors import InvalidInputError

#: Bins of the expected calibration error (equal widths over [0, 1], as in Guo et al.).
ECE_BINS = 15
_EPS = 1e-12
_LOG_T = (-3.0, 3.0)  # temperatures from 0.05 to 20
#: a fitted temperature this close to the top of the search says the probabilities carry almost no information
FLAT_TEMPERATURE = 0.95 * math.exp(_LOG_T[1])


def scale(probs: np.ndarray, temperature, multi_label: bool = False) -> np.ndarray:
    """``probs`` (n, k) with their log-odds divided by ``temperature`` (a number; per label for label sets).

    ``None`` or 1 returns ``probs`` as they are.
    """
    if temperature is None:
        return probs
    probs = np.asarray(probs, dtype=np.float64)
    temperature = np.asarray(temperature, dtype=np.float64)
    if np.all(temperature == 1.0):
        return probs
    clipped = np.clip(probs, _EPS, 1.0 - _EPS)
    if multi_label:
        logits = np.log(clipped) - np.log1p(-clipped)
        return 1.0 / (1.0 + np.exp(-logits / temperature))
    logits = np.log(clipped) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    out = np.exp(logits)
    return out / out.sum(axis=1, keepdims=True)


def _nll(y: np.ndarray, probs: np.ndarray, multi_label: bool) -> float:
    clipped = np.clip(probs, _EPS, 1.0 - _EPS)
    if multi_label:
        return float(-(y * np.log(clipped) + (1 - y) * np.log1p(-clipped)).mean())
    return float(-np.log(clipped[np.arange(len(y)), y]).mean())


def fit_temperature(y, probs, multi_label: bool = False):
    """The temperature that maximises the likelihood of ``y`` under the scaled ``probs``.

    Args:
        y: class ids ``(n,)``, or 0/1 rows ``(n, k)`` for label sets.
        probs: the model's probabilities ``(n, k)`` on the same rows (validation rows, never test).
        multi_label: one temperature per label (label sets) instead of one for all classes.

    Returns:
        a float, or an array ``(k,)`` for label sets; searched between 0.05 and 20.
    """
    from scipy.optimize import minimize_scalar

    probs = np.asarray(probs, dtype=np.float64)
    y = np.asarray(y)
    if multi_label:
        return np.asarray([fit_temperature(y[:, j], np.stack([1 - probs[:, j], probs[:, j]], axis=1))
                           for j in range(probs.shape[1])])
    y = y.astype(int).reshape(-1)
    found = minimize_scalar(lambda log_t: _nll(y, scale(probs, np.exp(log_t)), False), bounds=_LOG_T,
                            method="bounded", options={"xatol": 1e-4})
    return float(np.exp(found.x))


def _confidence_and_hit(y, probs, multi_label: bool) -> tuple[np.ndarray, np.ndarray]:
    """What is binned: the top class's probability and whether it was right; for label sets every
    (row, label) pair's probability and whether the label is there."""
    probs = np.asarray(probs, dtype=np.float64)
    if multi_label:
        return probs.reshape(-1), np.asarray(y).astype(bool).reshape(-1)
    y = np.asarray(y).astype(int).reshape(-1)
    return probs.max(axis=1), probs.argmax(axis=1) == y


def reliability(y, probs, multi_label: bool = False, bins: int = ECE_BINS) -> list[dict]:
    """The reliability diagram's bins: ``lower``, ``upper``, ``count``, mean ``confidence`` and observed
    ``accuracy`` (the share of labels present, for label sets) of the rows whose confidence falls in each."""
    confidence, hit = _confidence_and_hit(y, probs, multi_label)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, confidence, side="right") - 1, 0, bins - 1)
    table = []
    for b in range(bins):
        inside = which == b
        count = int(inside.sum())
        table.append({"lower": round(float(edges[b]), 4), "upper": round(float(edges[b + 1]), 4), "count": count,
                      "confidence": round(float(confidence[inside].mean()), 6) if count else None,
                      "accuracy": round(float(hit[inside].mean()), 6) if count else None})
    return table


def calibration_error(y, probs, multi_label: bool = False, bins: int = ECE_BINS) -> float:
    """Expected calibration error: the count-weighted mean gap between confidence and accuracy over
    ``bins`` equal-width bins (0 is perfectly calibrated)."""
    return error_of(reliability(y, probs, multi_label, bins))


def error_of(table: list[dict]) -> float:
    """The expected calibration error of a `reliability` table."""
    total = sum(row["count"] for row in table)
    if not total:
        return 0.0
    return float(sum(row["count"] * abs(row["confidence"] - row["accuracy"]) for row in table if row["count"]) / total)


def temperature_of(metrics: dict, class_names):
    """The temperature a bundle's ``metrics.json`` (or a training result's notes) stores under
    ``calibration``: a float, an array in ``class_names`` order for label sets, or None (no scaling)."""
    found = (metrics.get("calibration") or {}).get("temperature")
    if found is None:
        return None
    if isinstance(found, dict):
        missing = [name for name in class_names if name not in found]
        values = [found.get(name) for name in class_names]
        if missing or not all(_positive(v) for v in values):
            raise InvalidInputError("metrics.json's calibration temperature must give every label a positive "
                                    f"number; missing or wrong: {missing or found}. Retrain the model, or delete "
                                    "the calibration entry to use unscaled probabilities.")
        return np.asarray(values, dtype=np.float64)
    if not _positive(found):
        raise InvalidInputError(f"metrics.json's calibration temperature must be a positive number, got {found!r}. "
                                "Retrain the model, or delete the calibration entry to use unscaled probabilities.")
    return float(found)


def _positive(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0
