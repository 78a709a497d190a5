"""How a model is trained, as data: one `TrainingConfig` for every way rnnlab trains, and `resolve`.

The engine (:func:`rnnlab.training.fit`) reads nothing else: the optimizer and its
learning-rate schedule (a Keras schedule, stepped by the optimizer itself), epochs and batch
size, early stopping with an explicit monitor and mode and best-epoch restore, length
buckets, ensemble members and seeds. A config round-trips through plain dicts (TOML/JSON
``[training]`` tables), and unknown keys are refused.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict, dataclass
from pathlib import Path

from rnnlab.configfile import check_keys, read_config
from rnnlab.errors import InvalidInputError
from rnnlab.models import ModelSpec, Recipe, get

SCHEDULES = ("constant", "cosine")
DISTRIBUTIONS = (None, "data_parallel")
MODES = ("min", "max")

__all__ = ["EarlyStopping", "TrainingConfig", "SCHEDULES", "config_from_recipe", "read_training_config", "resolve"]


@dataclass
class EarlyStopping:
    """Stop when ``monitor`` has not improved for ``patience`` epochs; keep the best epoch's weights.

    Args:
        monitor: a Keras log key (default ``"val_loss"``; ``"val_accuracy"`` with mode ``"max"``).
        mode: ``"min"`` or ``"max"``; default: ``"max"`` for accuracy, ``"min"`` otherwise.
        patience: epochs without improvement before stopping; None never stops early and
            only restores the best epoch (default None).
        restore_best: put back the weights of the best epoch at the end (default True).
    """

    monitor: str = "val_loss"
    mode: str | None = None
    patience: int | None = None
    restore_best: bool = True

    def __post_init__(self):
        if not isinstance(self.monitor, str) or not self.monitor:
            raise InvalidInputError(f"early_stopping.monitor must be a Keras log key such as 'val_loss', got "
                                    f"{self.monitor!r}.")
        if self.mode is None:
            self.mode = "max" if any(word in self.monitor for word in ("acc", "f1", "auc")) else "min"
        if self.mode not in MODES:
            raise InvalidInputError(f"early_stopping.mode must be 'min' or 'max', got {self.mode!r}.")
        if self.patience is not None and (isinstance(self.patience, bool) or not isinstance(self.patience, int)
                                          or self.patience < 1):
            raise InvalidInputError(f"early_stopping.patience must be a positive integer or unset, got "
                                    f"{self.patience!r}.")

    def callback(self, has_validation: bool):
        import keras  # the config is plain data; Keras only when a run starts

        monitor = self.monitor if has_validation or not self.monitor.startswith("val_") else self.monitor[4:]
        return keras.callbacks.EarlyStopping(monitor=monitor, mode=self.mode, patience=self.patience or 10**6,
                                             restore_best_weights=self.restore_best, verbose=0)


@dataclass
class TrainingConfig:
    """Everything about a training run that is not the architecture or the data.

    Args:
        epochs: passes over the training rows; a fraction trains on that share of a shuffled
            pass (default 4).
        batch_size: rows per step (default 128).
        optimizer: Keras optimizer name; None takes the spec's (default None).
        learning_rate: the peak rate; None takes the spec's, else the optimizer's default.
        clipnorm: gradient norm clipping; None takes the spec's.
        schedule: ``"constant"`` (default) or ``"cosine"`` (Keras ``CosineDecay``, stepped
            every batch by the optimizer).
        warmup_epochs: linear warm-up from 0 to the rate before the schedule (default 0).
        decay_epochs: epochs the cosine takes after warm-up; None: the rest of training.
        final_rate: the cosine's end, as a fraction of the peak rate (default 0.1).
        early_stopping: an :class:`EarlyStopping` (or its dict), or an int patience on
            ``val_loss``; None trains every epoch (default).
        buckets: length buckets for training batches (a count or the lengths), or None.
        members: train this many models from seeds ``seed, seed + 1, ...`` and average their
            probabilities into one saved model (default 1).
        seed: drives the initial weights, dropout and batch order (default 0).
        init_seed: build the model under this seed instead, so runs can share initial
            weights while seeing the data in different orders (default None).
        adversarial: weight of the adversarial term: the loss again with the embedded batch moved
            along the loss gradient (`rnnlab.training.objectives`; default 0, none).
        virtual_adversarial: weight of the virtual adversarial term: the change of the predictions
            under the embedding perturbation that changes them most; needs no labels (default 0).
        entropy: weight of the predictions' mean entropy (entropy minimisation; default 0).
        perturbation: the perturbation's norm as a share of each example's embedding norm
            (default 0.05).
        class_weight: weigh each training example's loss by its class: ``"balanced"`` (``n / (k *
            count)``, so every class weighs as much in total) or ``{class name or id: weight}``
            (others 1.0); for one label a text (label sets take a focal loss instead). None: every
            example alike (default).
        decision_threshold: for two classes, the positive class's probability from which a text
            gets it: a number in (0, 1), or ``"tune"`` for the one with the best macro-F1 on the
            validation rows (a 0.05 grid, after temperature scaling). None: the more probable
            class, i.e. 0.5 (default).
        distribution: ``"data_parallel"`` splits every batch across the machine's
            accelerators (or, on the CPU, the devices ``XLA_FLAGS=
            --xla_force_host_platform_device_count=N`` makes) with Keras'
            ``keras.distribution.DataParallel`` on JAX; the weights are replicated and the
            gradients averaged, so a run matches one device's up to float rounding. None
            trains on one device (default).

    Example:
        >>> TrainingConfig(epochs=2, schedule="cosine", early_stopping={"monitor": "val_accuracy"}).early_stopping.mode
        'max'
    """

    epochs: float = 4
    batch_size: int = 128
    optimizer: str | None = None
    learning_rate: float | None = None
    clipnorm: float | None = None
    schedule: str = "constant"
    warmup_epochs: float = 0.0
    decay_epochs: float | None = None
    final_rate: float = 0.1
    early_stopping: EarlyStopping | None = None
    buckets: int | list[int] | None = None
    members: int = 1
    seed: int = 0
    init_seed: int | None = None
    distribution: str | None = None
    adversarial: float = 0.0
    virtual_adversarial: float = 0.0
    entropy: float = 0.0
    perturbation: float = 0.05
    class_weight: str | dict | None = None
    decision_threshold: str | float | None = None

    def __post_init__(self):
        if isinstance(self.early_stopping, bool):
            raise InvalidInputError("early_stopping is a patience (int) or a table with monitor, mode, patience.")
        if isinstance(self.early_stopping, int):
            self.early_stopping = EarlyStopping(patience=self.early_stopping)
        elif isinstance(self.early_stopping, dict):
            self.early_stopping = EarlyStopping(**check_keys(
                "early_stopping", self.early_stopping, [f.name for f in dataclasses.fields(EarlyStopping)]))
        if isinstance(self.buckets, tuple):
            self.buckets = list(self.buckets)
        self.validate()

    def validate(self) -> "TrainingConfig":
        if (not isinstance(self.epochs, (int, float)) or isinstance(self.epochs, bool) or self.epochs <= 0
                or (isinstance(self.epochs, float) and not math.isfinite(self.epochs))):
            raise InvalidInputError(f"epochs must be a positive number, got {self.epochs!r}.")
        for name in ("batch_size", "members"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInputError(f"{name} must be a positive integer, got {value!r}.")
        for name, optional in (("final_rate", False), ("warmup_epochs", False), ("decay_epochs", True),
                               ("learning_rate", True), ("clipnorm", True)):
            value = getattr(self, name)
            if (value is not None or not optional) and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise InvalidInputError(f"{name} must be a number{' or unset' if optional else ''}, got {value!r}.")
        if self.distribution not in DISTRIBUTIONS:
            raise InvalidInputError(f"distribution must be one of {', '.join(map(str, DISTRIBUTIONS))}, got "
                                    f"{self.distribution!r}.")
        if self.schedule not in SCHEDULES:
            raise InvalidInputError(f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}.")
        if not 0.0 <= self.final_rate <= 1.0:
            raise InvalidInputError(f"final_rate is a fraction of the peak rate in [0, 1], got {self.final_rate!r}.")
        if self.warmup_epochs < 0 or (self.decay_epochs is not None and self.decay_epochs <= 0):
            raise InvalidInputError("warmup_epochs must be >= 0 and decay_epochs > 0.")
        for name in ("adversarial", "virtual_adversarial", "entropy", "perturbation"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
                raise InvalidInputError(f"{name} must be a number >= 0, got {value!r}.")
        if (self.adversarial or self.virtual_adversarial) and not self.perturbation:
            raise InvalidInputError("adversarial and virtual_adversarial need perturbation > 0 (a share of the "
                                    "embedding norm, such as 0.05).")
        if self.learning_rate is not None and self.learning_rate <= 0:
            raise InvalidInputError(f"learning_rate must be positive, got {self.learning_rate!r}.")
        weights = self.class_weight
        if not (weights is None or weights == "balanced" or (isinstance(weights, dict) and weights and all(
                isinstance(w, (int, float)) and not isinstance(w, bool) and 0 < w < math.inf
                for w in weights.values()))):
            raise InvalidInputError(f"class_weight must be 'balanced' or a table of positive weights by class name "
                                    f"or id, got {weights!r}.")
        threshold = self.decision_threshold
        if not (threshold is None or threshold == "tune" or (isinstance(threshold, (int, float)) and not isinstance(
                threshold, bool) and 0 < threshold < 1)):
            raise InvalidInputError(f"decision_threshold must be 'tune' or a number between 0 and 1, got {threshold!r}.")
        return self

    @property
    def whole_epochs(self) -> int:
        return math.ceil(self.epochs)

    def replace(self, **changes) -> "TrainingConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainingConfig":
        """A config from a ``[training]`` table; unknown keys are errors naming the valid ones."""
        return cls(**check_keys("[training]", data, [f.name for f in dataclasses.fields(cls)]))

    def learning_rate_schedule(self, peak: float, steps_per_epoch: int):
        """The rate the optimizer is given: ``peak``, or a Keras schedule over optimizer steps."""
        warmup = round(steps_per_epoch * self.warmup_epochs)
        if self.schedule == "constant" and not warmup:
            return peak
        import keras  # the config is plain data; Keras only when a run starts

        if self.schedule == "constant":
            # Warm-up, then flat: a cosine that never decays.
            return keras.optimizers.schedules.CosineDecay(0.0, 1, alpha=1.0, warmup_target=peak,
                                                          warmup_steps=warmup)
        total = math.ceil(steps_per_epoch * self.epochs)
        decay = round(steps_per_epoch * self.decay_epochs) if self.decay_epochs else total - warmup
        if warmup:
            return keras.optimizers.schedules.CosineDecay(0.0, max(1, decay), alpha=self.final_rate,
                                                          warmup_target=peak, warmup_steps=warmup)
        return keras.optimizers.schedules.CosineDecay(peak, max(1, decay), alpha=self.final_rate)


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
    elif str(model).endswith((".json", ".toml")) or "/" in str(model) or Path(str(model)).is_file():
        spec, recipe = read_training_config(model)
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


def read_training_config(path: str | Path) -> tuple[ModelSpec, Recipe]:
    """A spec file, or a training config ``{"spec": {...}, "recipe": {...}}`` (JSON or TOML, recipe optional).

    Committed configs are found by name (``beyond/digits-stacked-lstm``); unknown keys are
    errors that name the valid ones.
    """
    data = read_config(path, "Model spec")
    if "spec" not in data:
        return ModelSpec.from_dict(data), Recipe()
    check_keys(f"{path}", data, ("spec", "recipe", "description", "name"))
    spec = check_keys(f"{path}: 'spec'", data["spec"], [f.name for f in dataclasses.fields(ModelSpec)])
    recipe = check_keys(f"{path}: 'recipe'", data.get("recipe") or {}, RECIPE_OVERRIDES)
    return ModelSpec.from_dict(spec), Recipe(**recipe)


def config_from_recipe(recipe: Recipe, **changes) -> TrainingConfig:
    """The training settings of a named model's recipe (its epochs and batch size)."""
    return TrainingConfig(epochs=recipe.epochs, batch_size=recipe.batch_size).replace(**changes)
