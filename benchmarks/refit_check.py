"""What `[blend] refit` is worth on a saved stack bundle: its n-gram members fitted again on every labelled row.

    python benchmarks/refit_check.py runs/budget-20min/bundle
    python benchmarks/refit_check.py runs/imdb-stack/bundle --json

The bundle's own split (dataset, validation share, seed: its ``metrics.json``) gives the fit and
validation rows; each n-gram member is fitted again, with its settings, on both, and the test
split is scored once before and once after, every other member and the blend weights unchanged.
So the difference is the refit alone, with none of the noise of retraining the other members
(document vectors trained by two workers differ from run to run).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np


def refit_check(path: Path) -> dict:
    from rnnlab.encoding.prepare import load_splits
    from rnnlab.experiments.recipes.stack import SPLIT_KEYS, load_stack_split, score_name
    from rnnlab.inference.bundle import Bundle
    from rnnlab.training.linear import NgramModel
    from rnnlab.training.metrics import headline_score

    bundle = Bundle.load(path)
    if not hasattr(bundle, "members"):
        raise SystemExit(f"{path} is not a stack bundle")
    data = dict(bundle.metrics["recipe"])  # the stack's [data] table
    split = load_stack_split(data)
    _, test = load_splits(data["dataset"], seed=data["seed"], limit=data.get("limit"), with_test=True,
                          **{k: v for k, v in data.items() if k not in SPLIT_KEYS})
    labels = np.asarray(test.labels)
    score = score_name(labels)
    thresholds = bundle.thresholds

    def scored(probs):
        return round(headline_score(labels, probs, thresholds), 5)

    started = time.perf_counter()
    parts = bundle.predictor.parts(test.texts)
    print(f"members predicted the test split in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    rows = np.concatenate([split.fit_rows, split.val_rows])
    texts, row_labels = [split.train.texts[i] for i in rows], split.labels[rows]
    refit = list(parts)
    for i, member in enumerate(bundle.members):
        if isinstance(member.model, NgramModel):
            model = NgramModel(member.model.ngram_range, C=member.model.C, n_features=member.model.n_features,
                               class_names=split.class_names).fit(texts, row_labels)
            refit[i] = model.predict_proba(test.texts)
    blend = bundle.predictor.blend
    return {"bundle": str(path), "score": score, "refit_rows": int(len(rows)),
            "weights": {m.name: m.weight for m in bundle.members},
            "before": {"stack": scored(blend(parts)), **{m.name: scored(p) for m, p in zip(bundle.members, parts)}},
            "after": {"stack": scored(blend(refit)), **{m.name: scored(p) for m, p in zip(bundle.members, refit)}}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path, help="a stack bundle folder (OUT/bundle of a stack run)")
    parser.add_argument("--json", action="store_true", help="print only JSON")
    args = parser.parse_args(argv)
    found = refit_check(args.bundle)
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    print(f"{found['bundle']}: n-gram members refit on {found['refit_rows']:,} rows; test {found['score']}")
    for name in found["before"]:
        print(f"  {name:<14} {100 * found['before'][name]:6.2f}% -> {100 * found['after'][name]:6.2f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
