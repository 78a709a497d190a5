"""IMDB star ratings predicted as a number (a regression head) against the 8-class model's expected rating.

Both models are the fast GRU recipe (configs/imdb-fast.toml: masked max pooling, length buckets, Adam
with a cosine decay) with 10% of the training reviews kept for validation (the epoch with the best
validation loss for the regression, the best validation accuracy for the classes; the classes'
temperature is fitted there too). Same reviews, same split, same seed:

* ``regression``: ``dataset = "imdb-score"``: the rating (1-4, 7-10) as a number, mean squared error;
* ``huber``: the same with the Huber loss (``loss = "huber"``, delta 1 rating point);
* ``classes``: ``dataset = "imdb-ratings"``: the eight ratings as classes, softmax; its number is the
  expected rating (each rating weighted by its calibrated probability), and also the most probable
  rating.

Each is scored once on the 25,000 test reviews: MAE, RMSE, R^2 and Pearson's r of the numbers, and
the share of reviews put on the right side of 5.5 (positive or negative).

    .venv/bin/python benchmarks/ratings_regression.py [--out runs/ratings] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

RATINGS = np.asarray([1, 2, 3, 4, 7, 8, 9, 10], dtype=np.float64)


def recipe(dataset: str, limit: int | None, loss: str | None = None) -> dict:
    import tomllib

    config = tomllib.loads((Path(__file__).resolve().parents[1] / "configs" / "imdb-fast.toml").read_text())
    config["name"] = f"fast-gru-{dataset}" + (f"-{loss}" if loss else "")
    if loss:
        config["model"] = {**config["model"], "loss": loss}
    config["data"] = {**config["data"], "dataset": dataset, "validation_split": 0.1,
                      **({"limit": limit} if limit else {})}
    return config


def side(values: np.ndarray, truth: np.ndarray) -> float:
    """The share of reviews on the right side of 5.5 (IMDB's positive reviews are rated 7 or more)."""
    return float(((values > 5.5) == (truth > 5.5)).mean())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/ratings")
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    import rnnlab  # noqa: F401  (the Keras backend first)
    from rnnlab.experiments.recipes.recipe import run_recipe
    from rnnlab.inference import Bundle
    from rnnlab.encoding.prepare import load_splits
    from rnnlab.training.metrics import regression_metrics

    rows, started = {}, time.perf_counter()
    for name, dataset, loss in (("regression", "imdb-score", None), ("huber", "imdb-score", "huber"),
                                ("classes", "imdb-ratings", None)):
        t0 = time.perf_counter()
        results = run_recipe(recipe(dataset, args.limit, loss), Path(args.out) / name, verbose=0)
        rows[name] = {"seconds": round(time.perf_counter() - t0, 1), "train_seconds": results["train_seconds"],
                      "epochs_run": results["epochs_run"], "best_epoch": results.get("best_epoch"),
                      "params": results["params"], "test": results["test"]}
        print(f"{name}: {rows[name]['seconds']} s", flush=True)
    # Both bundles read the same raw test reviews, through the one predictor (as `rnnlab predict` does).
    _, test = load_splits("imdb-ratings", seed=0, limit=args.limit)
    truth = RATINGS[test.labels]
    probs = Bundle.load(Path(args.out) / "classes" / "bundle").predict_proba(test.texts)
    expected = probs @ RATINGS
    most_probable = RATINGS[probs.argmax(axis=1)]
    values = Bundle.load(Path(args.out) / "regression" / "bundle").predictor.predict_values(test.texts)
    huber = Bundle.load(Path(args.out) / "huber" / "bundle").predictor.predict_values(test.texts)
    table = {
        "regression head": {**regression_metrics(truth, values, "rating"), "right_side": side(values, truth)},
        "regression head, Huber loss": {**regression_metrics(truth, huber, "rating"), "right_side": side(huber, truth)},
        "8 classes, expected rating": {**regression_metrics(truth, expected, "rating"),
                                       "right_side": side(expected, truth)},
        "8 classes, most probable rating": {**regression_metrics(truth, most_probable, "rating"),
                                            "right_side": side(most_probable, truth),
                                            "accuracy_8_classes": rows["classes"]["test"]["accuracy"]},
    }
    report = {"runs": {k: {key: v for key, v in row.items() if key != "test"} for k, row in rows.items()},
              "table": table, "seconds": round(time.perf_counter() - started, 1), "load_average": os.getloadavg(),
              "command": "benchmarks/ratings_regression.py" + (f" --limit {args.limit}" if args.limit else "")}
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "ratings.json").write_text(json.dumps(report, indent=2))
    print("| model | MAE | RMSE | R^2 | Pearson r | right side of 5.5 | train s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, m in table.items():
        seconds = rows["huber" if "Huber" in name else "regression" if name.startswith("regression")
                       else "classes"]["train_seconds"]
        print(f"| {name} | {m['mae']:.3f} | {m['rmse']:.3f} | {m['r2']:.3f} | {m['pearson']:.3f} | "
              f"{100 * m['right_side']:.2f}% | {seconds} |")
    print(json.dumps({"load_average": report["load_average"]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
