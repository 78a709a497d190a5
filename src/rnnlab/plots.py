"""Figures written next to results (PNG, no display needed).

Figures are made as bare ``matplotlib.figure.Figure`` objects, never through pyplot's global
state: saving a bundle from a notebook must not switch the notebook's plotting backend or
leave figures open in it.
"""

from __future__ import annotations

from pathlib import Path

from rnnlab.files import atomic_path


def new_figure(**options):
    """A figure outside pyplot (``Figure(figsize=...)``); ``save_figure`` writes it."""
    from matplotlib.figure import Figure

    return Figure(**options)


def save_figure(fig, path: str | Path, dpi: int = 100) -> Path:
    """Write ``fig`` as a PNG, atomically."""
    path = Path(path)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")
    return path


def plot_training_curves(history: dict[str, list[float]], path: str | Path, title: str = "") -> Path:
    """Loss and accuracy (a regression: mean absolute error) per epoch, training and validation side by side."""
    fig = new_figure(figsize=(10, 4))
    axes = fig.subplots(1, 2)
    second = "mae" if "mae" in history and "accuracy" not in history else "accuracy"
    for ax, metric in zip(axes, ("loss", second)):
        for key, style in ((metric, "-o"), (f"val_{metric}", "--s")):
            if key in history:
                epochs = range(1, len(history[key]) + 1)
                ax.plot(epochs, history[key], style, label=key)
        ax.set_xlabel("epoch")
        ax.set_title(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_reliability(calibration: dict, path: str | Path, title: str = "") -> Path:
    """The reliability diagram of a ``calibration`` block (`rnnlab.training.metrics.scored_probabilities`):
    observed accuracy against mean confidence per bin, the probabilities as predicted and, when a
    temperature scaled them, as the model gave them; the diagonal is perfect calibration."""
    fig = new_figure(figsize=(5, 5))
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], ":", color="grey", label="perfectly calibrated")
    shown = [("reliability", f"predicted (ECE {calibration['ece']:.3f})", "-o")]
    if calibration.get("temperature") is not None and calibration.get("reliability_unscaled"):
        shown.insert(0, ("reliability_unscaled", f"before temperature scaling (ECE {calibration['ece_unscaled']:.3f})",
                         "--s"))
    for key, label, style in shown:
        rows = [row for row in calibration[key] if row["count"]]
        ax.plot([r["confidence"] for r in rows], [r["accuracy"] for r in rows], style, label=label)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (mean of the bin)")
    ax.set_ylabel("accuracy (share right in the bin)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_precision_recall(curves: dict, path: str | Path, title: str = "", most: int = 12) -> Path:
    """Precision against recall for each class (`rnnlab.training.metrics.precision_recall_curves`), its
    average precision in the legend; with more than ``most`` classes, the ``most`` of lowest average
    precision (where a threshold matters most)."""
    shown = sorted(((name, c) for name, c in curves.items() if c), key=lambda item: item[1]["average_precision"])
    shown = sorted(shown[:most], key=lambda item: -item[1]["average_precision"])
    fig = new_figure(figsize=(6, 5))
    ax = fig.subplots()
    for name, curve in shown:
        ax.plot(curve["recall"], curve["precision"], "-", label=f"{name} (AP {curve['average_precision']:.3f})")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision (best at this recall or above)")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize="small")
    if title:
        ax.set_title(title if len(shown) == len(curves) else f"{title} ({len(shown)} of {len(curves)}, lowest AP)")
    fig.tight_layout()
    return save_figure(fig, path)


def plot_token_scores(tokens: list[str], scores: list[float], path: str | Path, title: str = "",
                      method: str = "attention", width: int = 150) -> Path:
    """A review as text, each word shaded by its score (attention weight, or occlusion effect).

    Attention weights are shaded blue relative to the largest one; occlusion scores green
    (pushes towards the predicted class) or red (away from it), relative to the largest magnitude.
    """
    scale = max((abs(s) for s in scores), default=0.0) or 1.0
    lines: list[list[tuple[str, float]]] = [[]]
    used = 0
    for token, score in zip(tokens, scores):
        if used + len(token) + 1 > width and lines[-1]:
            lines.append([])
            used = 0
        lines[-1].append((token, score))
        used += len(token) + 1
    char_w, line_h = 1.0 / width, 0.32
    fig_h = 0.9 + line_h * len(lines)
    fig = new_figure(figsize=(13, fig_h))
    ax = fig.add_axes((0.01, 0.01, 0.98, 0.98 - (0.5 / fig_h if title else 0)))
    ax.set_xlim(0, 1)
    ax.set_ylim(len(lines), 0)
    ax.axis("off")
    for row, line in enumerate(lines):
        x = 0.0
        for token, score in line:
            strength = min(1.0, abs(score) / scale)
            if method == "attention":
                colour = (0.15, 0.39, 0.92, 0.85 * strength)
            else:
                colour = (0.13, 0.55, 0.13, 0.85 * strength) if score >= 0 else (0.86, 0.15, 0.15, 0.85 * strength)
            ax.text(x, row + 0.5, token, family="monospace", fontsize=10, va="center", ha="left",
                    bbox=dict(boxstyle="square,pad=0.1", facecolor=colour, edgecolor="none"))
            x += (len(token) + 1) * char_w
    if title:
        fig.suptitle(title, fontsize=11, x=0.01, ha="left")
    return save_figure(fig, path)
