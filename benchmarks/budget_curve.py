"""The budget curve: IMDB test accuracy against wall seconds, every budget recipe beside the references.

    python benchmarks/budget_curve.py runs/budget-1min runs/budget-5min runs/budget-20min runs/budget-60min \\
        --stack runs/imdb-stack --out docs/results/budgets

Each RUN folder is an ``rnnlab experiment run CONFIG --out RUN`` of a budget config; its wall
time is read from ``RUN/wall.txt`` (``/usr/bin/time -f %e`` of that command, written by the
caller) or else the run's own ``total_seconds``. Every bundle is also scored zero-shot on the
1,000 Amazon reviews (trained on IMDB only). The references are read from the committed
results: the textbook models (`docs/results/textbook-runs`), the linear baselines and the best
CPU recipe (`docs/results/accuracy`) and the fast recipe (`benchmarks/results`).
Writes ``OUT.png`` and ``OUT.json`` and prints the markdown table.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "results"


def references() -> list[dict]:
    """(name, seconds, test accuracy, what the seconds are) of the committed reference results."""
    found = []
    textbook = json.loads((RESULTS / "textbook-runs" / "results.json").read_text())
    for model in textbook["models"]:
        accuracy = model["accuracy"]
        mean = accuracy["mean"] if isinstance(accuracy, dict) else accuracy
        found.append({"name": f"textbook {model['model']}", "seconds": model["train_seconds_mean"],
                      "test_accuracy": mean / 100 if mean > 1 else mean, "group": "textbook",
                      "seconds_are": "training only, mean of 3 runs"})
    for name, label in (("baseline-nbsvm", "NBSVM 1-2 grams (grid of 10)"),
                        ("baseline-tfidf-lr", "TF-IDF + LR 1-3 grams (grid of 12)")):
        item = json.loads((RESULTS / "accuracy" / f"{name}.json").read_text())
        found.append({"name": label, "seconds": item["seconds"], "test_accuracy": item["test_accuracy"],
                      "group": "linear", "seconds_are": "whole command incl. grid search"})
    best = json.loads((RESULTS / "accuracy" / "imdb-best-cpu.json").read_text())
    found.append({"name": "imdb-best-cpu (3 x BiGRU)", "seconds": best["total_seconds"],
                  "test_accuracy": best["test_accuracy"], "group": "recurrent", "seconds_are": "from the raw archive"})
    bench = sorted(p for p in (ROOT / "benchmarks" / "results").glob("20*.json") if "quick" not in p.name)
    for path in reversed(bench):
        sides = json.loads(path.read_text()).get("benchmarks", {}).get("time_to_accuracy", {}).get("sides", {})
        cold = sides.get("rnnlab, cold")
        if cold:
            found.append({"name": "imdb-fast (1 GRU)", "seconds": cold["total_seconds"]["median"],
                          "test_accuracy": cold["best_accuracy"]["median"], "group": "recurrent",
                          "seconds_are": f"from the raw archive ({path.name})"})
            break
    return found


def amazon_accuracy(bundle: Path) -> float:
    import numpy as np

    from rnnlab.data.amazon import load_amazon
    from rnnlab.inference import Bundle

    reviews = load_amazon()
    loaded = Bundle.load(bundle)
    assert tuple(reviews.class_names) == tuple(loaded.class_names), (reviews.class_names, loaded.class_names)
    return float((loaded.predict_proba(reviews.texts).argmax(axis=1) == np.asarray(reviews.labels)).mean())


def budget_row(run: Path) -> dict:
    results = json.loads((run / "results.json").read_text())
    wall = float((run / "wall.txt").read_text().split()[0]) if (run / "wall.txt").exists() else results["total_seconds"]
    accuracy = results["test_accuracy"]
    return {"name": results["name"], "run": str(run), "seconds": wall, "test_accuracy": accuracy,
            "standard_error": math.sqrt(accuracy * (1 - accuracy) / results["test_examples"]),
            "validation_accuracy": results["validation_accuracy"], "params": results["params"],
            "members": [{k: m.get(k) for k in ("name", "kind", "weight", "params", "validation_accuracy",
                                                "test_accuracy", "seconds")} for m in results["members"]],
            "amazon_zero_shot": amazon_accuracy(run / "bundle"), "group": "budget",
            "load": (run / "load.txt").read_text().strip() if (run / "load.txt").exists() else None}


def plot(rows: list[dict], refs: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8.5, 5), dpi=120)
    styles = {"textbook": ("tab:red", "s"), "linear": ("tab:gray", "D"), "recurrent": ("tab:orange", "^")}
    for group, (colour, marker) in styles.items():
        points = [r for r in refs if r["group"] == group]
        ax.scatter([r["seconds"] for r in points], [100 * r["test_accuracy"] for r in points], color=colour,
                   marker=marker, label={"textbook": "textbook models (training time)", "linear": "linear baselines",
                                         "recurrent": "earlier rnnlab recipes"}[group], zorder=3)
        for r in points:
            ax.annotate(r["name"], (r["seconds"], 100 * r["test_accuracy"]), fontsize=6.5, xytext=(4, -8),
                        textcoords="offset points", color=colour)
    rows = sorted(rows, key=lambda r: r["seconds"])
    budgets = [r for r in rows if r["group"] == "budget"]
    ax.errorbar([r["seconds"] for r in budgets], [100 * r["test_accuracy"] for r in budgets],
                yerr=[200 * r["standard_error"] for r in budgets], color="tab:blue", marker="o", capsize=3,
                label="budget recipes (bars: 2 standard errors)", zorder=4)
    for r in rows:
        label = r["name"] + (" (recurrent only)" if r["name"] == "budget-60min" else "")
        label += " (incl. the runs it reuses)" if r["group"] == "stack" else ""
        ax.annotate(label, (r["seconds"], 100 * r["test_accuracy"]), fontsize=7.5, xytext=(5, 5),
                    textcoords="offset points", color="tab:blue" if r["group"] == "budget" else "tab:purple")
    stacks = [r for r in rows if r["group"] == "stack"]
    ax.scatter([r["seconds"] for r in stacks], [100 * r["test_accuracy"] for r in stacks], color="tab:purple",
               marker="*", s=120, label="imdb-stack (blend of trained bundles)", zorder=4)
    for seconds in (60, 300, 1200, 3600):
        ax.axvline(seconds, color="tab:blue", linestyle=":", alpha=0.3)
    ax.set_xscale("log")
    ax.set_xlabel("wall seconds on a 2-core CPU, raw archive to saved model (log scale)")
    ax.set_ylabel("IMDB test accuracy (%), 25,000 reviews")
    ax.set_title("Best IMDB model per time budget (dotted: 1, 5, 20, 60 minutes)", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7.5, loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--stack", type=Path, action="append", default=[])
    parser.add_argument("--out", type=Path, default=RESULTS / "budgets")
    args = parser.parse_args()
    rows = [budget_row(run) for run in args.runs]
    for run in args.stack:
        row = budget_row(run)
        # A stack of earlier bundles costs its own run plus the runs that trained them.
        config = json.loads((run / "results.json").read_text())["config"]
        sources = sorted({Path(m["bundle"].split("/bundle/")[0]) for m in config["members"] if "bundle" in m})
        row["own_seconds"] = row["seconds"]
        row["seconds"] += sum(float((source / "wall.txt").read_text().split()[0]) for source in sources
                              if (source / "wall.txt").exists())
        rows.append({**row, "group": "stack", "sources": [str(x) for x in sources]})
    refs = references()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    plot(rows, refs, args.out.with_suffix(".png"))
    args.out.with_suffix(".json").write_text(json.dumps({"budgets": rows, "references": refs}, indent=1) + "\n")
    print("| budget config | members | params | wall | validation | test (± SE) | Amazon zero-shot | load |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for r in rows:
        members = ", ".join(f"{m['name']} ({m['weight']:.2f})" for m in r["members"])
        wall = f"{r['seconds']:.0f} s" + (f" ({r['own_seconds']:.0f} s own)" if "own_seconds" in r else "")
        print(f"| `{r['name']}` | {members} | {r['params']:,} | {wall} | "
              f"{100 * r['validation_accuracy']:.2f}% | **{100 * r['test_accuracy']:.2f}%** "
              f"± {100 * r['standard_error']:.2f} | {100 * r['amazon_zero_shot']:.1f}% | {r['load'] or '-'} |")


if __name__ == "__main__":
    main()
