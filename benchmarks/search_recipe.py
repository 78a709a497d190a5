"""Search for the fastest recurrent recipe to a target accuracy, on a validation split only.

The IMDB training reviews are split about 20,000 / 5,000 *by movie* (the archive's
``train/urls_*.txt`` give each review's movie page): IMDB's test split holds other movies
than its training split, and a validation split that shares movies with training
overestimates test accuracy (by about half a point here). Every candidate trains on the
20,000 and is scored on the 5,000 every half epoch (the clock is paused while scoring). The
test split is never read here: it belongs to the time-to-accuracy benchmark.
Each candidate's curve (training seconds, examples seen, validation accuracy) is appended to
``benchmarks/results/recipe_search.json`` with the load average at the time.

    python benchmarks/search_recipe.py            # every candidate
    python benchmarks/search_recipe.py gru-max    # only those whose name contains "gru-max"
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

import rnnlab  # noqa: F401  (selects the Keras backend)
from common import ROOT, StopClock, load_average
from scoring import Curve, ScoreEvery, binary_accuracy

RESULTS = ROOT / "benchmarks" / "results" / "recipe_search.json"

# name -> ModelSpec fields + training options (batch, lr, epochs, buckets, vocab, maxlen)
BASE = dict(embedding_dim=32, spatial_dropout=0.0, output_dropout=0.0, optimizer="adam")
# The kept recipe (configs/imdb-fast.toml); the later candidates change one or two of its settings.
KEPT = dict(cell="gru", units=32, pooling="max", mask_zero=True, embedding_dim=64, lr=4e-3, decay=1.5, batch=128,
            vocab=30000, maxlen=400, buckets=4, epochs=2)
CANDIDATES = {
    "textbook-gru": dict(cell="gru", units=32, spatial_dropout=0.4, output_dropout=0.4, optimizer="rmsprop",
                         rnn_options={"reset_after": False}, lr=1e-3, batch=128, vocab=8000, maxlen=200,
                         buckets=None, epochs=2),
    "gru-last-b4": dict(cell="gru", units=32, lr=3e-3, batch=128, vocab=20000, maxlen=200, buckets=4, epochs=2),
    "gru-max-mask": dict(cell="gru", units=32, pooling="max", mask_zero=True, embedding_dim=64, lr=3e-3,
                         batch=128, vocab=20000, maxlen=200, buckets=4, epochs=2),
    "gru-avg-mask": dict(cell="gru", units=32, pooling="avg", mask_zero=True, embedding_dim=64, lr=3e-3,
                         batch=128, vocab=20000, maxlen=200, buckets=4, epochs=2),
    "lstm-max-mask": dict(cell="lstm", units=32, pooling="max", mask_zero=True, embedding_dim=64, lr=3e-3,
                          batch=128, vocab=20000, maxlen=200, buckets=4, epochs=2),
    "gru64-max-mask-b256": dict(cell="gru", units=64, pooling="max", mask_zero=True, embedding_dim=64, lr=3e-3,
                                batch=256, vocab=20000, maxlen=256, buckets=4, epochs=2),
    "gru-avg-mask-lr2e3": dict(cell="gru", units=32, pooling="avg", mask_zero=True, embedding_dim=64, lr=2e-3,
                               batch=128, vocab=20000, maxlen=200, buckets=4, epochs=2),
    "gru-max-mask-e32": dict(cell="gru", units=32, pooling="max", mask_zero=True, embedding_dim=32, lr=3e-3,
                             batch=128, vocab=20000, maxlen=200, buckets=4, epochs=2),
    "gru-max-mask-b256": dict(cell="gru", units=32, pooling="max", mask_zero=True, embedding_dim=64, lr=4e-3,
                              batch=256, vocab=20000, maxlen=200, buckets=4, epochs=2),
    "gru-max-mask-v30k-m256": dict(cell="gru", units=32, pooling="max", mask_zero=True, embedding_dim=64,
                                   lr=3e-3, batch=128, vocab=30000, maxlen=256, buckets=4, epochs=2),
    "gru-max-mask-m300": dict(cell="gru", units=32, pooling="max", mask_zero=True, embedding_dim=64, lr=3e-3,
                              batch=128, vocab=20000, maxlen=300, buckets=4, epochs=2),
    "gru-max-mask-sd02": dict(cell="gru", units=32, pooling="max", mask_zero=True, embedding_dim=64, lr=3e-3,
                              spatial_dropout=0.2, batch=128, vocab=20000, maxlen=200, buckets=4, epochs=2),
    "gru-max-mask-decay1": dict(cell="gru", units=32, pooling="max", mask_zero=True, embedding_dim=64, lr=4e-3,
                                decay=1.0, batch=128, vocab=20000, maxlen=200, buckets=4, epochs=1),
    "gru-avg-mask-decay1": dict(cell="gru", units=32, pooling="avg", mask_zero=True, embedding_dim=64, lr=4e-3,
                                decay=1.0, batch=128, vocab=20000, maxlen=200, buckets=4, epochs=1),
    "gru-max-mask-decay15": dict(cell="gru", units=32, pooling="max", mask_zero=True, embedding_dim=64, lr=4e-3,
                                 decay=1.5, batch=128, vocab=20000, maxlen=256, buckets=4, epochs=2),
    "gru-max-v30k-m400-decay": dict(cell="gru", units=32, pooling="max", mask_zero=True, embedding_dim=64, lr=4e-3,
                                    decay=1.5, batch=128, vocab=30000, maxlen=400, buckets=4, epochs=2),
    "gru64-e128-max-v30k-m400-decay": dict(cell="gru", units=64, pooling="max", mask_zero=True, embedding_dim=128,
                                           lr=3e-3, decay=1.5, batch=128, vocab=30000, maxlen=400, buckets=4,
                                           epochs=2),
    "bigru-max-v30k-m400-decay": dict(cell="gru", units=32, bidirectional=True, pooling="max", mask_zero=True,
                                      embedding_dim=64, lr=4e-3, decay=1.5, batch=128, vocab=30000, maxlen=400,
                                      buckets=4, epochs=2),
    "gru-e128-max-v30k-m256-decay": dict(cell="gru", units=32, pooling="max", mask_zero=True, embedding_dim=128,
                                         lr=4e-3, decay=1.5, batch=128, vocab=30000, maxlen=256, buckets=4, epochs=2),
    "gru-max-v30k-m400-decay1": {**KEPT, "decay": 1.0, "epochs": 1},
    # Each token's naive-Bayes log-count ratio from the training labels as a second, frozen input channel.
    "gru-max-nb-v30k-m400-decay1": {**KEPT, "nb_features": True, "decay": 1.0, "epochs": 1},
    "gru-max-nb-v30k-m400-decay1-lr2e3": {**KEPT, "nb_features": True, "lr": 2e-3, "decay": 1.0, "epochs": 1},
    "gru-max-v30k-m400-decay125": {**KEPT, "decay": 1.25},
    "gru-max-v30k-m400-decay-lr6e3": {**KEPT, "lr": 6e-3},
    "gru-e128-max-v30k-m400-decay": {**KEPT, "embedding_dim": 128},
    "gru48-max-v30k-m400-decay": {**KEPT, "units": 48},
    "gru-max-v30k-m400-decay-b64": {**KEPT, "lr": 3e-3, "batch": 64},
    # An exponential moving average of the weights (its momentum), scored in place of the weights.
    "gru-max-v30k-m400-decay-ema99": {**KEPT, "ema": 0.99},
    "gru-max-v30k-m400-decay-ema98": {**KEPT, "ema": 0.98},
    "bigru-max-mask": dict(cell="gru", units=32, bidirectional=True, pooling="max", mask_zero=True,
                           embedding_dim=64, lr=3e-3, batch=128, vocab=20000, maxlen=200, buckets=4, epochs=2),
}


def movie_split(train, fraction: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a training and a validation part with no movie in common."""
    from rnnlab.data.imdb import ARCHIVE_NAME
    from rnnlab.data.locate import data_dir
    from rnnlab.data.tarstream import tar_members

    urls = {}
    for name, data in tar_members(data_dir() / ARCHIVE_NAME):
        if name.startswith("aclImdb/train/urls_") and not name.endswith("unsup.txt"):
            urls[name.rsplit("_", 1)[1][:3]] = data.decode().split()
    # load_imdb orders the reviews negatives first, each class by file id = line of its urls file.
    movies = np.asarray(urls["neg"] + urls["pos"])
    assert len(movies) == len(train)
    rng = np.random.default_rng(seed)
    names, counts = np.unique(movies, return_counts=True)
    order = rng.permutation(len(names))
    chosen = order[: int(np.searchsorted(np.cumsum(counts[order]), fraction * len(train))) + 1]
    in_val = np.isin(movies, names[chosen])
    return rng.permutation(np.flatnonzero(~in_val)), rng.permutation(np.flatnonzero(in_val))


