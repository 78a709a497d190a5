"""The one training engine: any spec, on any prepared data, under one `TrainingConfig`.

`train()` is the one-line path (`rnnlab train` calls it): a named model or spec file with its
recipe. `fit(spec, data, config)` is the engine every other path uses (sweeps, recipes,
searches, fine-tuning): it builds the model under the config's seed, starts pre-trained
embeddings, compiles the optimizer with its Keras learning-rate schedule, trains with the
strategy the spec and config call for, and scores the test split. Strategies, not loops of
their own:

* plain batches, or **length buckets** (:class:`rnnlab.encoding.bucketing.BucketedBatches`);
* **stateful chunks** (:func:`rnnlab.training.stateful.fit_stateful`) for a stateful spec;
* **ensembles**: ``members`` models from consecutive seeds, averaged into one Keras model;
* **early stopping / best-epoch restore**: Keras' ``EarlyStopping`` with the config's monitor;
* **gradual unfreezing** and **language-model pre-training** (:mod:`rnnlab.training.finetune`)
  call :func:`train_model`, the loop below ``fit``, once per stage with their own optimizer.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from rnnlab import _interrupt, progress
from rnnlab._backend import backend_name
from rnnlab.environment import versions
from rnnlab.data import load_unlabelled
from rnnlab.data.numeric import is_sequence_source
from rnnlab.data.profile import profile
from rnnlab.data.tables import source_name
from rnnlab.encoding.bucketing import (
    ArrayBatches,
    BucketedBatches,
    WithUnlabelled,
    bucket_lengths,
    bucketed_batches,
    sequence_lengths,
)
from rnnlab.encoding.fields import prepare_fields
from rnnlab.encoding.prepare import PreparedData, load_splits, prepare
from rnnlab.encoding.sequences import prepare_sequences_for
from rnnlab.errors import InvalidInputError, unknown_name
from rnnlab.models import ModelSpec, Recipe
from rnnlab.models.builder import compile_metrics, make_optimizer as make_spec_optimizer
from rnnlab.models.modes import NamedFields, NumericSteps, TokenIds
from rnnlab.text import Preprocessor
from rnnlab.text.vectors import load_embedding_matrix
from rnnlab.text.word2vec import PRETRAINED_NAMES, locate_vectors
from rnnlab.training.config import (  # noqa: F401  (resolve and friends re-exported: the 0.1 API)
    RECIPE_OVERRIDES,
    SPEC_OVERRIDES,
    TrainingConfig,
    config_from_recipe,
    read_training_config,
    resolve,
)
from rnnlab.training.linear import token_ratios
from rnnlab.training.calibration import FLAT_TEMPERATURE, calibration_error, fit_temperature, scale, temperature_of
from rnnlab.training.metrics import evaluate, probabilities, tune_decision_threshold, tune_thresholds
from rnnlab.training.objectives import Objectives, objective_model
from rnnlab.training.saving import save_bundle
from rnnlab.training.stateful import fit_stateful, is_stateful


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
    config: TrainingConfig | None = None
    members: list["TrainResult"] | None = None
    notes: dict = field(default_factory=dict)  # more entries for metrics.json (e.g. what `train auto` chose)

    @property
    def params(self) -> int:
        return int(self.model.count_params())

    @property
    def test_accuracy(self) -> float | None:
        return self.test.get("accuracy") if self.test else None  # a regression has none (see test["mae"])

    @property
    def thresholds(self) -> np.ndarray | None:
        """A multi-label model's threshold per label (in ``class_names`` order), tuned on the validation rows."""
        found = self.notes.get("thresholds")
        return None if found is None else np.asarray([found[name] for name in self.class_names])

    @property
    def temperature(self):
        """The temperature its probabilities are scaled by (`rnnlab.training.calibration`), fitted on the
        validation rows: a float, an array per label for label sets, None when there were no validation rows."""
        return temperature_of(self.notes, self.class_names)

    @property
    def decision_threshold(self) -> float | None:
        """For two classes trained with ``decision_threshold``, the positive class's threshold; else None."""
        return self.notes.get("decision_threshold")

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
            "training": self.config.to_dict() if self.config is not None else None,
            "data": self.data_info,
            "class_names": list(self.class_names),
            "backend": backend_name(),
            "versions": versions(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            **self.notes,
        }

    def save(self, out: str | Path) -> Path:
        """Write this result as a bundle folder (see :mod:`rnnlab.training.saving`)."""
        return save_bundle(self, out)


