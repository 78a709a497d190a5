"""Train a named model or a spec on a dataset with its recipe, and score it on the test split.

`train()` is the one-line path (`rnnlab train` calls it); `resolve()`, `prepare()` and `fit()`
are the pieces it is made of, for callers that share encoded data between models.
"""

from __future__ import annotations

import dataclasses
import json
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from rnnlab import __version__
from rnnlab._backend import backend_name
from rnnlab.data.numeric import is_sequence_source
from rnnlab.errors import InvalidInputError
from rnnlab.evaluate import evaluate
from rnnlab.models import ModelSpec, Recipe, get
from rnnlab.prepare import PreparedData, load_splits, prepare
from rnnlab.text import Preprocessor

SPEC_OVERRIDES = ("vocab_size", "maxlen", "optimizer", "learning_rate", "clipnorm", "stateful", "chunk_length")
RECIPE_OVERRIDES = tuple(f.name for f in dataclasses.fields(Recipe))


def resolve(model: str | Path | ModelSpec, **overrides) -> tuple[ModelSpec, Recipe]:
    """A (spec, recipe) pair from a model name, a spec JSON file or a spec, with overrides applied.

    Overrides set to None are ignored, so CLI options can be passed straight through. A JSON
    file is either a spec or a training config `{"spec": {...}, "recipe": {...}}`. Giving
    `chunk_length` makes the model stateful; a stateful model's fixed batch size is the
    `batch_size` option, else the spec's, else the recipe's.
    """
    if isinstance(model, ModelSpec):
        spec, recipe = model, Recipe()
    elif str(model).endswith(".json") or Path(str(model)).is_file():
        spec, recipe = load_config(model)
    else:
        named = get(str(model))
        spec, recipe = named.spec, named.recipe
    given = {k: v for k, v in overrides.items() if v is not None}
    unknown = set(given) - set(SPEC_OVERRIDES) - set(RECIPE_OVERRIDES)
    if unknown:
        raise TypeError(f"Unknown training option(s): {', '.join(sorted(unknown))}")
    spec_changes = {k: v for k, v in given.items() if k in SPEC_OVERRIDES}
    if "chunk_length" in spec_changes:
        spec_changes.setdefault("stateful", True)
    if spec_changes.get("stateful") is False:
        spec_changes.update(chunk_length=None, batch_size=None)
    spec = spec.replace(**spec_changes)
    recipe = dataclasses.replace(recipe, **{k: v for k, v in given.items() if k in RECIPE_OVERRIDES})
    if spec.stateful:
        fixed = given.get("batch_size") or spec.batch_size or recipe.batch_size
        spec, recipe = spec.replace(batch_size=fixed), dataclasses.replace(recipe, batch_size=fixed)
    return spec, recipe


