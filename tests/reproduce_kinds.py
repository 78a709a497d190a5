"""Run one toy-scale config of every kind and print a fingerprint of what each produced.

``python tests/reproduce_kinds.py OUT [--sweep-workers N]`` trains a sweep, a recipe (a BiGRU
started from word2vec vectors trained here), a stack, a search, a language-model fine-tuning and
an ``auto`` config into ``OUT/KIND`` through `run_config`, then prints one JSON object: per kind
the test and validation accuracy and a SHA-256 of every saved weight (bundles, n-gram members,
language model, word vectors). Two processes given the same arguments must print the same
object; ``--sweep-workers 2`` trains the sweep's runs as Ray tasks instead of in this process,
and its runs must come out the same too. Searches and Ray need a private network namespace:
`test_reproducible.py` runs this script inside one.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

DATA = {"dataset": "imdb", "seed": 3, "limit": 400}
TINY_GRU = {"vocab_size": 1500, "maxlen": 48, "embedding_dim": 8, "mask_zero": True, "cell": "gru", "units": 4,
            "pooling": "max", "optimizer": "adam", "learning_rate": 0.01}
TRAINING = {"epochs": 1, "batch_size": 32}


def configs(vectors: Path, sweep_workers: int) -> dict[str, dict]:
    bigru = {**TINY_GRU, "bidirectional": True, "embedding_dim": 8, "pretrained_embeddings": str(vectors)}
    return {
        "sweep": {"kind": "sweep", "name": "toy-sweep", "runs": 2, "seed": 1, "baseline": False,
                  "models": [{"name": "toy_lstm", **TINY_GRU, "cell": "lstm"}],
                  "data": {"limit": 300, "length_rule": "truncate"}, "training": {"epochs": 1, "batch_size": 32},
                  "run": {"workers": sweep_workers, "report": False}},
        "recipe": {"kind": "recipe", "name": "toy-bigru-word2vec", "data": {**DATA, "validation_split": 0.25},
                   "model": bigru, "training": {**TRAINING, "buckets": 2}},
        "stack": {"kind": "stack", "name": "toy-stack", "data": {**DATA, "validation_split": 0.25},
                  "members": [{"name": "nb-lr", "ngram_range": [1, 2], "C": 0.1},
                              {"name": "gru", "model": TINY_GRU, "training": TRAINING}]},
        "tune": {"kind": "tune", "name": "toy-search", "data": {**DATA, "validation_split": 0.25},
                 "model": TINY_GRU, "training": {"epochs": 1, "batch_size": 32},
                 "search": {"trials": 2, "concurrent": 1, "seed": 5},
                 "space": {"model": {"units": {"choice": [4, 6]}}}},
        "lm-finetune": {"kind": "lm-finetune", "name": "toy-lm",
                        "data": {"vocab_size": 800, "maxlen": 48, "validation_split": 0.25, "seed": 2, "limit": 300},
                        "pretrain": {"embedding_dim": 8, "units": [12], "window": 16, "batch_size": 32, "epochs": 1.0,
                                     "num_sampled": 64, "limit": 200},
                        "finetune": {"batch_size": 32, "epochs": 1, "unfreeze_epochs": [1], "head_units": 4}},
        "auto": {"kind": "auto", "name": "toy-auto", "data": {**DATA, "vocab_size": 1000, "maxlen": 48},
                 "training": {"epochs": 1}, "baseline": "nbsvm"},
    }


def digest(arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(str((a.dtype, a.shape)).encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]


def weights_of(folder: Path) -> dict[str, str]:
    """A digest of every model saved under ``folder``, by its path relative to it."""
    from rnnlab.inference.bundle import Bundle
    from rnnlab.training.language_model import LanguageModel
    from rnnlab.training.linear import NGRAM_FILE, NgramModel

    found = {}
    for path in sorted(folder.rglob("model.keras")):
        bundle_dir = path.parent
        name = str(bundle_dir.relative_to(folder))
        if (bundle_dir / "metrics.json").exists():
            found[name] = digest(Bundle.load(bundle_dir).model.get_weights())
        else:
            found[name] = digest(LanguageModel.load(bundle_dir).model.get_weights())
    for path in sorted(folder.rglob(NGRAM_FILE)):
        model = NgramModel.load(path.parent)
        found[str(path.parent.relative_to(folder))] = digest([model.columns, model.values, model.biases])
    return found


def fingerprint(kind: str, results: dict, folder: Path) -> dict:
    test = results.get("test") or {}
    found = {"test_accuracy": test.get("accuracy"),
             "validation_accuracy": (results.get("validation") or {}).get("accuracy"),
             "weights": weights_of(folder)}
    if kind == "sweep":
        from rnnlab.experiments.sweeps.store import ExperimentStore

        with ExperimentStore(folder, create=False) as store:
            found["runs"] = {f"{r.model}/{r.run_index}": {"test_accuracy": r.test_accuracy,
                                                          "loss": r.history.get("loss") if r.history else None,
                                                          "init": r.init_weights_hash}
                             for r in store.runs()}
    if kind == "tune":
        found["trials"] = [(t.get("params"), t.get("val_accuracy")) for t in results.get("runs") or []]
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--sweep-workers", type=int, default=1)
    parser.add_argument("--kinds", default="sweep,recipe,stack,tune,lm-finetune,auto")
    args = parser.parse_args(argv)

    from rnnlab.experiments.kinds import run_config
    from rnnlab.text.word2vec import train_word2vec, word2vec_path

    args.out.mkdir(parents=True, exist_ok=True)
    # Vectors trained by this process (not an earlier one's cached file): word2vec must be deterministic too.
    options = dict(dim=8, epochs=1, limit=1500, seed=4)
    word2vec_path(**options).unlink(missing_ok=True)
    train_word2vec(**options, out=args.out / "vectors.bin")
    prints = {"word2vec": hashlib.sha256((args.out / "vectors.bin").read_bytes()).hexdigest()[:16]}
    for kind, config in configs(args.out / "vectors.bin", args.sweep_workers).items():
        if kind in args.kinds.split(","):
            started = time.perf_counter()
            results = run_config(config, args.out / kind)
            prints[kind] = fingerprint(kind, results, args.out / kind)
            print(f"{kind}: done in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    print(json.dumps(prints, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