def fit(spec: ModelSpec, data, config: TrainingConfig | None = None, *legacy, recipe: Recipe | None = None,
        callbacks=(), verbose: str | int = "auto", **legacy_options) -> TrainResult:
    """Build ``spec``, train it on prepared ``data`` under ``config``, score ``data``'s test split.

    Args:
        spec: the architecture.
        data: a :class:`rnnlab.encoding.PreparedData` (its test split, when present, is
            scored once after training).
        config: the :class:`TrainingConfig` (default: its defaults).
        recipe: the data recipe the data was prepared with, recorded in the bundle.
        callbacks: more Keras callbacks.
        verbose: Keras verbosity; ``"auto"`` is a progress bar on a terminal, a line per epoch otherwise.

    With ``config.members > 1``, members are trained from seeds ``seed, seed + 1, ...`` and
    averaged into one model; ``result.members`` holds each of them.
    """
    if isinstance(data, Recipe):  # 0.1's fit(spec, recipe, data, seed=..., early_stopping=..., ...)
        warnings.warn("fit(spec, recipe, data, ...) is deprecated: call fit(spec, data, TrainingConfig(...), "
                      "recipe=recipe).", DeprecationWarning, stacklevel=2)
        recipe, data = data, config
        config = config_from_recipe(recipe, **{k: v for k, v in legacy_options.items() if v is not None})
        legacy_options = {}
    if legacy or legacy_options:
        raise TypeError(f"fit() got unexpected arguments: {', '.join(map(str, [*legacy, *legacy_options]))}.")
    config = config or TrainingConfig()
    recipe = recipe or Recipe(epochs=config.whole_epochs, batch_size=config.batch_size)
    if spec.stateful and backend_name() == "torch":
        # Keras' torch backend updates the carried state in place, which autograd refuses in backward.
        raise InvalidInputError("Stateful (chunked) training does not run on Keras' torch backend; train with "
                                "KERAS_BACKEND=jax. The bundle it makes then predicts and serves on torch too.")
    if getattr(data, "x_unlabelled", None) is not None and not Objectives.of(config).unlabelled:
        raise InvalidInputError("Unlabelled texts are read by the virtual adversarial and entropy objectives; set "
                                "virtual_adversarial or entropy (--virtual-adversarial, --entropy), or leave them out.")
    if getattr(data, "numeric", False):
        spec = regression_spec(spec, data, config)
        stopping = config.early_stopping
        if stopping is not None and not any(word in stopping.monitor for word in ("loss", "mae")):
            # A recipe's "best validation accuracy": a regression's counterpart is its validation loss.
            config = config.replace(early_stopping=dataclasses.replace(stopping, monitor="val_loss", mode="min"))
    elif spec.regression:
        raise InvalidInputError(f"The spec {spec.name!r} predicts a number, but these labels are classes: train it on "
                                "a numeric label column (numeric_labels, --numeric-labels).")
    if data.num_classes != spec.num_classes:
        spec = spec.replace(num_classes=data.num_classes)
    if data.multi_label != spec.multi_label:
        spec = spec.replace(multi_label=data.multi_label)
    check_decision_threshold(config.decision_threshold, data)
    if spec.multi_label and spec.nb_features:
        raise InvalidInputError("nb_features weighs tokens by one label against the rest; with several labels a row "
                                "leave it out.")
    if spec.features is not None and data.info.get("features", spec.features) != spec.features:
        spec = spec.replace(features=data.info["features"])
    if config.members > 1:
        unscored = dataclasses.replace(data, x_test=None, y_test=None)  # the test split is read once, by the average
        members = [_fit_one(spec.replace(name=f"{spec.name}_{k + 1}"), unscored,
                            config.replace(seed=config.seed + k, members=1), recipe, callbacks, verbose)
                   for k in range(config.members)]
        model = average_members([m.model for m in members])
        settled = calibrate(model, spec, data, config)
        test = score_test(model, spec, data, settled.thresholds, settled.temperature, settled.decision_threshold)
        seconds = sum(m.train_seconds for m in members)
        return dataclasses.replace(members[0], model=model, spec=spec, config=config, test=test,
                                   train_seconds=seconds, members=members,
                                   notes={**members[0].notes, **settled.notes})
    return _fit_one(spec, data, config, recipe, callbacks, verbose)


