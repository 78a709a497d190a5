"""One final recipe, run the honest way: choose on validation, score the test split once.

A sweep (`rnnlab.experiments.runner`) compares many models over repeated runs; a recipe
config is the opposite: a single, fully specified training run from the raw archive, meant
to be reproduced. Its config (TOML) has ``kind = "recipe"`` and these tables:

* ``[data]``: ``dataset``, ``tokenizer``, ``padding``, ``truncating``, ``validation_split``,
  ``seed``, ``limit`` (vocabulary size and maxlen come from the model);
* ``[model]``: `ModelSpec` fields (``pretrained_embeddings = "word2vec-imdb"`` starts the
  embedding from word2vec trained on the train + unsup reviews, never test; trained once and
  cached, see `rnnlab.text.word2vec`);
* ``[training]``: ``batch_size``, ``epochs``, ``buckets`` (length bucketing),
  ``schedule`` (``"cosine"`` or ``"constant"``), ``warmup_epochs``, ``final_rate`` (a
  fraction of the initial rate), ``patience`` (epochs without a better validation
  accuracy before stopping; the best epoch's weights are kept), ``members`` (train this many
  models from different seeds on the same split and average their probabilities: one saved
  Keras model whose output is the mean of its members');
* ``[selection]``: free text recording how the settings were chosen.

The validation split (carved from the training reviews) picks the epoch; the test split is
read once, after training, unless ``validation_only`` is set (for choosing settings).
"""

from __future__ import annotations

import json
import math
import os
import platform
import time
from pathlib import Path

from rnnlab.errors import InvalidInputError

DATA_KEYS = ("dataset", "tokenizer", "padding", "truncating", "validation_split", "seed", "limit")
TRAINING_KEYS = ("batch_size", "epochs", "buckets", "schedule", "warmup_epochs", "final_rate", "patience", "members")
SCHEDULES = ("cosine", "constant")


def _check(table: str, values: dict, known: tuple[str, ...]) -> None:
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise InvalidInputError(f"Unknown key(s) in [{table}]: {', '.join(unknown)}. Known: {', '.join(known)}.")


def learning_rate_callback(start: float, total_steps: int, *, warmup_steps: int = 0, final_rate: float = 0.1,
                           schedule: str = "cosine"):
    """A Keras callback setting the rate each step: linear warm-up, then cosine to ``start * final_rate``."""
    import keras

    class StepSchedule(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.step = 0

        def rate(self) -> float:
            if self.step < warmup_steps:
                return start * (self.step + 1) / warmup_steps
            if schedule == "constant":
                return start
            progress = min(1.0, (self.step - warmup_steps) / max(1, total_steps - warmup_steps))
            return start * (final_rate + (1 - final_rate) * 0.5 * (1 + math.cos(math.pi * progress)))

        def on_train_batch_begin(self, batch, logs=None):
            # On JAX the optimizer variables live outside the model during fit: sync first.
            if hasattr(self.model, "jax_state_sync"):
                self.model.jax_state_sync()
            self.model.optimizer.learning_rate.assign(self.rate())
            self.step += 1

    return StepSchedule()


def best_on_validation(patience: int | None):
    """Keep the weights of the epoch with the best validation accuracy (stop after `patience` worse ones)."""
    import keras

    return keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max", patience=patience or 10**6,
                                         restore_best_weights=True, verbose=0)


def machine() -> dict:
    import keras

    info = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "backend": keras.backend.backend()}
    try:
        import jax

        info["devices"] = [str(d) for d in jax.devices()]
    except Exception:  # noqa: BLE001 - device listing is informative only
        pass
    return info


