"""Prediction latency of the five textbook models at batch 1 and 32: rnnlab's recurrent kernels
against Keras' own layers, side by side in one process.

Each model is built once with the textbook's sizes (vocabulary 8,000, maxlen 200) and random
weights, copied, and one copy given the kernels (`rnnlab.models.kernels.accelerate`). Both go
through `CompiledModel`, the compiled forward pass every prediction in rnnlab uses, on the same
encoded IMDB test reviews. The figure is the median time of one call over ``--calls`` calls,
the two sides alternating call by call so that load from other jobs hits both. Their outputs
are compared too (largest absolute difference of the probabilities).

    .venv/bin/python benchmarks/kernel_predict.py --out runs/kernel_predict.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import numpy as np

MODELS = ("rnn", "lstm", "gru", "bilstm", "stacked-lstm")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="timed calls per side and batch size")
    parser.add_argument("--out", default=None, help="write the figures as JSON here")
    args = parser.parse_args()

    import rnnlab  # noqa: F401  (chooses the Keras backend, so it comes before Keras)

    import keras
    from rnnlab.data import load_imdb
    from rnnlab.models import get
    from rnnlab.models.builder import build_model
    from rnnlab.models.kernels import accelerate, enabled
    from rnnlab.text import Preprocessor
    from rnnlab.training.forward import CompiledModel

    if not enabled():
        raise SystemExit("the recurrent kernels are not available here (RNNLAB_RECURRENT_KERNEL=keras, or no compiler)")
    reviews = load_imdb("test").sample(64, seed=0)
    x = Preprocessor(vocab_size=8000, maxlen=200).fit_transform(reviews.texts)
    rows = []
    for name in MODELS:
        os.environ["RNNLAB_RECURRENT_KERNEL"] = "keras"
        keras.utils.set_random_seed(0)
        stock = build_model(get(name).spec, compile=False)
        os.environ["RNNLAB_RECURRENT_KERNEL"] = "auto"
        fast = keras.Model.from_config(stock.get_config())
        fast.set_weights(stock.get_weights())
        accelerate(fast)
        for batch in (1, 32):
            sides = {"keras": CompiledModel(stock, (batch,)), "kernels": CompiledModel(fast, (batch,))}
            rows_in = x[:batch]
            outputs = {side: compiled.outputs(rows_in)[0] for side, compiled in sides.items()}  # compiles
            times = {side: [] for side in sides}
            for _ in range(args.calls):
                for side, compiled in sides.items():
                    start = time.perf_counter()
                    compiled.outputs(rows_in)
                    times[side].append(time.perf_counter() - start)
            row = {"model": name, "batch": batch,
                   **{f"{side}_ms": round(1000 * statistics.median(t), 3) for side, t in times.items()},
                   "max_abs_diff": float(np.max(np.abs(outputs["keras"] - outputs["kernels"]))),
                   "load": round(os.getloadavg()[0], 2)}
            row["speedup"] = round(row["keras_ms"] / row["kernels_ms"], 2)
            rows.append(row)
            print(f"{name:13s} batch {batch:3d}  Keras layers {row['keras_ms']:8.3f} ms  kernels {row['kernels_ms']:8.3f} ms"
                  f"  {row['speedup']:5.2f}x  max diff {row['max_abs_diff']:.1e}  load {row['load']}", flush=True)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump({"calls": args.calls, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