def regression_spec(spec: ModelSpec, data, config: TrainingConfig) -> ModelSpec:
    """``spec`` with a regression head scaled to ``data``'s training targets (their mean and spread), after refusing
    what applies to classes only (the spec itself refuses NB ratios and a cell loop)."""
    refused = [name for name, on in (("stateful chunks", spec.stateful),
                                     ("class_weight", config.class_weight is not None),
                                     ("decision_threshold", config.decision_threshold is not None),
                                     ("virtual_adversarial", bool(config.virtual_adversarial)),
                                     ("entropy", bool(config.entropy))) if on]
    if refused:
        raise InvalidInputError(f"A numeric target trains a regression head; {', '.join(refused)} "
                                f"{'applies' if len(refused) == 1 else 'apply'} to classes only: leave "
                                f"{'it' if len(refused) == 1 else 'them'} out.")
    y = np.asarray(data.y_train, dtype="float64")
    spread = float(y.std())
    return spec.replace(regression=True, num_classes=1, multi_label=False, target_mean=round(float(y.mean()), 6),
                        target_scale=round(spread, 6) if spread > 0 else 1.0)


def _fit_one(spec: ModelSpec, data, config: TrainingConfig, recipe: Recipe, callbacks, verbose) -> TrainResult:
    if config.distribution is None:
        return _fit_here(spec, data, config, recipe, callbacks, verbose)
    with distribution_scope(config) as data_for:
        unscored = data_for(dataclasses.replace(data, x_test=None, y_test=None))
        result = _fit_here(spec, unscored, config, recipe, callbacks, verbose)
    # Scored outside the scope: the test rows need not split evenly across the devices.
    return dataclasses.replace(result, test=score_test(result.model, spec, data, result.thresholds, result.temperature,
                                                       result.decision_threshold))


@contextlib.contextmanager
def distribution_scope(config: TrainingConfig):
    """Build and train under the config's distribution; yields how to trim data to fit it.

    ``"data_parallel"`` is Keras' ``DataParallel`` over every device JAX sees: variables are
    replicated and each batch is split across the devices. Every batch must split evenly, so
    the batch size must be a multiple of the device count and the training and validation
    rows are cut to a multiple of it (at most ``devices - 1`` rows left out).
    """
    if config.distribution is None:
        yield lambda data: data
        return
    if backend_name() != "jax":
        raise InvalidInputError("distribution = \"data_parallel\" runs on JAX (KERAS_BACKEND=jax). On torch, "
                                "train one process per GPU with torch.distributed; see docs/scale-out.md.")
    devices = keras.distribution.list_devices()
    if config.batch_size % len(devices):
        raise InvalidInputError(f"Data-parallel training splits each batch across {len(devices)} devices: "
                                f"batch_size {config.batch_size} must be a multiple of {len(devices)}.")
    if config.buckets:
        raise InvalidInputError("Data-parallel training needs batches that split evenly across devices; length "
                                "buckets make uneven ones. Leave out buckets.")

    def trim(data):
        def cut(x):
            if x is None:
                return None
            rows = _rows(x) - _rows(x) % len(devices)
            return {k: v[:rows] for k, v in x.items()} if isinstance(x, dict) else x[:rows]

        return dataclasses.replace(data, x_train=cut(data.x_train), y_train=cut(data.y_train),
                                   x_val=cut(data.x_val), y_val=cut(data.y_val))

    previous = keras.distribution.distribution()
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
    try:
        yield trim
    finally:
        keras.distribution.set_distribution(previous)


