"""Train a named model or a spec on a dataset with its recipe, and score it on the test split.

`train()` is the one-line path (`rnnlab train` calls it); `resolve()`, `prepare()` and `fit()`
are the pieces it is made of, for callers that share encoded data between models.
"""

from __future__ import annotations

import dataclasses
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from rnnlab import __version__
from rnnlab._backend import backend_name
from rnnlab.evaluate import evaluate
from rnnlab.models import ModelSpec, Recipe, get
from rnnlab.prepare import PreparedData, load_splits, prepare
from rnnlab.text import Preprocessor

SPEC_OVERRIDES = ("vocab_size", "maxlen", "optimizer", "learning_rate", "clipnorm")
RECIPE_OVERRIDES = tuple(f.name for f in dataclasses.fields(Recipe))


def resolve(model: str | Path | ModelSpec, **overrides) -> tuple[ModelSpec, Recipe]:
    """A (spec, recipe) pair from a model name, a spec JSON file or a spec, with overrides applied.

    Overrides set to None are ignored, so CLI options can be passed straight through.
    """
    if isinstance(model, ModelSpec):
        spec, recipe = model, Recipe()
    elif str(model).endswith(".json") or Path(str(model)).is_file():
        spec, recipe = ModelSpec.load(model), Recipe()
    else:
        named = get(str(model))
        spec, recipe = named.spec, named.recipe
    given = {k: v for k, v in overrides.items() if v is not None}
    unknown = set(given) - set(SPEC_OVERRIDES) - set(RECIPE_OVERRIDES)
    if unknown:
        raise TypeError(f"Unknown training option(s): {', '.join(sorted(unknown))}")
    spec = spec.replace(**{k: v for k, v in given.items() if k in SPEC_OVERRIDES})
    recipe = dataclasses.replace(recipe, **{k: v for k, v in given.items() if k in RECIPE_OVERRIDES})
    return spec, recipe


def versions() -> dict[str, str]:
    found = {"rnnlab": __version__, "keras": keras.__version__, "numpy": np.__version__,
             "python": platform.python_version()}
    backend = backend_name()
    module = sys.modules.get(backend) or __import__(backend)
    found[backend] = getattr(module, "__version__", "unknown")
    return found


@dataclass
class TrainResult:
    """A trained model with everything needed to save, report or reload it."""

    model: keras.Model
    spec: ModelSpec
    recipe: Recipe
    preprocessor: Preprocessor
    class_names: tuple[str, ...]
    history: dict[str, list[float]]
    test: dict | None
    train_seconds: float
    seed: int
    data_info: dict = field(default_factory=dict)
    init_seed: int | None = None

    @property
    def params(self) -> int:
        return int(self.model.count_params())

    @property
    def test_accuracy(self) -> float | None:
        return self.test["accuracy"] if self.test else None

    def metrics(self) -> dict:
        """The content of a bundle's `metrics.json`."""
        return {
            "model": self.spec.name,
            "params": self.params,
            "history": self.history,
            "test": self.test,
            "train_seconds": round(self.train_seconds, 3),
            "epochs_run": len(next(iter(self.history.values()), [])),
            "seed": self.seed,
            "recipe": self.recipe.to_dict(),
            "data": self.data_info,
            "class_names": list(self.class_names),
            "backend": backend_name(),
            "versions": versions(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }

    def save(self, out: str | Path) -> Path:
        from rnnlab.bundle import save_bundle

        return save_bundle(self, out)


def fit(spec: ModelSpec, recipe: Recipe, data: PreparedData, *, seed: int = 0, early_stopping: int | None = None,
        verbose: str | int = "auto", callbacks=(), init_seed: int | None = None) -> TrainResult:
    """Build the spec (seeded), train it on prepared data, evaluate on its test split.

    `seed` drives everything by default. With `init_seed`, the model is built under
    `init_seed` and trained under `seed`: repeated runs can start from the same weights and
    still see the data in a different order. (Dropout layers draw their seeds when they are
    built, so their masks follow `init_seed`.)
    """
    keras.utils.set_random_seed(seed if init_seed is None else init_seed)
    if data.num_classes != spec.num_classes:
        spec = spec.replace(num_classes=data.num_classes)
    model = spec.build()
    if init_seed is not None:
        keras.utils.set_random_seed(seed)
    callbacks = list(callbacks)
    validation = (data.x_val, data.y_val) if data.x_val is not None and len(data.x_val) else None
    if early_stopping:
        monitor = "val_loss" if validation else "loss"
        callbacks.append(keras.callbacks.EarlyStopping(monitor=monitor, patience=early_stopping,
                                                       restore_best_weights=True))
    if verbose == "auto":
        verbose = 1 if sys.stdout.isatty() else 2
    started = time.perf_counter()
    history = model.fit(data.x_train, data.y_train, batch_size=recipe.batch_size, epochs=recipe.epochs,
                        validation_data=validation, shuffle=True, callbacks=callbacks, verbose=verbose)
    seconds = time.perf_counter() - started
    test = None
    if data.x_test is not None and len(data.x_test):
        test = evaluate(model, data.x_test, data.y_test, data.class_names)
    logs = {k: [float(v) for v in values] for k, values in history.history.items()}
    return TrainResult(model, spec, recipe, data.preprocessor, data.class_names, logs, test, seconds, seed,
                       dict(data.info), init_seed)


def prepare_for(spec: ModelSpec, recipe: Recipe, *, seed: int = 0, limit: int | None = None) -> PreparedData:
    """Load the recipe's dataset and encode it the way `spec` and `recipe` ask."""
    train_set, test_set = load_splits(recipe.dataset, seed=seed, limit=limit)
    return prepare(train_set, test_set, mode=recipe.tokenizer, vocab_size=spec.vocab_size, maxlen=spec.maxlen,
                   padding=recipe.padding, truncating=recipe.truncating,
                   validation_split=recipe.validation_split, length_rule=recipe.length_rule, seed=seed)


def train(model: str | Path | ModelSpec, *, out: str | Path | None = None, seed: int = 0,
          limit: int | None = None, early_stopping: int | None = None, verbose: str | int = "auto",
          data: PreparedData | None = None, **overrides) -> TrainResult:
    """Train `model` (a name, a spec file or a `ModelSpec`) with its recipe; save a bundle to `out`.

    Example:

    >>> result = train("lstm", epochs=1, limit=2000)
    >>> result.test_accuracy
    """
    spec, recipe = resolve(model, **overrides)
    if data is None:
        data = prepare_for(spec, recipe, seed=seed, limit=limit)
    result = fit(spec, recipe, data, seed=seed, early_stopping=early_stopping, verbose=verbose)
    if out is not None:
        result.save(out)
    return result