def encoded(vocab: int, maxlen: int, cache: dict):
    from rnnlab.data import load_imdb
    from rnnlab.text import Preprocessor
    from rnnlab.text.cache import fit_encode

    if (vocab, maxlen) not in cache:
        train = load_imdb("train")
        fit_rows, val_rows = movie_split(train)
        train = train.subset(np.concatenate([fit_rows, val_rows]))
        n = len(fit_rows)
        prep = Preprocessor(vocab_size=vocab, maxlen=maxlen)
        (enc,) = fit_encode(prep, [train.texts], fit_count=n, cache=True)
        cache[vocab, maxlen] = (enc.ids[:n], train.labels[:n], enc.ids[n:], train.labels[n:])
    return cache[vocab, maxlen]


def averaged(accuracy):
    """``accuracy`` of the model with the optimizer's moving average of the weights, when it keeps one:
    what ``fit`` would leave if it ended here. The average is scored on a copy of the model, so the
    training state is left as it is."""
    copies = {}

    def score(model) -> float:
        import keras

        optimizer = model.optimizer
        if not optimizer.use_ema:
            return accuracy(model)
        model.jax_state_sync()
        if id(model) not in copies:
            copies[id(model)] = keras.models.clone_model(model)
        copy = copies[id(model)]
        for target, average in zip(copy.trainable_variables, optimizer._model_variables_moving_average):
            target.assign(np.asarray(average))
        for target, source in zip(copy.non_trainable_variables, model.non_trainable_variables):
            target.assign(np.asarray(source))
        return accuracy(copy)

    return score