def _fit_here(spec: ModelSpec, data, config: TrainingConfig, recipe: Recipe, callbacks, verbose) -> TrainResult:
    seed, init_seed = config.seed, config.init_seed
    keras.utils.set_random_seed(seed if init_seed is None else init_seed)
    built = spec if not config.buckets else _any_length(spec)
    objectives = Objectives.of(config)
    if objectives.active and spec.stateful:
        raise InvalidInputError("The adversarial and entropy objectives train whole sequences; a stateful model "
                                "reads chunks. Leave out stateful or the objectives.")
    model = built.build(compile=False, perturbable=objectives.perturbs)
    info = dict(data.info)
    if spec.pretrained_embeddings:
        info["embeddings"] = _start_from_pretrained(model, spec, data.preprocessor,
                                                    seed if init_seed is None else init_seed)
    if spec.nb_features:
        info["nb_features"] = _set_nb_ratios(model, spec, data)
    if init_seed is not None:
        keras.utils.set_random_seed(seed)
    trained = objective_model(model, config, spec.loss_name)
    trained.compile(optimizer=make_optimizer(spec, config, steps_per_epoch(data, config)), loss=spec.loss_name,
                    metrics=compile_metrics(spec))
    started = time.perf_counter()
    history = train_model(trained, data, config, callbacks=callbacks, verbose=verbose)
    seconds = time.perf_counter() - started
    if objectives.perturbs:
        # The same weights in the spec's own model: a bundle holds no training-only layer.
        plain = built.build(compile=False)
        plain.set_weights(model.get_weights())
        plain.compile(loss=spec.loss_name, metrics=compile_metrics(spec))
        model = plain
    settled = calibrate(model, spec, data, config)
    test = score_test(model, spec, data, settled.thresholds, settled.temperature, settled.decision_threshold)
    return TrainResult(model, spec, recipe, data.preprocessor, data.class_names, history, test, seconds, seed, info,
                       init_seed, config, notes=settled.notes)


def make_optimizer(spec: ModelSpec, config: TrainingConfig, steps: int):
    """The config's optimizer (else the spec's) with its learning-rate schedule over ``steps`` per epoch."""
    name = config.optimizer or spec.optimizer
    base = make_spec_optimizer(spec.replace(optimizer=name, learning_rate=None, clipnorm=None))  # checks the name
    peak = config.learning_rate or spec.learning_rate or float(keras.ops.convert_to_numpy(base.learning_rate))
    clipnorm = config.clipnorm if config.clipnorm is not None else spec.clipnorm
    options = {"clipnorm": clipnorm} if clipnorm is not None else {}
    return type(base)(learning_rate=config.learning_rate_schedule(peak, steps), **options)


def steps_per_epoch(data, config: TrainingConfig) -> int:
    """Optimizer steps in one epoch over ``data.x_train`` (bucketed batches counted as they are drawn)."""
    x = data.x_train
    if not config.buckets:
        return max(1, math.ceil(_rows(x) / config.batch_size))
    lengths = sequence_lengths(x)
    buckets = config.buckets
    cuts = bucket_lengths(lengths, x.shape[1], buckets) if isinstance(buckets, int) else tuple(buckets)
    return len(bucketed_batches(lengths, cuts, config.batch_size))


