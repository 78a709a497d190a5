"""The report's figures: difference heat maps, accuracy box plots, mean training curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rnnlab.plots import new_figure, save_figure


def _save(fig, path: Path) -> Path:
    return save_figure(fig, path, dpi=110)


def plot_difference_heatmaps(answers, path: str | Path) -> Path:
    """One panel per question: cells are pairs, coloured by mean difference (green: right better)."""
    path = Path(path)
    diffs = [100 * c.mean_difference for a in answers for _, c in a.usable]
    limit = max([abs(d) for d in diffs] + [0.5])
    fig = new_figure(figsize=(4.6 * len(answers), 4.2))
    axes = fig.subplots(1, len(answers), squeeze=False)
    image = None
    for ax, answer in zip(axes[0], answers):
        q = answer.question
        rows = list(dict.fromkeys(p.row for p in q.pairs))
        columns = list(dict.fromkeys(p.column for p in q.pairs))
        grid = np.full((len(rows), len(columns)), np.nan)
        found = {(p.row, p.column): c for p, c in answer.comparisons}
        for (i, row), (j, column) in ((ri, cj) for ri in enumerate(rows) for cj in enumerate(columns)):
            c = found.get((row, column))
            if c is not None and c.mean_difference is not None:
                grid[i, j] = 100 * c.mean_difference
        image = ax.imshow(np.ma.masked_invalid(grid), cmap="RdYlGn", vmin=-limit, vmax=limit, aspect="auto")
        ax.set_facecolor("#dddddd")
        for i, row in enumerate(rows):
            for j, column in enumerate(columns):
                c = found.get((row, column))
                if c is None:
                    text = "not in the experiment"
                elif c.mean_difference is None:
                    text = "too few runs"
                else:
                    mark = "" if c.distinguishable else "\n(not distinguishable)"
                    text = (f"{100 * c.mean_difference:+.2f}\n[{100 * c.ci_low:+.2f}, {100 * c.ci_high:+.2f}]"
                            f"{mark}")
                ax.text(j, i, text, ha="center", va="center", fontsize=8)
        ax.set_xticks(range(len(columns)), columns)
        ax.set_yticks(range(len(rows)), rows)
        ax.set_title(f"{q.key}: {q.right_label} minus {q.left_label}", fontsize=10)
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8, label="test accuracy difference (points)")
    fig.suptitle("Mean difference [95% bootstrap interval], percentage points", fontsize=10)
    return _save(fig, path)


def plot_accuracy_boxes(accuracies: dict[str, dict[int, float]], path: str | Path,
                        baseline: float | None = None) -> Path:
    """Test accuracy per model over runs: a box, plus every run as a dot."""
    path = Path(path)
    names = list(accuracies)
    fig = new_figure(figsize=(max(6.0, 0.75 * len(names) + 2), 4.8))
    ax = fig.subplots()
    data = [[100 * v for v in accuracies[n].values()] for n in names]
    ax.boxplot([d if d else [np.nan] for d in data], widths=0.5)
    ax.set_xticks(range(1, len(names) + 1), names)
    rng = np.random.default_rng(0)
    for i, values in enumerate(data, start=1):
        ax.plot(i + rng.uniform(-0.08, 0.08, len(values)), values, "o", alpha=0.6, markersize=4)
    if baseline is not None:
        ax.axhline(100 * baseline, linestyle="--", color="grey", label="TF-IDF + logistic regression")
        ax.legend(loc="lower right", fontsize=8)
    ax.set_ylabel("test accuracy (%)")
    ax.grid(axis="y", alpha=0.3)
    ax.tick_params(axis="x", labelrotation=40, labelsize=8)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    fig.tight_layout()
    return _save(fig, path)


def plot_mean_curves(histories: dict[str, list[dict]], path: str | Path, metric: str = "val_accuracy") -> Path:
    """Mean of `metric` per epoch over each model's runs (falls back to training accuracy)."""
    path = Path(path)
    from matplotlib import colormaps

    fig = new_figure(figsize=(8, 4.8))
    ax = fig.subplots()
    colours = colormaps["tab20"]
    for k, (name, runs) in enumerate(histories.items()):
        curves = [h.get(metric) or h.get("accuracy") or [] for h in runs]
        curves = [c for c in curves if c]
        if not curves:
            continue
        length = min(len(c) for c in curves)
        mean = 100 * np.mean([c[:length] for c in curves], axis=0)
        style = "--" if "GRU" in name.upper() else "-"
        ax.plot(range(1, length + 1), mean, style, marker="o", markersize=3, color=colours(k % 20), label=name)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"mean {metric.replace('_', ' ')} (%)")
    ax.grid(alpha=0.3)
    if ax.lines:
        ax.legend(fontsize=7, ncol=2, loc="lower right")
    else:
        ax.text(0.5, 0.5, "no per-epoch history yet", ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout()
    return _save(fig, path)
