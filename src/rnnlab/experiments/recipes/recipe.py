"""One final recipe, run the honest way: choose on validation, score the test split once.

A sweep (`rnnlab.experiments.sweeps.runner`) compares many models over repeated runs; a recipe
config is the opposite: a single, fully specified training run from the raw archive, meant
to be reproduced. Its config (TOML) has ``kind = "recipe"`` and these tables:

* ``[data]``: ``dataset``, ``tokenizer``, ``padding``, ``truncating``, ``validation_split``,
  ``seed``, ``limit`` (vocabulary size and maxlen come from the model), and for a data file
  ``test`` (a separate test file), ``test_fraction``, ``text_column``, ``label_column``,
  ``field_columns``, ``label_separator`` (several labels a row: a multi-label model whose
  thresholds are tuned on the validation rows), ``numeric_labels`` (a number a row: a regression model),
  ``sheet`` (an Excel workbook's sheet);
* ``[model]``: `ModelSpec` fields (``pretrained_embeddings = "word2vec-imdb"`` starts the
  embedding from word2vec trained on the train + unsup reviews, never test; trained once and
  cached, see `rnnlab.text.word2vec`);
* ``[training]``: `TrainingConfig` fields (``batch_size``, ``epochs``, ``buckets``,
  ``schedule``, ``warmup_epochs``, ``decay_epochs``, ``final_rate``, ``members``,
  ``early_stopping``...); ``patience`` is short for ``early_stopping = {monitor =
  "val_accuracy", patience = N}``. A recipe defaults to a cosine schedule, batches of 64 and,
  when it has a validation split, keeping the epoch with the best validation accuracy;
* ``[selection]``: free text recording how the settings were chosen.

The validation split (carved from the training reviews) picks the epoch; the test split is
read once, after training, unless ``validation_only`` is set (for choosing settings).
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from rnnlab.configfile import check_keys
from rnnlab.errors import InvalidInputError
from rnnlab.models import ModelSpec, Recipe
from rnnlab.training import EarlyStopping, TrainingConfig
from rnnlab.training.engine import fit, prepare_for, score, score_test

DATA_KEYS = ("dataset", "tokenizer", "padding", "truncating", "validation_split", "seed", "limit", "test",
             "test_fraction", "text_column", "label_column", "field_columns", "label_separator", "numeric_labels",
             "sheet")
TOP_KEYS = ("kind", "name", "description", "data", "model", "training", "selection")
RECIPE_DEFAULTS = {"batch_size": 64, "schedule": "cosine"}


@dataclasses.dataclass
class RecipeParts:
    """A recipe config read into what the engine takes."""

    name: str
    spec: ModelSpec
    recipe: Recipe
    training: TrainingConfig
    limit: int | None


def recipe_parts(config: dict) -> RecipeParts:
    """Check a ``kind = "recipe"`` config and split it into spec, data recipe and training config."""
    check_keys("a recipe config", {k: v for k, v in config.items()}, TOP_KEYS)
    data_cfg = check_keys("[data]", config.get("data", {}), DATA_KEYS)
    model_cfg = dict(config.get("model", {}))
    if not model_cfg:
        raise InvalidInputError("A recipe config needs a [model] table of ModelSpec fields.")
    name = str(config.get("name", "recipe"))
    spec = ModelSpec.from_dict({"name": name, **model_cfg})
    seed = int(data_cfg.pop("seed", 0))
    limit = data_cfg.pop("limit", None)
    table = dict(config.get("training", {}))
    patience = table.pop("patience", None)
    settings = {**RECIPE_DEFAULTS, **table, "seed": seed}
    if "early_stopping" not in settings and data_cfg.get("validation_split", 0.2) > 0:
        settings["early_stopping"] = EarlyStopping("val_accuracy", "max", patience)
    training = TrainingConfig.from_dict(settings)
    recipe = Recipe(batch_size=training.batch_size, epochs=training.whole_epochs, source=name, **data_cfg)
    return RecipeParts(name, spec, recipe, training, limit)


def run_recipe(config: dict, out: Path, *, validation_only: bool = False, progress=None,
               verbose: str | int = "auto") -> dict:
    """Train the recipe, save the bundle to ``out/bundle`` and return its figures.

    The ``kind = "recipe"`` runner of `rnnlab.experiments.kinds`: run it through
    `run_config`, which writes ``out/results.json``.
    """
    parts = recipe_parts(config)
    spec, recipe, training = parts.spec, parts.recipe, parts.training
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    prepared = prepare_for(spec, recipe, seed=training.seed, limit=parts.limit, cache=True)
    data_seconds = time.perf_counter() - started
    data = dataclasses.replace(prepared, x_test=None, y_test=None)  # not read until training is over
    result = fit(spec, data, training, recipe=recipe, verbose=verbose)
    trained = result.members or [result]
    has_validation = data.x_val is not None and len(data.x_val) > 0
    results = {
        "name": parts.name,
        "params": result.params,
        "ensemble_members": training.members,
        "members": [{"epochs_run": len(t.history["loss"]), "validation_accuracy": max(t.history["val_accuracy"])
                     if t.history.get("val_accuracy") else None} for t in trained] if training.members > 1 else None,
        "train_examples": int(len(data.x_train)),
        "validation_examples": int(len(data.x_val)) if has_validation else 0,
        "epochs_run": [len(t.history["loss"]) for t in trained],
        "history": result.history if training.members == 1 else [t.history for t in trained],
        "data_seconds": round(data_seconds, 1),
        "train_seconds": round(result.train_seconds, 1),
        "embeddings": trained[0].data_info.get("embeddings"),
        "training": training.to_dict(),
        "config": config,
    }
    if has_validation:
        validation = score(result.model, result.spec, data, data.x_val, data.y_val, result.thresholds,
                           result.temperature, result.decision_threshold)
        if validation.get("regression"):  # a number a row: errors, the lowest validation loss
            results.update(validation_accuracy=None, validation_mae=round(validation["mae"], 5),
                           validation_r2=validation["r2"])
            results["best_epoch"] = [1 + min(range(len(t.history["val_loss"])), key=t.history["val_loss"].__getitem__)
                                     for t in trained]
        else:
            results["validation_accuracy"] = round(validation["accuracy"], 5)
            if validation.get("multi_label"):  # tuned on these rows, so an optimistic figure
                results["validation_macro_f1"] = round(validation["macro_f1"], 5)
            results["member_validation_accuracy"] = [round(max(t.history["val_accuracy"]), 5) for t in trained]
            chosen_by = "val_macro_f1" if "val_macro_f1" in result.history else "val_accuracy"  # label sets: F1
            results["best_epoch"] = [1 + max(range(len(t.history[chosen_by])),
                                             key=t.history[chosen_by].__getitem__) for t in trained]
    if not validation_only:
        test = score_test(result.model, result.spec, prepared, result.thresholds, result.temperature,
                          result.decision_threshold)
        results.update(test_accuracy=round(test["accuracy"], 5) if "accuracy" in test else None,
                       test_examples=int(len(prepared.x_test)), test=test)
        if test.get("regression"):
            results.update(test_mae=round(test["mae"], 5), test_rmse=round(test["rmse"], 5), test_r2=test["r2"])
        result = dataclasses.replace(result, test=test)
        result.save(out / "bundle")
        results["bundle"] = str(out / "bundle")
        if training.members > 1:  # each member alone too: its attention weights can be shown (`rnnlab explain`)
            for k, member in enumerate(trained, start=1):
                member.save(out / "members" / str(k))
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    return results