def train_model(model, data, config: TrainingConfig, *, callbacks=(), verbose: str | int = "auto"
                ) -> dict[str, list[float]]:
    """The training loop of every strategy, on a compiled model: returns the per-epoch logs.

    Stateful models read chunk by chunk (:func:`fit_stateful`); with ``config.buckets`` batches
    hold rows of similar length cut to their bucket; a fractional ``epochs`` trains on that
    share of a shuffled pass; otherwise this is Keras' ``fit``. ``config.early_stopping`` adds
    Keras' ``EarlyStopping`` with its monitor, mode and best-epoch restore.
    """
    callbacks = [*callbacks, InterruptCheck()]
    validation = (data.x_val, data.y_val) if data.x_val is not None and _rows(data.x_val) else None
    if config.early_stopping is not None:
        callbacks.append(config.early_stopping.callback(validation is not None))
    if verbose == "auto":
        # rnnlab.progress draws the epochs on stderr (bars on a terminal, lines in a log, nothing
        # with RNNLAB_PROGRESS=0); Keras' own lines would go to stdout, where --json output goes.
        verbose = 0
        if progress.mode() != "off":
            callbacks.append(EpochProgress())
    epochs = config.whole_epochs
    if not float(config.epochs).is_integer() and (config.buckets or is_stateful(model)):
        raise InvalidInputError(f"epochs={config.epochs} is a fraction of a pass; length-bucketed and stateful "
                                "training run whole epochs.")
    # Unlabelled rows ride beside each batch when an objective reads them (`rnnlab.training.objectives`).
    unlabelled = getattr(data, "x_unlabelled", None) is not None and Objectives.of(config).unlabelled
    weights = class_weights(config.class_weight, data)
    if weights is not None and is_stateful(model):
        raise InvalidInputError("class_weight does not apply to stateful (chunked) training; leave one of them out.")
    if unlabelled and not float(config.epochs).is_integer():
        raise InvalidInputError(f"epochs={config.epochs} is a fraction of a pass; training with unlabelled texts "
                                "runs whole epochs.")
    try:
        if is_stateful(model):
            history = fit_stateful(model, data.x_train, data.y_train, epochs=epochs, validation=validation,
                                   callbacks=callbacks, verbose=verbose, seed=config.seed)
        elif config.buckets or unlabelled:
            if config.buckets:
                buckets = tuple(config.buckets) if not isinstance(config.buckets, int) else config.buckets
                batches = BucketedBatches(data.x_train, data.y_train, batch_size=config.batch_size,
                                          buckets=buckets, padding=data.preprocessor.padding, seed=config.seed)
            else:
                batches = ArrayBatches(data.x_train, data.y_train, config.batch_size, seed=config.seed)
            if unlabelled:
                batches = WithUnlabelled(batches, data.x_unlabelled, data.preprocessor.padding, seed=config.seed)
            history = model.fit(batches, epochs=epochs, validation_data=validation, callbacks=callbacks,
                                verbose=verbose, class_weight=weights)
        elif not float(config.epochs).is_integer():
            rows = pass_rows(_rows(data.x_train), config.epochs, np.random.default_rng(config.seed))
            x = {k: v[rows] for k, v in data.x_train.items()} if isinstance(data.x_train, dict) else data.x_train[rows]
            history = model.fit(x, data.y_train[rows], batch_size=config.batch_size, epochs=1, shuffle=False,
                                validation_data=validation, callbacks=callbacks, verbose=verbose,
                                class_weight=weights)
        else:
            history = model.fit(data.x_train, data.y_train, batch_size=config.batch_size, epochs=epochs,
                                validation_data=validation, shuffle=True, callbacks=callbacks, verbose=verbose,
                                class_weight=weights)
    finally:
        for callback in callbacks:
            if isinstance(callback, EpochProgress):
                callback.close()
    return {k: [float(v) for v in values] for k, values in history.history.items()}


def class_weights(setting, data) -> dict[int, float] | None:
    """Keras' ``class_weight`` for ``setting`` (`TrainingConfig.class_weight`) on ``data``'s training labels."""
    if setting is None:
        return None
    if data.multi_label:
        raise InvalidInputError("class_weight weighs one label a text; with several labels a text use the loss "
                                "binary_focal_crossentropy instead.")
    names = tuple(data.class_names)
    if setting == "balanced":
        counts = np.bincount(np.asarray(data.y_train).reshape(-1).astype(int), minlength=len(names))
        present = counts > 0
        return {int(c): float(len(data.y_train) / (present.sum() * counts[c])) for c in np.flatnonzero(present)}
    found = {c: 1.0 for c in range(len(names))}
    for key, weight in setting.items():
        if str(key) in names:
            found[names.index(str(key))] = float(weight)
        elif str(key).isdigit() and int(key) < len(names):
            found[int(key)] = float(weight)
        else:
            raise unknown_name("class in class_weight", str(key), names)
    return found


class InterruptCheck(keras.callbacks.Callback):
    """Raise a Ctrl-C that JAX's array conversion swallowed, at the next batch (see `rnnlab._interrupt`).

    It checks as a batch begins, not as one ends: a callback with a batch-end hook that is not
    `async_safe` makes Keras turn every batch's logs into Python numbers on the spot, which waits
    for the batch to finish before the next is sent. Measured on the textbook LSTM (5,000
    reviews, second epoch, two rounds, load average 1.3-1.7): 932-963 samples/s on Keras' layers
    with an empty batch-end hook against 1,189-1,196 with a batch-begin one; 1,964-2,015 against
    2,202-2,364 with rnnlab's recurrent kernels.
    """

    def on_train_batch_begin(self, batch, logs=None):
        _interrupt.check()

    def on_test_batch_begin(self, batch, logs=None):
        _interrupt.check()

    def on_epoch_end(self, epoch, logs=None):
        _interrupt.check()


