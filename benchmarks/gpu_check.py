"""Train the textbook models and the best CPU recipe on this machine's accelerator; print samples/s and accuracy.

Run by benchmarks/gpu_check.sh once per Keras backend (KERAS_BACKEND=jax, then torch). Writes
OUT/gpu_check-BACKEND.json and prints a markdown table. Every figure is from one run on the
full IMDB data (25,000 training reviews, the full test set).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import rnnlab  # noqa: F401  (selects the backend before Keras)


def devices() -> list[str]:
    import keras

    if keras.backend.backend() == "jax":
        import jax

        return [str(d) for d in jax.devices()]
    import torch

    return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] or ["cpu"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("runs/gpu_check"))
    parser.add_argument("--models", default=None, help="comma-separated (default: the five textbook models)")
    parser.add_argument("--limit", type=int, default=None, help="train and test on N reviews (a quick look)")
    parser.add_argument("--recipe", default="imdb-best-cpu", help="a recipe config; '' skips it")
    args = parser.parse_args()

    import keras

    from rnnlab.configfile import read_config
    from rnnlab.experiments.recipes.recipe import run_recipe
    from rnnlab.experiments.reproductions.textbook import TEXTBOOK_NAMES
    from rnnlab.training.engine import train

    backend = keras.backend.backend()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in args.models.split(",") if args.models else TEXTBOOK_NAMES:
        started = time.perf_counter()
        result = train(name, verbose=0, seed=0, limit=args.limit)
        epochs = len(result.history["loss"])
        rows.append({"model": name, "params": result.params, "epochs": epochs,
                     "train_seconds": round(result.train_seconds, 1),
                     "samples_per_second": round(result.data_info["train_examples"] * epochs / result.train_seconds),
                     "test_accuracy": round(result.test_accuracy, 4),
                     "wall_seconds": round(time.perf_counter() - started, 1)})
        print(json.dumps(rows[-1]), flush=True)
    if args.recipe:
        started = time.perf_counter()
        config = read_config(args.recipe)
        if args.limit:
            config.setdefault("data", {})["limit"] = args.limit
        results = run_recipe(config, args.out / f"{args.recipe}-{backend}", verbose=0)
        epochs = sum(results["epochs_run"])
        rows.append({"model": f"recipe {args.recipe}", "params": results["params"], "epochs": epochs,
                     "train_seconds": results["train_seconds"],
                     "samples_per_second": round(results["train_examples"] * epochs / results["train_seconds"]),
                     "test_accuracy": results["test_accuracy"], "wall_seconds": round(time.perf_counter() - started, 1)})
        print(json.dumps(rows[-1]), flush=True)
    report = {"backend": backend, "devices": devices(), "platform": platform.platform(), "rows": rows}
    (args.out / f"gpu_check-{backend}.json").write_text(json.dumps(report, indent=1))
    print(f"\n{backend} on {', '.join(report['devices'])}\n")
    print("| model | params | epochs | train s | samples/s | test acc. (%) |\n|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['params']:,} | {r['epochs']} | {r['train_seconds']} | {r['samples_per_second']:,} "
              f"| {100 * r['test_accuracy']:.2f} |")


if __name__ == "__main__":
    main()
