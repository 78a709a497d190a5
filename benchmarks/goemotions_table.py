"""GoEmotions: the recurrent recipe's test figures beside an n-gram model's, as Markdown tables.

The n-gram model is one logistic regression per label on TF-IDF word 1-2 grams (scikit-learn's
one-vs-rest), its C and each label's threshold chosen on the same validation rows the recipe
used (`rnnlab.encoding.split.split_validation` with the recipe's share and seed), then scored
once on the 5,427 test comments. The recurrent figures are read from the recipe run's
``results.json``.

    .venv/bin/rnnlab experiment run goemotions --out runs/goemotions
    .venv/bin/python benchmarks/goemotions_table.py runs/goemotions
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path


def ngram_model(validation_split: float, seed: int) -> dict:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    from rnnlab.data import load_goemotions
    from rnnlab.encoding.split import split_validation
    from rnnlab.training.metrics import multilabel_metrics, tune_thresholds

    started = time.perf_counter()
    train, test = load_goemotions("train"), load_goemotions("test")
    fit_rows, val_rows = split_validation(len(train), validation_split, seed, required=True)
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    x_fit = vectorizer.fit_transform([train.texts[i] for i in fit_rows])
    x_val = vectorizer.transform([train.texts[i] for i in val_rows])
    best = None
    for C in (1.0, 3.0, 10.0):
        model = OneVsRestClassifier(LogisticRegression(C=C, max_iter=1000)).fit(x_fit, train.labels[fit_rows])
        probs = model.predict_proba(x_val)
        thresholds = tune_thresholds(train.labels[val_rows], probs)
        score = multilabel_metrics(train.labels[val_rows], probs, train.class_names, thresholds)["macro_f1"]
        if best is None or score > best[0]:
            best = (score, C, model, thresholds)
    score, C, model, thresholds = best
    test_metrics = multilabel_metrics(test.labels, model.predict_proba(vectorizer.transform(test.texts)),
                                      test.class_names, thresholds)
    return {"C": C, "validation_macro_f1": score, "test": test_metrics,
            "seconds": round(time.perf_counter() - started, 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="the folder of `rnnlab experiment run goemotions --out`")
    args = parser.parse_args(argv)
    import rnnlab  # noqa: F401  (the Keras backend first)

    results = json.loads((Path(args.run) / "results.json").read_text(encoding="utf-8"))
    data = results["config"]["data"]
    ngrams = ngram_model(data.get("validation_split", 0.2), data.get("seed", 0))
    rnn, lin = results["test"], ngrams["test"]
    lines = [
        "| model | test macro-F1 | micro-F1 | subset accuracy | Hamming loss | seconds |",
        "|---|---:|---:|---:|---:|---:|",
        f"| {results['name']} | {rnn['macro_f1']:.4f} | {rnn['micro_f1']:.4f} | {100 * rnn['subset_accuracy']:.2f}% "
        f"| {rnn['hamming_loss']:.4f} | {results['total_seconds']:.0f} |",
        f"| TF-IDF 1-2 grams, logistic regression per label (C={ngrams['C']:g}) | {lin['macro_f1']:.4f} "
        f"| {lin['micro_f1']:.4f} | {100 * lin['subset_accuracy']:.2f}% | {lin['hamming_loss']:.4f} "
        f"| {ngrams['seconds']:.0f} |",
        "",
        "| label | test comments | precision | recall | F1 | threshold | n-gram F1 |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in rnn["per_label"].items():
        lines.append(f"| {name} | {row['support']:,} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} "
                     f"| {row['threshold']:.2f} | {lin['per_label'][name]['f1']:.3f} |")
    print("\n".join(lines))
    print(json.dumps({"ngram": {k: v for k, v in ngrams.items() if k != "test"},
                      "ngram_test": {k: v for k, v in lin.items() if k not in ("per_label", "class_names")},
                      "load_average": [round(x, 2) for x in os.getloadavg()]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