class EpochProgress(keras.callbacks.Callback):
    """Feed Keras' epochs and batches to `rnnlab.progress.Epochs`, which draws them on stderr.

    `async_safe`: Keras hands its batch-end calls to a thread, with the logs, so drawing never
    holds up the next batch (`Epochs.batch_end` takes a lock).
    """

    async_safe = True

    def on_train_begin(self, logs=None):
        self._shown = progress.Epochs()
        self._shown.begin(self.params.get("epochs"), self.params.get("steps"))

    def on_epoch_begin(self, epoch, logs=None):
        self._shown.epoch_begin(epoch)

    def on_train_batch_end(self, batch, logs=None):
        self._shown.batch_end(logs)

    def on_epoch_end(self, epoch, logs=None):
        self._shown.epoch_end(epoch, logs)

    def on_train_end(self, logs=None):
        self.close()

    def close(self) -> None:
        shown = getattr(self, "_shown", None)
        if shown is not None:
            shown.close()


def pass_rows(n: int, epochs: float, rng: np.random.Generator) -> np.ndarray:
    """Row indices for one pass over ``epochs`` times the data (a fraction, or more than 1)."""
    count = max(1, int(round(n * epochs)))
    return np.concatenate([rng.permutation(n) for _ in range(math.ceil(count / n))])[:count]


def average_members(models: list) -> keras.Model:
    """One Keras model whose output is the mean of the members' outputs (saved and served as one)."""
    inputs = [keras.Input(shape=t.shape[1:], dtype=t.dtype, name=t.name.split(":")[0]) for t in models[0].inputs]
    feed = inputs[0] if len(inputs) == 1 else {t.name: t for t in inputs}
    outputs = keras.layers.Average(name="average")([m(feed) for m in models])
    return keras.Model(inputs if len(inputs) > 1 else inputs[0], outputs, name=f"{models[0].name}_ensemble")


def _rows(x) -> int:
    return len(next(iter(x.values()))) if isinstance(x, dict) else len(x)


def score(model, spec: ModelSpec, data, x, y, thresholds=None, temperature=None, decision_threshold=None) -> dict:
    """Metrics of ``model`` on rows ``x, y`` of ``data``, read the way prediction reads them: probabilities
    scaled by ``temperature``, label sets decided by ``thresholds`` (default 0.5 each), two classes by
    ``decision_threshold`` (default: the more probable)."""
    return evaluate(model, x, y, data.class_names, spec=spec, padding=getattr(data.preprocessor, "padding", None),
                    thresholds=thresholds, temperature=temperature, decision_threshold=decision_threshold)


def score_test(model, spec: ModelSpec, data, thresholds=None, temperature=None, decision_threshold=None) -> dict | None:
    """Test metrics, when the data carries a test split (read once, after training), with what `calibrate`
    settled on the validation rows."""
    if data.x_test is None or not _rows(data.x_test):
        return None
    return score(model, spec, data, data.x_test, data.y_test, thresholds, temperature, decision_threshold)


@dataclass
class Settled:
    """What `calibrate` decides on the validation rows after training."""

    temperature: float | np.ndarray | None
    thresholds: np.ndarray | None
    notes: dict  # for metrics.json: calibration, a multi-label model's thresholds, a decision threshold
    decision_threshold: float | None = None


