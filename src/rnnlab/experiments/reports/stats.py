"""How sure can we be that model B beats model A? Bootstrap intervals on a handful of runs.

With five runs per model a t-interval leans on normality we cannot check; the percentile
bootstrap makes no such assumption and, when both models ran on the same splits, resamples
the per-run differences, which removes the split-to-split variation the two share.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

CONFIDENCE = 0.95
RESAMPLES = 10_000


def bootstrap_mean_ci(values, *, confidence: float = CONFIDENCE, resamples: int = RESAMPLES,
                      seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of `values`.

    >>> bootstrap_mean_ci([0.02, 0.02, 0.02])
    (0.02, 0.02)
    """
    values = np.asarray(values, dtype="float64")
    if values.size == 0:
        raise ValueError("bootstrap_mean_ci needs at least one value.")
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, values.size, size=(resamples, values.size))].mean(axis=1)
    return _percentiles(means, confidence, values)


def bootstrap_difference_ci(left, right, *, paired: bool, confidence: float = CONFIDENCE,
                            resamples: int = RESAMPLES, seed: int = 0) -> tuple[float, float]:
    """Interval of mean(right) - mean(left): resampling pairs when `paired`, else each side alone."""
    left, right = np.asarray(left, dtype="float64"), np.asarray(right, dtype="float64")
    if paired:
        if left.shape != right.shape:
            raise ValueError(f"paired samples need equal sizes, got {left.size} and {right.size}.")
        return bootstrap_mean_ci(right - left, confidence=confidence, resamples=resamples, seed=seed)
    rng = np.random.default_rng(seed)
    diffs = (right[rng.integers(0, right.size, size=(resamples, right.size))].mean(axis=1)
             - left[rng.integers(0, left.size, size=(resamples, left.size))].mean(axis=1))
    return _percentiles(diffs, confidence)


def _percentiles(samples: np.ndarray, confidence: float, values: np.ndarray | None = None) -> tuple[float, float]:
    if values is not None and np.ptp(values) == 0:
        # Every resample is the same number; skip the rounding noise of averaging it.
        return float(values[0]), float(values[0])
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(samples, [tail, 100 - tail])
    return float(low), float(high)


@dataclass
class Comparison:
    """right minus left test accuracy over runs (accuracies as fractions).

    `wins` counts runs where right beat left (paired comparisons only); `verdict` is
    "right better", "left better", "not distinguishable" or "too few runs".
    """

    left: str
    right: str
    n_left: int
    n_right: int
    paired: bool
    mean_difference: float | None
    ci_low: float | None
    ci_high: float | None
    wins: int | None
    n_pairs: int | None
    verdict: str

    @property
    def distinguishable(self) -> bool:
        return self.verdict in ("right better", "left better")

    def to_dict(self) -> dict:
        return {**asdict(self), "distinguishable": self.distinguishable}

    def sentence(self) -> str:
        """The comparison in plain language, differences in percentage points."""
        if self.verdict == "too few runs":
            return (f"{self.right} vs {self.left}: too few finished runs to compare "
                    f"({self.n_right} and {self.n_left}).")
        span = f"{100 * self.mean_difference:+.2f} points (95% CI {100 * self.ci_low:+.2f} to {100 * self.ci_high:+.2f})"
        if self.verdict == "not distinguishable":
            return f"{self.right} vs {self.left}: {span}; the interval covers 0, so not distinguishable."
        better, worse = (self.right, self.left) if self.verdict == "right better" else (self.left, self.right)
        return f"{better} is better than {worse}: {self.right} minus {self.left} = {span}."


def compare(left: str, left_runs: dict[int, float], right: str, right_runs: dict[int, float], *,
            confidence: float = CONFIDENCE, resamples: int = RESAMPLES, seed: int = 0) -> Comparison:
    """Compare two models' test accuracies, given as {run index: accuracy}.

    The runs are paired by run index when both models have exactly the same run indices
    (run i of every model trained on the same split with the same data order); otherwise
    the two samples are resampled independently.
    """
    paired = bool(left_runs) and set(left_runs) == set(right_runs)
    n_left, n_right = len(left_runs), len(right_runs)
    if n_left < 2 or n_right < 2:
        return Comparison(left, right, n_left, n_right, paired, None, None, None, None, None, "too few runs")
    keys = sorted(left_runs) if paired else None
    a = np.array([left_runs[k] for k in keys] if paired else list(left_runs.values()))
    b = np.array([right_runs[k] for k in keys] if paired else list(right_runs.values()))
    low, high = bootstrap_difference_ci(a, b, paired=paired, confidence=confidence, resamples=resamples, seed=seed)
    mean = float(b.mean() - a.mean())
    wins = int((b > a).sum()) if paired else None
    return Comparison(left, right, n_left, n_right, paired, mean, low, high, wins, len(a) if paired else None,
                      verdict_for(low, high))


def verdict_for(low: float, high: float) -> str:
    """ "right better" when the interval of right - left is above 0, "left better" below, else not distinguishable."""
    if low > 0:
        return "right better"
    if high < 0:
        return "left better"
    return "not distinguishable"


def summarise(values) -> dict:
    """n, mean, std (n - 1), min and max of a list of numbers (None for an empty list)."""
    values = np.asarray(list(values), dtype="float64")
    if values.size == 0:
        return {"n": 0, "mean": None, "std": None, "min": None, "max": None}
    return {"n": int(values.size), "mean": float(values.mean()),
            "std": float(values.std(ddof=1)) if values.size > 1 else None,
            "min": float(values.min()), "max": float(values.max())}
