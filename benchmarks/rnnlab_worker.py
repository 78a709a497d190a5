"""The rnnlab side of the benchmarks, as a worker process (see `common.Worker`).

It runs in the project's own environment (.venv: what `pip install rnnlab` gives, no
TensorFlow), so nothing of the peers' environment leaks into rnnlab's figures.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path

import numpy as np

import rnnlab  # noqa: F401  (selects the Keras backend before Keras is imported)
from common import StopClock, serve


class EpochTimer:
    """Wall seconds of each epoch (a Keras callback, built lazily so that Keras loads once)."""

    def __new__(cls):
        import keras

        class _Timer(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.seconds = []

            def on_epoch_begin(self, epoch, logs=None):
                self._started = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                self.seconds.append(time.perf_counter() - self._started)

        return _Timer()


def info() -> dict:
    import keras

    from rnnlab.environment import versions

    return {"backend": keras.backend.backend(), "versions": versions(),
            "XLA_FLAGS": os.environ.get("XLA_FLAGS", ""), "pid": os.getpid()}


def throughput(model: str, data: str, epochs: int = 2, batch_size: int = 128, buckets=None) -> dict:
    """Train a named textbook model on pre-encoded data; seconds of each epoch."""
    from rnnlab.models import get
    from rnnlab.encoding.prepare import PreparedData
    from rnnlab.text import Preprocessor
    from rnnlab.training.engine import config_from_recipe, fit

    named = get(model)
    recipe = dataclasses.replace(named.recipe, epochs=epochs, batch_size=batch_size)
    with np.load(data) as arrays:
        x, y = arrays["x"], arrays["y"]
    prepared = PreparedData(Preprocessor(maxlen=x.shape[1]), x, y, None, None, None, None, ("neg", "pos"))
    timer = EpochTimer()
    result = fit(named.spec, prepared, config_from_recipe(recipe, buckets=buckets), recipe=recipe, verbose=0,
                 callbacks=[timer])
    return {"epoch_seconds": timer.seconds, "samples": int(len(x)), "params": result.params}


def time_to_accuracy(cache_dir: str, target: float, eval_every: float = 0.5, epochs: int | None = None,
                     stop_at_target: bool = False) -> dict:
    """The fast recipe from the raw archive (caches in ``cache_dir``), test accuracy along the way."""
    os.environ["RNNLAB_CACHE_DIR"] = cache_dir
    from rnnlab.training import fit, prepare_for
    from rnnlab.training.engine import steps_per_epoch
    from scoring import Curve, ScoreEvery

    parts = fast_recipe(epochs)
    clock = StopClock()
    curve = Curve(clock, target=target, name="rnnlab")
    data = prepare_for(parts.spec, parts.recipe, seed=parts.training.seed, cache=True)
    data_seconds = clock.elapsed()
    scorer = ScoreEvery(curve, test_accuracy_fn(data), steps_per_epoch(data, parts.training), eval_every,
                        stop_at_target=stop_at_target)
    train_only = dataclasses.replace(data, x_test=None, y_test=None)
    result = fit(parts.spec, train_only, parts.training, recipe=parts.recipe, callbacks=[scorer], verbose=0)
    return {**curve.to_dict(), "data_seconds": round(data_seconds, 2), "total_seconds": round(clock.elapsed(), 2),
            "recipe": {"spec": parts.spec.to_dict(), "training": parts.training.to_dict()}, "params": result.params}


def time_to_accuracy_budget(cache_dir: str, target: float, config: str = "budget-1min") -> dict:
    """A budget recipe's n-gram members from the raw archive (caches in ``cache_dir``), then test accuracy.

    The 1-minute budget recipe is one naive-Bayes-weighted logistic regression: it is scored once,
    when it is fitted (the clock paused while scoring), on the same test reviews as the other sides.
    """
    os.environ["RNNLAB_CACHE_DIR"] = cache_dir
    from rnnlab.configfile import read_config
    from rnnlab.encoding.prepare import load_splits
    from rnnlab.encoding.split import split_validation
    from rnnlab.experiments.recipes.stack import stack_members
    from rnnlab.training.linear import NgramModel
    from scoring import Curve

    data, members = stack_members(read_config(config))
    if len(members) != 1 or members[0]["kind"] != "ngram":
        raise ValueError(f"{config} is not one n-gram model; this side times those only")
    clock = StopClock()
    curve = Curve(clock, target=target, name=config)
    train, _ = load_splits(data["dataset"], seed=data["seed"], with_test=False)
    fit_rows, _ = split_validation(len(train), data["validation_split"], data["seed"])
    data_seconds = clock.elapsed()
    with clock.pause():
        _, test = load_splits(data["dataset"], seed=data["seed"])
    texts = [train.texts[i] for i in fit_rows]
    settings = {k: v for k, v in members[0].items() if k in ("ngram_range", "C", "n_features")}
    model = NgramModel(class_names=train.class_names, **settings).fit(texts, train.labels[fit_rows])
    curve.score(1.0, lambda: (model.predict_proba(test.texts).argmax(axis=1) == test.labels).mean())
    return {**curve.to_dict(), "data_seconds": round(data_seconds, 2), "total_seconds": curve.points[-1]["seconds"],
            "recipe": {"config": config, "members": members}}


def fast_recipe(epochs: int | None = None):
    """The committed fast recipe (configs/imdb-fast.toml), optionally with other epochs."""
    from rnnlab.configfile import read_config
    from rnnlab.experiments.recipes.recipe import recipe_parts

    parts = recipe_parts(read_config("imdb-fast"))
    if epochs is not None:
        parts = dataclasses.replace(parts, training=parts.training.replace(epochs=epochs))
    return parts


def fill_caches(cache_dir: str) -> dict:
    """Parse and encode the fast recipe's data into ``cache_dir``, as a first run would."""
    os.environ["RNNLAB_CACHE_DIR"] = cache_dir
    from rnnlab.training import prepare_for

    parts = fast_recipe()
    started = time.perf_counter()
    prepare_for(parts.spec, parts.recipe, seed=parts.training.seed, cache=True)
    return {"seconds": time.perf_counter() - started}