def calibrate(model, spec: ModelSpec, data, config: TrainingConfig | None = None) -> Settled:
    """The temperature that calibrates ``model``'s probabilities and, for label sets, each label's threshold
    (the best F1 on the scaled probabilities), both from the validation rows; for two classes, the
    config's ``decision_threshold`` (tuned on the scaled probabilities when it is ``"tune"``). Without
    validation rows: no scaling and thresholds of 0.5."""
    if getattr(data, "numeric", False):
        return Settled(None, None, {"regression": True})
    multi = bool(data.multi_label)
    asked = None if config is None else config.decision_threshold  # checked by `fit` before training
    if data.x_val is None or not _rows(data.x_val):
        thresholds = np.full(data.num_classes, 0.5) if multi else None
        notes = {"calibration": {"temperature": None, "fitted_on": "nothing: no validation rows"},
                 **_threshold_notes(thresholds, data)}
        if asked is not None:
            notes["decision_threshold"] = float(asked)
        return Settled(None, thresholds, notes, None if asked is None else float(asked))
    padding = getattr(data.preprocessor, "padding", None)
    probs = probabilities(model, data.x_val, spec=spec, padding=padding)
    temperature = fit_temperature(data.y_val, probs, multi)
    scaled = scale(probs, temperature, multi)
    thresholds = tune_thresholds(data.y_val, scaled) if multi else None
    notes = {"calibration": {
        "temperature": ({name: round(float(t), 6) for name, t in zip(data.class_names, temperature)} if multi
                        else round(float(temperature), 6)),
        "fitted_on": f"{_rows(data.x_val):,} validation rows",
        "validation_ece": {"before": round(calibration_error(data.y_val, probs, multi), 6),
                           "after": round(calibration_error(data.y_val, scaled, multi), 6)}}}
    if not multi and float(temperature) >= FLAT_TEMPERATURE:
        notes["calibration"]["warning"] = (
            f"the temperature fitted on the validation rows is {float(temperature):.1f}, the top of its range: the "
            "model's probabilities carried almost no information there, so they were flattened towards the class "
            "shares. It learnt little; train longer, on more rows, or check the labels.")
    notes.update(_threshold_notes(thresholds, data))
    decision = None
    if asked is not None:
        decision = tune_decision_threshold(data.y_val, scaled) if asked == "tune" else float(asked)
        notes["decision_threshold"] = decision
    # Read back as stored (rounded), so that training scores what a loaded bundle predicts.
    return Settled(temperature_of(notes, data.class_names), thresholds, notes, decision)


def check_decision_threshold(asked, data) -> None:
    """Refuse a ``decision_threshold`` the data cannot take (`fit` checks it before training)."""
    if asked is None:
        return
    if data.multi_label or data.num_classes != 2:
        raise InvalidInputError(f"decision_threshold applies to two classes, one a text; this data has "
                                f"{'label sets' if data.multi_label else f'{data.num_classes} classes'}: leave it out.")
    if asked == "tune" and (data.x_val is None or not _rows(data.x_val)):
        raise InvalidInputError("decision_threshold 'tune' chooses the threshold on validation rows, and this run "
                                "has none: set a validation split, or give the threshold as a number.")


def _threshold_notes(thresholds, data) -> dict:
    """What a bundle's metrics.json keeps of the thresholds (every prediction reads them back)."""
    if thresholds is None:
        return {}
    return {"multi_label": True, "thresholds": {name: float(t) for name, t in zip(data.class_names, thresholds)}}


def _start_from_pretrained(model: keras.Model, spec: ModelSpec, preprocessor: Preprocessor, seed: int) -> dict:
    """Set the embedding to the spec's pre-trained vectors for the fitted vocabulary; return their coverage.

    Done here rather than in `ModelSpec.build` because the rows follow the vocabulary fitted on
    the training data; a saved bundle then holds the weights and never reads the vectors again.
    """
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


def _set_nb_ratios(model: keras.Model, spec: ModelSpec, data) -> dict:
    """Fill each ``nb_ratios`` embedding with its input's naive-Bayes ratios from the training rows and labels."""
    inputs = data.x_train if isinstance(data.x_train, dict) else {"": data.x_train}
    labels = np.asarray(data.y_train).reshape(-1)
    largest = 0.0
    for name, ids in inputs.items():
        ratios = token_ratios(ids, labels, spec.vocab_size, spec.num_classes)
        model.get_layer(f"{name}_nb_ratios" if name else "nb_ratios").set_weights([ratios])
        largest = max(largest, float(np.abs(ratios).max()))
    return {"source": "naive-Bayes log-count ratios of the training rows", "largest": round(largest, 4)}


