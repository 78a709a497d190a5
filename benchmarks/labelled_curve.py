"""Test accuracy against the number of labelled IMDB reviews: NBSVM, a supervised BiGRU and the same BiGRU
with virtual adversarial training on IMDB's 50,000 unlabelled reviews.

For each size, a balanced sample of that many training reviews (seed 0); 15% of it validates
(NBSVM's C and n-grams, the BiGRU's epoch), the rest trains. The BiGRU is `train auto`'s
(settings from the sample, `rnnlab.experiments.recipes.auto`); "semi-supervised" adds virtual
adversarial training (weight 1.0, perturbation 0.05) on every labelled batch and on as many
unlabelled reviews beside it. Every model is scored once on the same test reviews (a seeded
sample of the 25,000, ``--test-rows``). Writes JSON lines as it goes, then a Markdown table.

    .venv/bin/python benchmarks/labelled_curve.py --sizes 500 1000 2500 5000 --out runs/curve
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 1000, 2500, 5000])
    parser.add_argument("--test-rows", type=int, default=10_000)
    parser.add_argument("--unlabelled-rows", type=int, default=50_000)
    parser.add_argument("--out", default="runs/curve")
    args = parser.parse_args(argv)

    import rnnlab  # noqa: F401  (the Keras backend first)
    from rnnlab.data import load_imdb
    from rnnlab.encoding.prepare import prepare
    from rnnlab.experiments.recipes import auto
    from rnnlab.training.engine import fit
    from rnnlab.training.linear import NBSVM
    from rnnlab.experiments.recipes.baseline import _vectorizer
    from rnnlab.encoding.split import split_validation

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    lines = out / "curve.jsonl"
    train_all, test_all = load_imdb("train"), load_imdb("test")
    test = test_all.sample(args.test_rows, seed=1)
    unsup = load_imdb("unsup").sample(args.unlabelled_rows, seed=2).texts
    rows = []
    for size in args.sizes:
        labelled = train_all.sample(size, seed=0)
        settings = auto.choose_settings(labelled)
        data = prepare(labelled, test, vocab_size=settings["vocab_size"], maxlen=settings["maxlen"],
                       validation_split=auto.VALIDATION_SPLIT, seed=0)
        fit_rows, val_rows = split_validation(len(labelled), auto.VALIDATION_SPLIT, 0, required=True)
        y = np.asarray(labelled.labels)
        started = time.perf_counter()
        best = None
        for ngrams in ((1, 2), (1, 3)):
            vectorizer = _vectorizer("nbsvm", ngrams, len(fit_rows))
            x_fit = vectorizer.fit_transform([labelled.texts[i] for i in fit_rows])
            x_val = vectorizer.transform([labelled.texts[i] for i in val_rows])
            for C in (0.1, 0.3, 1.0):
                model = NBSVM(C=C).fit(x_fit, y[fit_rows])
                accuracy = float((model.predict(x_val) == y[val_rows]).mean())
                if best is None or accuracy > best[0]:
                    best = (accuracy, vectorizer, model, ngrams, C)
        accuracy, vectorizer, model, ngrams, C = best
        nbsvm_test = float((model.predict(vectorizer.transform(test.texts)) == test.labels).mean())
        row = {"labelled": size, "nbsvm": {"validation": accuracy, "test": nbsvm_test, "ngram_range": list(ngrams),
                                            "C": C, "seconds": round(time.perf_counter() - started, 1)}}
        spec = auto.auto_spec(settings)
        base = auto.auto_config(settings, seed=0).replace(virtual_adversarial=0.0)
        for name, config, extra in (("supervised", base, None),
                                    ("semi-supervised", base.replace(virtual_adversarial=1.0, perturbation=0.05),
                                     unsup)):
            prepared = data
            if extra is not None:
                prepared = _with_texts(data, extra)
            started = time.perf_counter()
            result = fit(spec, prepared, config, verbose=0)
            row[name] = {"validation": max(result.history["val_accuracy"]), "test": result.test["accuracy"],
                         "epochs": len(result.history["val_accuracy"]),
                         "seconds": round(time.perf_counter() - started, 1)}
        row["load_average"] = [round(x, 2) for x in os.getloadavg()]
        rows.append(row)
        with open(lines, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(row) + "\n")
        print(json.dumps(row), flush=True)
    table = [f"| labelled reviews | NBSVM | BiGRU | BiGRU + virtual adversarial, {len(unsup):,} unlabelled "
             "| seconds (NBSVM / BiGRU / semi) |",
             "|---:|---:|---:|---:|---|"]
    for row in rows:
        table.append(f"| {row['labelled']:,} | {100 * row['nbsvm']['test']:.2f}% | {100 * row['supervised']['test']:.2f}% "
                     f"| {100 * row['semi-supervised']['test']:.2f}% | {row['nbsvm']['seconds']:.0f} / "
                     f"{row['supervised']['seconds']:.0f} / {row['semi-supervised']['seconds']:.0f} |")
    (out / "curve.md").write_text("\n".join(table) + "\n", encoding="utf-8")
    print("\n".join(table))
    return 0


def _with_texts(data, texts):
    import dataclasses

    return dataclasses.replace(data, x_unlabelled=data.preprocessor.transform(texts),
                               info={**data.info, "unlabelled": {"source": "imdb unsup", "examples": len(texts)}})


if __name__ == "__main__":
    raise SystemExit(main())
