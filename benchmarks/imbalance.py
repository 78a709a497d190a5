"""Skewed classes: IMDB with 1 positive review in 10, with and without balanced class weights and a
decision threshold tuned on validation.

The training set is 5,000 negative and 500 positive IMDB training reviews, the test set 5,000
negative and 500 positive test reviews (seeded draws). Every run trains `train auto`'s BiGRU
(settings from the data, no virtual adversarial training) on the same split with the same seed:
without and with ``class_weight = "balanced"`` (each positive review weighs 5.5, each negative
0.55), each deciding by the more probable class and by ``decision_threshold = "tune"`` (the
positive class's threshold with the best macro-F1 on the validation rows). Each is scored once
on the same test reviews: macro-F1, the positive class's precision/recall/F1 and accuracy (which
a model that says "negative" to everything already puts at 90.9%).

    .venv/bin/python benchmarks/imbalance.py
"""

from __future__ import annotations

import json
import os
import time

import numpy as np


def skewed(dataset, negatives: int, positives: int, seed: int):
    rng = np.random.default_rng(seed)
    rows = np.concatenate([rng.choice(np.flatnonzero(dataset.labels == 0), negatives, replace=False),
                           rng.choice(np.flatnonzero(dataset.labels == 1), positives, replace=False)])
    return dataset.subset(rng.permutation(rows))


def main() -> int:
    import rnnlab  # noqa: F401  (the Keras backend first)
    from rnnlab.data import load_imdb
    from rnnlab.encoding.prepare import prepare
    from rnnlab.experiments.recipes import auto
    from rnnlab.training.engine import fit

    train = skewed(load_imdb("train"), 5_000, 500, seed=0)
    test = skewed(load_imdb("test"), 5_000, 500, seed=1)
    settings = auto.choose_settings(train)
    data = prepare(train, test, vocab_size=settings["vocab_size"], maxlen=settings["maxlen"],
                   validation_split=auto.VALIDATION_SPLIT, seed=0)
    rows = []
    for weighting, decision in ((None, None), (None, "tune"), ("balanced", None), ("balanced", "tune")):
        config = auto.auto_config(dict(settings), seed=0).replace(virtual_adversarial=0.0, class_weight=weighting,
                                                                  decision_threshold=decision)
        started = time.perf_counter()
        result = fit(auto.auto_spec(settings), data, config, verbose=0)
        seconds = time.perf_counter() - started
        positive = result.test["per_class"][result.class_names[1]]
        rows.append({"class_weight": weighting, "decision_threshold": result.decision_threshold,
                     "macro_f1": round(result.test["macro_f1"], 4), "accuracy": round(result.test["accuracy"], 4),
                     "positive_precision": round(positive["precision"], 4),
                     "positive_recall": round(positive["recall"], 4), "positive_f1": round(positive["f1"], 4),
                     "epochs": len(result.history["loss"]), "seconds": round(seconds, 1),
                     "load_average": [round(x, 2) for x in os.getloadavg()]})
        print(json.dumps(rows[-1]), flush=True)
    print("| class_weight | decision | test macro-F1 | accuracy | positive precision | recall | F1 | epochs | seconds |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        decision = "more probable" if row["decision_threshold"] is None else f"tuned: {row['decision_threshold']:g}"
        print(f"| {row['class_weight'] or 'none'} | {decision} | {row['macro_f1']:.4f} | {100 * row['accuracy']:.2f}% "
              f"| {row['positive_precision']:.3f} | {row['positive_recall']:.3f} | {row['positive_f1']:.3f} "
              f"| {row['epochs']} | {row['seconds']:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