def test_accuracy_fn(data):
    """Test accuracy through the bucketed compiled forward pass (exact for the masked recipe)."""
    from rnnlab.encoding.bucketing import bucketed_outputs, even_buckets
    from rnnlab.training.forward import CompiledModel

    x, y = data.x_test, data.y_test
    buckets = even_buckets(x.shape[1], 4)

    def accuracy(model) -> float:
        compiled = CompiledModel(model, (1024,))
        p = bucketed_outputs(lambda b: compiled.outputs(b)[0], x, buckets, 1024).reshape(-1)
        return float(((p > 0.5) == y).mean())

    return accuracy


def make_bundle(out: str, model: str, tokenizer: str, limit: int, epochs: int) -> dict:
    """A bundle to predict with (trained briefly: the benchmark measures speed, not accuracy)."""
    from rnnlab.training.engine import train

    result = train(model, out=out, limit=limit, epochs=epochs, tokenizer=tokenizer, verbose=0)
    return {"bundle": out, "test_accuracy": result.test_accuracy}


def _texts(path: str) -> list[str]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


_predictors: dict = {}


def predict(bundle: str, texts: str, variant: str, save: str | None = None) -> dict:
    """Seconds to classify every text of ``texts`` from raw text, token caches emptied first.

    Variants: ``bundle`` (`Bundle.predict_proba`: `model.predict`, padded to maxlen),
    ``compiled`` (`BatchPredictor`, padded to maxlen), ``buckets`` (`BatchPredictor` with 4
    length buckets).
    """
    from rnnlab.inference import BatchPredictor
    from rnnlab.inference.bundle import Bundle
    from rnnlab.text.treebank import shared_pipeline

    reviews = _texts(texts)
    setup = 0.0
    if (bundle, variant) not in _predictors:
        started = time.perf_counter()
        loaded = Bundle.load(bundle)
        predictor = None if variant == "bundle" else BatchPredictor(loaded, buckets=4 if variant == "buckets" else None)
        if predictor is not None:  # compile every shape now: a one-off cost, reported apart
            predictor.probabilities(loaded.preprocessor.transform(reviews[:2000]))
        setup = time.perf_counter() - started
        _predictors[bundle, variant] = (loaded, predictor)
    loaded, predictor = _predictors[bundle, variant]
    shared_pipeline().clear()  # new text: nothing memoised from an earlier round
    started = time.perf_counter()
    probs = loaded.predict_proba(reviews) if predictor is None else predictor.predict_proba(reviews)
    seconds = time.perf_counter() - started
    if save:
        np.save(save, probs[:, 1].astype(np.float64))
    return {"seconds": seconds, "reviews": len(reviews), "setup_seconds": setup}


def latency(bundle: str, texts: str, count: int = 300) -> dict:
    """Seconds to classify one review at a time (the serving case), after a warm-up."""
    from rnnlab.inference import BatchPredictor
    from rnnlab.inference.bundle import Bundle

    from rnnlab.text.treebank import shared_pipeline

    everything = _texts(texts)
    reviews, warm_up = everything[:count], everything[-20:]
    key = (bundle, "latency")
    if key not in _predictors:
        loaded = Bundle.load(bundle)
        predictor = BatchPredictor(loaded, buckets=4)
        for length in predictor.buckets:  # every bucket shape compiled before timing
            predictor.compiled.probabilities(np.ones((1, length), dtype="int32"))
        _predictors[key] = (loaded, predictor)
    _, predictor = _predictors[key]
    shared_pipeline().clear()  # the timed reviews are new text; a few others warm the common words
    for review in warm_up:
        predictor.predict_proba([review])
    times = []
    for review in reviews:
        started = time.perf_counter()
        predictor.predict_proba([review])
        times.append(time.perf_counter() - started)
    return {"seconds": times}


if __name__ == "__main__":
    serve({"time_to_accuracy_budget": time_to_accuracy_budget,
           "info": info, "throughput": throughput, "time_to_accuracy": time_to_accuracy, "fill_caches": fill_caches,
           "make_bundle": make_bundle, "predict": predict, "latency": latency})