def load_config(path: str | Path) -> tuple[ModelSpec, Recipe]:
    """A spec JSON file, or a training config `{"spec": {...}, "recipe": {...}}` (recipe optional)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InvalidInputError(f"Model spec file {path} does not exist.") from exc
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"{path} is not valid JSON: {exc}.") from exc
    if not (isinstance(data, dict) and "spec" in data):
        return ModelSpec.load(path), Recipe()
    extra = sorted(set(data) - {"spec", "recipe", "description"})
    recipe_data = data.get("recipe") or {}
    unknown = sorted(set(recipe_data) - set(RECIPE_OVERRIDES))
    if extra or unknown or not isinstance(data["spec"], dict):
        raise InvalidInputError(
            f"{path}: a training config holds 'spec' (ModelSpec fields), 'recipe' ({', '.join(RECIPE_OVERRIDES)}) "
            f"and 'description'; unexpected: {', '.join(extra + unknown) or 'a spec that is not an object'}.")
    return ModelSpec.from_dict(data["spec"]), Recipe(**recipe_data)


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
        verbose: str | int = "auto", callbacks=(), init_seed: int | None = None,
        buckets: int | tuple[int, ...] | None = None) -> TrainResult:
    """Build the spec (seeded), train it on prepared data, evaluate on its test split.

    `seed` drives everything by default. With `init_seed`, the model is built under
    `init_seed` and trained under `seed`: repeated runs can start from the same weights and
    still see the data in a different order. (Dropout layers draw their seeds when they are
    built, so their masks follow `init_seed`.)

    With `buckets` (a number of length buckets, or the bucket lengths), training batches hold
    reviews of similar length, each cut to its bucket (`rnnlab.bucketing`); the model then
    accepts any length, and validation, test and saved bundles still see `maxlen`.
    """
    keras.utils.set_random_seed(seed if init_seed is None else init_seed)
    if data.num_classes != spec.num_classes:
        spec = spec.replace(num_classes=data.num_classes)
    if spec.features is not None and data.info.get("features", spec.features) != spec.features:
        spec = spec.replace(features=data.info["features"])
    model = spec.build() if not buckets else _any_length(spec).build()
    info = dict(data.info)
    if spec.pretrained_embeddings:
        info["embeddings"] = _start_from_pretrained(model, spec, data.preprocessor,
                                                    seed if init_seed is None else init_seed)
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
    if spec.stateful:
        from rnnlab.stateful import fit_stateful

        history = fit_stateful(model, data.x_train, data.y_train, epochs=recipe.epochs, validation=validation,
                               callbacks=callbacks, verbose=verbose, seed=seed)
    elif buckets:
        from rnnlab.bucketing import BucketedBatches

        batches = BucketedBatches(data.x_train, data.y_train, batch_size=recipe.batch_size, buckets=buckets,
                                  padding=data.preprocessor.padding, seed=seed)
        history = model.fit(batches, epochs=recipe.epochs, validation_data=validation, callbacks=callbacks,
                            verbose=verbose)
    else:
        history = model.fit(data.x_train, data.y_train, batch_size=recipe.batch_size, epochs=recipe.epochs,
                            validation_data=validation, shuffle=True, callbacks=callbacks, verbose=verbose)
    seconds = time.perf_counter() - started
    test = None
    if data.x_test is not None and len(data.x_test):
        test = evaluate(model, data.x_test, data.y_test, data.class_names)
    logs = {k: [float(v) for v in values] for k, values in history.history.items()}
    return TrainResult(model, spec, recipe, data.preprocessor, data.class_names, logs, test, seconds, seed,
                       info, init_seed)


def _start_from_pretrained(model: keras.Model, spec: ModelSpec, preprocessor: Preprocessor, seed: int) -> dict:
    """Set the embedding to the spec's pre-trained vectors for the fitted vocabulary; return their coverage.

    Done here rather than in `ModelSpec.build` because the rows follow the vocabulary fitted on
    the training data; a saved bundle then holds the weights and never reads the vectors again.
    """
    from rnnlab.text.vectors import load_embedding_matrix
    from rnnlab.text.word2vec import PRETRAINED_NAMES, locate_vectors

    source = spec.pretrained_embeddings
    if source in PRETRAINED_NAMES and preprocessor.mode != "keras":
        raise InvalidInputError(f"{source!r} vectors are made of 'keras' tokens; this data is tokenized in "
                                f"{preprocessor.mode!r} mode, so its words would not match: use tokenizer 'keras'.")
    layers = [model.get_layer(f"{e.name}_embedding") for e in spec.inputs] or [model.get_layer("embedding")]
    dims = sorted({layer.output_dim for layer in layers})
    if len(dims) > 1:
        raise InvalidInputError(f"The encoders' embeddings have different widths {dims}: one set of pre-trained "
                                "vectors needs one embedding_dim.")
    matrix, coverage = load_embedding_matrix(locate_vectors(source, dims[0]), preprocessor.vocabulary, dim=dims[0],
                                             seed=seed)
    for layer in layers:
        if matrix.shape[0] != layer.input_dim:
            raise InvalidInputError(f"The vocabulary has {matrix.shape[0]:,} ids but the embedding {layer.name!r} "
                                    f"takes {layer.input_dim:,}: make ModelSpec.vocab_size match the data's.")
        layer.set_weights([matrix])
    found = coverage.to_dict()
    return {"source": source, "file": found.pop("source"), "trainable": spec.embedding_trainable, **found}


def _any_length(spec: ModelSpec) -> ModelSpec:
    """The spec with a variable-length input, for length-bucketed training."""
    if spec.architecture != "layers" or spec.stateful or spec.inputs or spec.features is not None:
        raise InvalidInputError(
            "Length bucketing needs a single token input read by Keras recurrent layers: it does not apply to "
            "cell-loop, stateful, numeric or multi-input models.")
    return spec.replace(maxlen=None)


def prepare_for(spec: ModelSpec, recipe: Recipe, *, seed: int = 0, limit: int | None = None,
                cache: bool = False) -> PreparedData:
    """Load the recipe's dataset and encode it the way `spec` and `recipe` ask.

    With `cache`, token datasets are encoded once and reloaded from disk afterwards (see `prepare`).
    """
    if spec.features is not None or is_sequence_source(recipe.dataset):
        from rnnlab.numeric import prepare_sequences_for

        return prepare_sequences_for(spec, recipe, seed=seed, limit=limit)
    train_set, test_set = load_splits(recipe.dataset, seed=seed, limit=limit)
    if spec.inputs:
        from rnnlab.fields import prepare_fields

        return prepare_fields(train_set, test_set, spec, mode=recipe.tokenizer, padding=recipe.padding,
                              truncating=recipe.truncating, validation_split=recipe.validation_split, seed=seed)
    return prepare(train_set, test_set, mode=recipe.tokenizer, vocab_size=spec.vocab_size, maxlen=spec.maxlen,
                   padding=recipe.padding, truncating=recipe.truncating,
                   validation_split=recipe.validation_split, length_rule=recipe.length_rule, seed=seed,
                   cache=cache)


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
