"""What an experiment is, as data: models x runs under one set of data and training settings.

A config is plain data (JSON or TOML in, JSON out) and fully determines every run's seeds,
so a sweep can stop anywhere and be resumed, and two sweeps can be told apart by comparing
their configs.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rnnlab import configfile
from rnnlab.configfile import find_config, from_fields
from rnnlab.errors import InvalidInputError, unknown_name
from rnnlab.models import ModelSpec
from rnnlab.models.zoo import MODELS
from rnnlab.training.config import resolve

DATA_KEYS = ("dataset", "tokenizer", "vocab_size", "maxlen", "length_rule", "padding", "truncating",
             "validation_split", "limit")
TRAINING_KEYS = ("epochs", "batch_size", "optimizer", "learning_rate", "clipnorm")
LENGTH_RULES = ("filter", "truncate")


@dataclass
class ExperimentConfig:
    """Models trained `runs` times each, with seeds derived from `seed`.

    Args:
        name: a label for reports. Defaults to `"experiment"`.
        models: named models (see `rnnlab models`), paths of spec JSON files, or inline spec
            objects (`ModelSpec` fields, `name` included). Spec files are read when the config
            is loaded, so the stored config holds the architecture itself.
        runs: trainings per model. Defaults to 5.
        seed: base of every derived seed. Defaults to 0.
        vary_init: give each run its own initial weights; by default every run of a model
            starts from the same weights (one init seed per model). Defaults to False.
        vary_split: each run shuffles the training data with its own seed before carving
            the validation split; False keeps one split for all runs. Defaults to True.
        data: overrides of the recipes' data settings (`dataset`, `tokenizer`, `vocab_size`,
            `maxlen`, `length_rule`, `padding`, `truncating`, `validation_split`) plus
            `limit` (at most N train and N test examples, drawn before the length rule).
        training: overrides of the recipes' training settings (`epochs`, `batch_size`,
            `optimizer`, `learning_rate`, `clipnorm`).
        baseline: score a TF-IDF + logistic regression baseline on each data split.
            Defaults to True.
        preset: the preset the config came from, if any (chooses the report's tables).

    Example:

    >>> config = ExperimentConfig(models=["SS_RSF_LSTM", "SS_RST_LSTM"], runs=2, training={"epochs": 1})
    >>> [(r.model, r.run_index) for r in config.plan()][:2]
    [('SS_RSF_LSTM', 0), ('SS_RST_LSTM', 0)]
    """

    name: str = "experiment"
    models: list[Any] = field(default_factory=list)
    runs: int = 5
    seed: int = 0
    vary_init: bool = False
    vary_split: bool = True
    data: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    baseline: bool = True
    preset: str | None = None

    def __post_init__(self):
        if not isinstance(self.models, (list, tuple)):
            raise InvalidInputError(f"models must be a list of model names, spec files or inline specs, got "
                                    f"{self.models!r}.")
        for name in ("data", "training"):
            if not isinstance(getattr(self, name), Mapping):
                raise InvalidInputError(f"{name} must be a table of settings, got {getattr(self, name)!r}.")
        self.models = [_normalise_model(m) for m in self.models]
        self.data = {k: v for k, v in dict(self.data).items() if v is not None}
        self.training = {k: v for k, v in dict(self.training).items() if v is not None}
        self.validate()

    def validate(self) -> "ExperimentConfig":
        if not self.models:
            raise InvalidInputError("An experiment needs at least one model (config field 'models').")
        labels = self.model_names
        duplicates = sorted({n for n in labels if labels.count(n) > 1})
        if duplicates:
            raise InvalidInputError(f"Model names must be unique in an experiment; repeated: {', '.join(duplicates)}.")
        if isinstance(self.runs, bool) or not isinstance(self.runs, int) or self.runs < 1:
            raise InvalidInputError(f"runs must be a positive integer, got {self.runs!r}.")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**31:
            raise InvalidInputError(f"seed must be an integer in [0, 2**31), got {self.seed!r}.")
        configfile.check_keys("data", self.data, DATA_KEYS)
        configfile.check_keys("training", self.training, TRAINING_KEYS)
        rule = self.data.get("length_rule")
        if rule is not None and rule not in LENGTH_RULES:
            raise InvalidInputError(f"data.length_rule must be one of {LENGTH_RULES}, got {rule!r}.")
        for key, table in (("limit", self.data), ("epochs", self.training), ("batch_size", self.training),
                           ("vocab_size", self.data), ("maxlen", self.data)):
            value = table.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise InvalidInputError(f"{key} must be a positive integer, got {value!r}.")
        return self

    # ------------------------------------------------------------- identity
    @property
    def model_names(self) -> list[str]:
        return [m if isinstance(m, str) else m["name"] for m in self.models]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ExperimentConfig":
        return from_fields(cls, data, "experiment config")

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    def differences(self, other: "ExperimentConfig") -> list[str]:
        """Fields whose values differ, as `field: ours -> theirs` lines."""
        mine, theirs = self.to_dict(), other.to_dict()
        return [f"{key}: {json.dumps(mine[key])} -> {json.dumps(theirs[key])}"
                for key in mine if mine[key] != theirs[key]]

    # ------------------------------------------------------------ resolving
    def overrides(self) -> dict[str, Any]:
        """Data and training settings to apply on top of each model's recipe."""
        return {**{k: v for k, v in self.data.items() if k != "limit"}, **self.training}

    def spec_and_recipe(self, model: str):
        """(spec, recipe) of one of the config's models, with the overrides applied."""

        entry = self.models[self.model_names.index(model)]
        target = entry if isinstance(entry, str) else ModelSpec.from_dict(entry)
        return resolve(target, **self.overrides())

    def plan(self) -> list["PlannedRun"]:
        """Every run, run index first, so that a partial sweep covers all models evenly."""
        return [self.planned_run(model, index) for index in range(self.runs) for model in self.model_names]

    def planned_run(self, model: str, run_index: int) -> "PlannedRun":
        init = _stable_seed(self.seed, "init", model, *([run_index] if self.vary_init else []))
        # Every model's run i shares data seed i, so run i of two models saw the same split and
        # the same batch order: their accuracies pair up by run index.
        data_seed = self.seed + run_index
        return PlannedRun(model, run_index, init, data_seed, data_seed if self.vary_split else self.seed)


@dataclass(frozen=True)
class PlannedRun:
    """One training of one model: where its initial weights, split and data order come from."""

    model: str
    run_index: int
    init_seed: int
    data_seed: int
    split_seed: int


def _stable_seed(*parts) -> int:
    # crc32 rather than hash(): str hashes change between processes.
    return zlib.crc32("/".join(str(p) for p in parts).encode()) & 0x7FFFFFFF


def _normalise_model(entry: Any) -> str | dict:
    if isinstance(entry, dict):
        if not isinstance(entry.get("name"), str) or not entry["name"]:
            raise InvalidInputError("An inline model spec needs a 'name' (used as its label in the results).")
        return dict(entry)
    if not isinstance(entry, str):
        raise InvalidInputError(f"A model must be a name, a spec file or an inline spec, got {entry!r}.")
    if entry in MODELS:
        return entry
    if entry.endswith(".json") or Path(entry).is_file():
        ModelSpec.load(entry)  # fails early, naming the file, if the spec is invalid
        # The file's own fields, not a re-serialised spec: new ModelSpec defaults in a later
        # rnnlab must not make a stored config look different.
        data = json.loads(Path(entry).read_text(encoding="utf-8"))
        data.setdefault("name", Path(entry).stem)
        return data
    raise unknown_name("model", entry, MODELS)


def load_config(path: str | Path, **changes) -> ExperimentConfig:
    """Read an experiment config from a `.json` or `.toml` file; `changes` override its fields.

    Spec files named in `models` are read relative to the config file's folder.
    """
    path = find_config(path)
    data = read_config(path)
    if data.get("kind", "sweep") != "sweep":
        raise InvalidInputError(f"{path} describes a single {data['kind']!r} run, not a sweep: run it with "
                                f"`rnnlab experiment run {path}`.")
    data = resolve_model_paths(data, path.parent)
    data.pop("kind", None)
    return apply_changes(ExperimentConfig.from_dict(data), **changes)


def resolve_model_paths(data: dict, folder: Path) -> dict:
    """``data`` with the spec files its ``models`` name made relative to ``folder`` (the config's)."""
    models = data.get("models", [])
    if isinstance(models, list):
        data = {**data, "models": [_relative_to(folder, m) for m in models]}
    return data


def read_config(path: str | Path) -> dict:
    """The raw fields of a `.json` or `.toml` config, with `name` defaulting to the file's stem."""
    return configfile.read_config(path, "Experiment config")


def _relative_to(folder: Path, entry):
    if isinstance(entry, str) and entry.endswith(".json") and not Path(entry).is_absolute():
        candidate = folder / entry
        if candidate.is_file():
            return str(candidate)
    return entry


def apply_changes(config: ExperimentConfig, *, models: list[str] | None = None, **changes) -> ExperimentConfig:
    """A copy of `config` with command-line style changes; None leaves a setting alone.

    `models` selects a subset (or replaces the list with named models); keys of `data` and
    `training` can be given directly (`epochs=1`, `limit=500`).
    """
    data = config.to_dict()
    if models:
        by_name = dict(zip(config.model_names, config.models))
        data["models"] = [by_name.get(m, m) for m in models]
    for key, value in changes.items():
        if value is None:
            continue
        if key in DATA_KEYS:
            data["data"][key] = value
        elif key in TRAINING_KEYS:
            data["training"][key] = value
        elif key in data and key != "models":
            data[key] = value
        else:
            raise TypeError(f"Unknown experiment setting {key!r}.")
    return ExperimentConfig.from_dict(data)
