"""How long are the texts? Numbers and a histogram to choose ``maxlen``."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from rnnlab.errors import InvalidInputError
from rnnlab.files import atomic_path

PERCENTILES = (50, 75, 90, 95, 99)


def _as_lengths(lengths) -> np.ndarray:
    try:
        array = np.asarray(lengths if hasattr(lengths, "__len__") else list(lengths), dtype=float)
    except (TypeError, ValueError):
        raise InvalidInputError("lengths must be a list of non-negative numbers.") from None
    if array.ndim != 1 or array.size == 0:
        raise InvalidInputError(f"lengths must be a non-empty 1-D list, got shape {array.shape}.")
    if not np.isfinite(array).all() or (array < 0).any():
        raise InvalidInputError("lengths must be finite and non-negative.")
    return array


def length_stats(lengths, maxlen: int | None = None) -> dict:
    """Summary of sequence lengths, and how a ``maxlen`` would cut them.

    Returns a JSON-ready dict: ``count``, ``mean``, ``min``, ``max``, the percentiles
    ``p50`` ``p75`` ``p90`` ``p95`` ``p99`` (linear interpolation), ``maxlen``,
    ``coverage`` (fraction of sequences with length <= maxlen) and ``truncated`` (the
    fraction longer; both None without ``maxlen``), and ``suggested_maxlen``: p90
    rounded up to a multiple of 10 (at least 10), which keeps 90% of texts whole.

    Example:
        >>> length_stats([10, 20, 30, 40, 100], maxlen=35)["coverage"]
        0.6
    """
    array = _as_lengths(lengths)
    stats: dict = {
        "count": int(array.size),
        "mean": float(array.mean()),
        "min": _number(array.min()),
        "max": _number(array.max()),
    }
    for q, value in zip(PERCENTILES, np.percentile(array, PERCENTILES)):
        stats[f"p{q}"] = float(value)
    stats["maxlen"] = maxlen
    stats["coverage"] = None if maxlen is None else float((array <= maxlen).mean())
    stats["truncated"] = None if maxlen is None else float((array > maxlen).mean())
    stats["suggested_maxlen"] = max(10, int(math.ceil(stats["p90"] / 10.0)) * 10)
    return stats


def _number(value) -> int | float:
    value = float(value)
    return int(value) if value.is_integer() else value


def plot_length_histogram(lengths, path, maxlen: int | None = None, title: str | None = None) -> Path:
    """Save a histogram of ``lengths`` (PNG, or the format of ``path``'s suffix).

    A dashed vertical line marks ``maxlen`` with the share of texts it keeps whole.
    Written atomically; returns the path.
    """
    array = _as_lengths(lengths)
    # The object API with an Agg canvas: no pyplot global state, safe in servers and threads.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    path = Path(path)
    fig = Figure(figsize=(7, 4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    bins = min(80, max(10, int(np.sqrt(array.size))))
    ax.hist(array, bins=bins, color="#4C72B0", alpha=0.85)
    if maxlen is not None:
        coverage = float((array <= maxlen).mean())
        ax.axvline(maxlen, color="#C44E52", linestyle="--", linewidth=1.5,
                   label=f"maxlen = {maxlen} ({coverage:.0%} of texts whole)")
        ax.legend(loc="upper right")
    ax.set_xlabel("tokens per text")
    ax.set_ylabel("texts")
    ax.set_title(title or f"Text lengths (n = {array.size:,}, median {np.median(array):.0f})")
    fig.tight_layout()
    fmt = path.suffix.lstrip(".").lower() or "png"
    with atomic_path(path, suffix=f".{fmt}") as tmp:
        fig.savefig(tmp, format=fmt)
    return path