def run_recipe(config: dict, out: Path, *, validation_only: bool = False, verbose: str | int = "auto") -> dict:
    """Train the recipe, save the bundle to ``out/bundle`` and return the results (also in ``out/results.json``)."""
    from rnnlab.models import ModelSpec, Recipe
    from rnnlab.train import fit, prepare_for

    data_cfg, model_cfg = dict(config.get("data", {})), dict(config.get("model", {}))
    training = dict(config.get("training", {}))
    _check("data", data_cfg, DATA_KEYS)
    _check("training", training, TRAINING_KEYS)
    if not model_cfg:
        raise InvalidInputError("A recipe config needs a [model] table of ModelSpec fields.")
    schedule = training.get("schedule", "cosine")
    if schedule not in SCHEDULES:
        raise InvalidInputError(f"[training] schedule must be one of {', '.join(SCHEDULES)}, got {schedule!r}.")
    spec = ModelSpec.from_dict({"name": config.get("name", "recipe"), **model_cfg})
    seed = int(data_cfg.pop("seed", 0))
    limit = data_cfg.pop("limit", None)
    recipe = Recipe(batch_size=int(training.get("batch_size", 64)), epochs=int(training.get("epochs", 4)),
                    source=str(config.get("name", "recipe")), **data_cfg)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    data = prepare_for(spec, recipe, seed=seed, limit=limit, cache=True)
    if data.x_val is None:
        raise InvalidInputError("A recipe chooses its epoch on a validation split: set [data] validation_split > 0.")
    data_seconds = time.perf_counter() - started
    test_x, test_y = data.x_test, data.y_test
    import dataclasses

    data = dataclasses.replace(data, x_test=None, y_test=None)  # not read until training is over
    buckets = training.get("buckets")
    steps = _steps_per_epoch(data, recipe.batch_size, buckets)
    rate = spec.learning_rate or 1e-3
    members = int(training.get("members", 1))
    if members < 1:
        raise InvalidInputError(f"[training] members must be at least 1, got {members}.")
    trained = []
    for k in range(members):
        callbacks = [learning_rate_callback(rate, steps * recipe.epochs,
                                            warmup_steps=round(steps * float(training.get("warmup_epochs", 0))),
                                            final_rate=float(training.get("final_rate", 0.1)), schedule=schedule),
                     best_on_validation(training.get("patience"))]
        member_spec = spec if members == 1 else spec.replace(name=f"{spec.name}_{k + 1}")
        trained.append(fit(member_spec, recipe, data, seed=seed + k, verbose=verbose, callbacks=callbacks,
                           buckets=buckets))
    result = trained[0] if members == 1 else _average(trained, spec)
    history = trained[0].history
    val_probs = _probabilities(result.model, spec, data.x_val, data)
    results = {
        "name": config.get("name", "recipe"),
        "params": result.params,
        "members": members,
        "validation_accuracy": round(float((val_probs.argmax(axis=1) == data.y_val).mean()), 5),
        "member_validation_accuracy": [round(max(t.history["val_accuracy"]), 5) for t in trained],
        "best_epoch": [1 + max(range(len(t.history["val_accuracy"])), key=t.history["val_accuracy"].__getitem__)
                       for t in trained],
        "epochs_run": [len(t.history["val_accuracy"]) for t in trained],
        "history": history if members == 1 else [t.history for t in trained],
        "train_examples": int(len(data.x_train)),
        "validation_examples": int(len(data.x_val)),
        "data_seconds": round(data_seconds, 1),
        "train_seconds": round(sum(t.train_seconds for t in trained), 1),
        "embeddings": trained[0].data_info.get("embeddings"),
        "machine": machine(),
        "config": config,
    }
    if not validation_only:
        test = _test_metrics(result.model, spec, test_x, test_y, data)
        results.update(test_accuracy=round(test["accuracy"], 5), test_examples=int(len(test_x)), test=test)
        result = dataclasses.replace(result, test=test)
        result.save(out / "bundle")
        results["bundle"] = str(out / "bundle")
        if members > 1:  # each member alone too: its attention weights can be shown (`rnnlab explain`)
            for k, member in enumerate(trained, start=1):
                member.save(out / "members" / str(k))
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    write_json(out / "results.json", results)
    return results


def _average(trained: list, spec):
    """One Keras model whose output is the mean of the members' outputs (saved and served as one)."""
    import dataclasses

    import keras

    inputs = keras.Input(shape=(None,), dtype="int32", name="tokens")
    outputs = keras.layers.Average(name="average")([t.model(inputs) for t in trained])
    model = keras.Model(inputs, outputs, name=f"{trained[0].model.name}_ensemble")
    seconds = sum(t.train_seconds for t in trained)
    return dataclasses.replace(trained[0], model=model, spec=spec, train_seconds=seconds)


def _probabilities(model, spec, x, data):
    """Class probabilities; a masked model is read in length buckets (exact, and far fewer steps)."""
    import numpy as np

    from rnnlab.bucketing import bucketed_outputs
    from rnnlab.evaluate import probabilities

    if not spec.mask_zero:
        return probabilities(model, x)
    probs = bucketed_outputs(lambda batch: np.asarray(model.predict_on_batch(batch)), x, 8, 256,
                             data.preprocessor.padding)
    return np.concatenate([1 - probs, probs], axis=1) if probs.shape[1] == 1 else probs


def _test_metrics(model, spec, x, y, data) -> dict:
    from rnnlab.evaluate import classification_metrics

    return classification_metrics(y, _probabilities(model, spec, x, data), data.class_names)


def _steps_per_epoch(data, batch_size: int, buckets) -> int:
    if not buckets:
        return math.ceil(len(data.x_train) / batch_size)
    from rnnlab.bucketing import bucket_lengths, bucketed_batches, sequence_lengths

    lengths = sequence_lengths(data.x_train)
    cuts = bucket_lengths(lengths, data.x_train.shape[1], buckets) if isinstance(buckets, int) else tuple(buckets)
    return len(bucketed_batches(lengths, cuts, batch_size))


def write_json(path: Path, data: dict) -> None:
    """Write JSON atomically: a reader never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)