def _any_length(spec: ModelSpec) -> ModelSpec:
    """The spec with a variable-length input, for length-bucketed training."""
    if spec.architecture != "layers" or spec.chunks is not None or not isinstance(spec.input_mode, TokenIds):
        raise InvalidInputError(
            "Length bucketing needs a single token input read by Keras recurrent layers: it does not apply to "
            "cell-loop, stateful, numeric or multi-input models.")
    return spec.replace(maxlen=None)


def prepare_for(spec: ModelSpec, recipe: Recipe, *, seed: int = 0, limit: int | None = None,
                cache: bool = False, with_test: bool = True) -> PreparedData:
    """Load the recipe's dataset and encode it the way `spec` and `recipe` ask.

    With `cache`, token datasets are encoded once and reloaded from disk afterwards (see `prepare`).
    With ``with_test=False`` no test data is opened and ``x_test`` is None (choosing settings).
    """
    mode = spec.input_mode
    if isinstance(mode, NumericSteps) or is_sequence_source(recipe.dataset):
        return prepare_sequences_for(spec, recipe, seed=seed, limit=limit)
    train_set, test_set = load_splits(recipe.dataset, seed=seed, limit=limit, with_test=with_test,
                                      **recipe.source_options())
    if isinstance(mode, NamedFields):
        data = prepare_fields(train_set, test_set, spec, mode=recipe.tokenizer, padding=recipe.padding,
                              truncating=recipe.truncating, validation_split=recipe.validation_split, seed=seed)
    else:
        data = prepare(train_set, test_set, mode=recipe.tokenizer, vocab_size=spec.vocab_size, maxlen=spec.maxlen,
                       padding=recipe.padding, truncating=recipe.truncating,
                       validation_split=recipe.validation_split, length_rule=recipe.length_rule, seed=seed,
                       cache=cache)
    data.info.update(describe_source(train_set, test_set))
    if recipe.unlabelled:
        if isinstance(mode, NamedFields):
            raise InvalidInputError("Unlabelled texts feed a model reading one text; this one reads fields.")
        data = add_unlabelled(data, recipe.unlabelled, recipe.unlabelled_column)
    return data


def add_unlabelled(data: PreparedData, source: str, column: str | None = None, texts=None) -> PreparedData:
    """``data`` with ``x_unlabelled``: the texts of ``source`` (`rnnlab.data.load_unlabelled`) encoded by its
    preprocessor, for the objectives that need no labels. ``texts``: the source's texts when already read."""
    texts = load_unlabelled(source, column).texts if texts is None else texts
    info = {**data.info, "unlabelled": {"source": source_name(source), "examples": len(texts)}}
    return dataclasses.replace(data, x_unlabelled=data.preprocessor.transform(texts), info=info)


def describe_source(train_set, test_set) -> dict:
    """What a prepared split records of its raw data: each part's profile, and a table's columns."""
    info = {"profile": {"train": profile(train_set).to_dict()}}
    if test_set is not None:
        info["profile"]["test"] = profile(test_set).to_dict()
    if train_set.columns:
        info["columns"] = dict(train_set.columns)
    return info


def train(model: str | Path | ModelSpec, *, out: str | Path | None = None, seed: int = 0,
          limit: int | None = None, early_stopping: int | None = None, verbose: str | int = "auto",
          data: PreparedData | None = None, objectives: dict | None = None, **overrides) -> TrainResult:
    """Train `model` (a name, a spec file or a `ModelSpec`) with its recipe; save a bundle to `out`.

    ``objectives`` sets `TrainingConfig`'s ``adversarial``, ``virtual_adversarial``, ``entropy`` and
    ``perturbation``.

    Example:

    >>> result = train("lstm", epochs=1, limit=2000)
    >>> result.test_accuracy
    """
    spec, recipe = resolve(model, **overrides)
    if data is None:
        data = prepare_for(spec, recipe, seed=seed, limit=limit)
    config = config_from_recipe(recipe, seed=seed, early_stopping=early_stopping, **(objectives or {}))
    result = fit(spec, data, config, recipe=recipe, verbose=verbose)
    if out is not None:
        result.save(out)
    return result
