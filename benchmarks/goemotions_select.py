"""Choose a GoEmotions recipe on validation comments only: one line of figures per variant.

The validation rows are 11% of the training split (seed 0), as in `configs/goemotions.toml`;
the test split is never read. A variant is a JSON object of changes to the base recipe's
``model`` (`ModelSpec` fields) and ``training`` (`TrainingConfig` fields). Each line gives the
validation macro-F1 three ways: at threshold 0.5; with thresholds tuned on all the validation
rows and scored on the same rows (optimistic); and cross-fitted (thresholds tuned on one half,
scored on the other, both ways, averaged), the figure variants are compared by.

    .venv/bin/python benchmarks/goemotions_select.py base '{}'
    .venv/bin/python benchmarks/goemotions_select.py focal '{"model": {"loss": "binary_focal_crossentropy"}}'
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

BASE_MODEL = dict(name="goemotions-bigru", vocab_size=20000, maxlen=50, embedding_dim=128, mask_zero=True,
                  spatial_dropout=0.2, cell="gru", units=64, bidirectional=True, pooling="max", dropout=0.3,
                  optimizer="adam", learning_rate=0.002)
BASE_TRAINING = dict(epochs=20, batch_size=64, schedule="cosine", buckets=4,
                     early_stopping={"monitor": "val_macro_f1", "mode": "max", "patience": 3}, seed=0)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("changes", nargs="?", default="{}")
    parser.add_argument("--out", default="runs/goemotions-select.jsonl")
    args = parser.parse_args(argv)
    changes = json.loads(args.changes)

    import rnnlab  # noqa: F401  (the Keras backend first)
    from rnnlab.data import load_goemotions
    from rnnlab.encoding.prepare import prepare
    from rnnlab.models import ModelSpec
    from rnnlab.training import TrainingConfig
    from rnnlab.training.engine import fit
    from rnnlab.training.metrics import multilabel_metrics, probabilities, tune_thresholds

    model = {**BASE_MODEL, **changes.get("model", {})}
    data = prepare(load_goemotions("train"), None, vocab_size=model["vocab_size"], maxlen=model["maxlen"],
                   validation_split=0.11, seed=0, cache=True)
    started = time.perf_counter()
    result = fit(ModelSpec(**model), data, TrainingConfig(**{**BASE_TRAINING, **changes.get("training", {})}),
                 verbose=0)
    seconds = time.perf_counter() - started
    probs = probabilities(result.model, data.x_val, spec=result.spec, padding=data.preprocessor.padding)
    y = data.y_val
    half = np.arange(len(y)) % 2 == 0
    crossed = [multilabel_metrics(y[b], probs[b], None, tune_thresholds(y[a], probs[a]))["macro_f1"]
               for a, b in ((half, ~half), (~half, half))]
    same = multilabel_metrics(y, probs, None, tune_thresholds(y, probs))
    row = {"variant": args.name, "changes": changes, "macro_f1_crossfit": round(float(np.mean(crossed)), 4),
           "macro_f1_tuned_same_rows": round(same["macro_f1"], 4),
           "macro_f1_at_0.5": round(multilabel_metrics(y, probs)["macro_f1"], 4),
           "micro_f1": round(same["micro_f1"], 4), "epochs": len(result.history["loss"]),
           "val_macro_f1_by_epoch": [round(x, 4) for x in result.history["val_macro_f1"]],
           "seconds": round(seconds, 1), "load_average": [round(x, 2) for x in os.getloadavg()]}
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(row) + "\n")
    print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