def run_candidate(name: str, options: dict, data_cache: dict, eval_every: float = 0.5, seed: int = 0) -> dict:
    import keras

    from rnnlab.encoding.bucketing import BucketedBatches
    from rnnlab.models import ModelSpec

    options = dict(options)
    lr, batch, vocab, maxlen = options.pop("lr"), options.pop("batch"), options.pop("vocab"), options.pop("maxlen")
    buckets, epochs = options.pop("buckets"), options.pop("epochs")
    decay = options.pop("decay", None)  # epochs over which the learning rate decays (cosine) to 10%
    ema = options.pop("ema", None)  # momentum of an exponential moving average of the weights, scored instead
    x_train, y_train, x_val, y_val = encoded(vocab, maxlen, data_cache)
    spec = ModelSpec(**{**BASE, **options, "name": name, "vocab_size": vocab, "learning_rate": lr,
                        "maxlen": None if buckets else maxlen})
    keras.utils.set_random_seed(seed)
    model = spec.build()
    if spec.nb_features:
        from rnnlab.training.linear import token_ratios

        model.get_layer("nb_ratios").set_weights([token_ratios(x_train, y_train, vocab, spec.num_classes)])
    if buckets:
        train_data = BucketedBatches(x_train, y_train, batch_size=batch, buckets=buckets, seed=seed)
        steps = len(train_data)
    else:
        train_data = None
        steps = -(-len(x_train) // batch)
    load_before = load_average()
    if decay or ema:
        rate = keras.optimizers.schedules.CosineDecay(lr, decay_steps=int(steps * decay), alpha=0.1) if decay else lr
        optimizer = keras.optimizers.Adam(rate, use_ema=bool(ema), ema_momentum=ema or 0.99)
        model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"])
    curve = Curve(StopClock(), name=name, log=lambda m: print(" ", m, flush=True))
    scorer = ScoreEvery(curve, averaged(binary_accuracy(x_val, y_val)), steps, eval_every)
    if buckets:
        model.fit(train_data, epochs=epochs, callbacks=[scorer], verbose=0)
    else:
        model.fit(x_train, y_train, batch_size=batch, epochs=epochs, shuffle=True, callbacks=[scorer], verbose=0)
    curve = [{**p, "val_accuracy": p.pop("accuracy")} for p in curve.points]
    best = max(curve, key=lambda c: c["val_accuracy"])
    return {"name": name, "seed": seed, "validation": "by movie", "options": CANDIDATES[name], "params": int(model.count_params()), "curve": curve,
            "best": best, "load_before": load_before, "load_after": load_average(),
            "when": time.strftime("%Y-%m-%dT%H:%M:%S")}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("only", nargs="*", help="run candidates whose name contains one of these")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds (default 0)")
    parser.add_argument("--exact", action="store_true", help="names must match exactly")
    parser.add_argument("--every", type=float, default=0.5, help="epochs between validation scores (default 0.5)")
    args = parser.parse_args(argv)
    names = [n for n in CANDIDATES if not args.only or any(o == n if args.exact else o in n for o in args.only)]
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    data_cache: dict = {}
    for seed in [int(x) for x in args.seeds.split(",")]:
        for name in names:
            print(f"{name} seed {seed} (load {load_average()})", flush=True)
            results.append(run_candidate(name, CANDIDATES[name], data_cache, eval_every=args.every, seed=seed))
            RESULTS.parent.mkdir(parents=True, exist_ok=True)
            RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
