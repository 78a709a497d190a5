"""A trained model on disk, loaded: Keras model, input kind, spec and metrics from one folder.

The folder is written by :func:`rnnlab.training.saving.save_bundle`. Loading trusts nothing
in it: the model is read in Keras safe mode (no code from the bundle runs), the
preprocessing by its format tag, and a missing or damaged file is a one-line error.
"""

from __future__ import annotations

import functools
from pathlib import Path

import keras
import numpy as np

import rnnlab.models.cell_loop  # noqa: F401  (registers the custom model class for loading)
import rnnlab.models.layers  # noqa: F401  (registers the masked pooling layers for loading)
from rnnlab.encoding.inputs import inputs_for, load_inputs
from rnnlab.errors import InvalidInputError, RnnlabError
from rnnlab.files import read_json, set_aside
from rnnlab.training.calibration import temperature_of
from rnnlab.training.forward import CompiledModel
from rnnlab.inference.explain import (
    Explanation,
    attention_model,
    explain,
    find_attention_layer,
)
from rnnlab.inference.predictor import Prediction, Predictor, PredictsThrough
from rnnlab.inference.stack import STACK_FILE, Member, StackBundle, read_stack
from rnnlab.models import ModelSpec
from rnnlab.models.kernels import accelerate
from rnnlab.training.docvectors import DOCVEC_FILE, DocVectorModel
from rnnlab.training.linear import NGRAM_FILE, NgramModel
from rnnlab.training.saving import (
    METRICS_FILE,
    MODEL_FILE,
    PREPROCESSING_FILE,
    REQUIRED,
    SPEC_FILE,
)

__all__ = ["Bundle", "Prediction", "REQUIRED"]


class Bundle(PredictsThrough):
    """A loaded bundle: ``Bundle.load(DIR).predict(["An excellent movie!"])``.

    Attributes:
        model: the Keras model.
        preprocessor: the fitted preprocessing (text, fields or numeric sequences).
        inputs: its input kind (:mod:`rnnlab.encoding.inputs`); ``kind`` names it.
        spec: the `ModelSpec`; ``metrics`` what training recorded; ``class_names`` the labels.
        predictor: the :class:`Predictor` every prediction goes through (made on first use).
    """

    def __init__(self, model, preprocessor, spec: ModelSpec, metrics: dict | None = None, path: Path | None = None):
        self.model = model
        self.preprocessor = preprocessor
        self.inputs = inputs_for(preprocessor)
        self.spec = spec
        self.metrics = metrics or {}
        self.path = path
        names = self.metrics.get("class_names")
        self.class_names = tuple(names) if names else tuple(str(i) for i in range(spec.num_classes))
        self.thresholds = _thresholds(self.metrics, self.class_names, spec.multi_label, path)
        try:
            self.temperature = temperature_of(self.metrics, self.class_names)
        except InvalidInputError as err:
            raise RnnlabError(f"{path / METRICS_FILE if path else 'metrics'}: {err}") from None
        self.decision_threshold = _decision_threshold(self.metrics, self.class_names, path)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def kind(self) -> str:
        """``"text"``, ``"fields"`` or ``"sequences"``: what one record is."""
        return self.inputs.kind

    @classmethod
    def load(cls, path: str | Path) -> "Bundle":
        """Open the bundle folder at ``path`` (a stack bundle opens as a `StackBundle`)."""
        path = Path(path)
        if not path.exists() and set_aside(path).is_dir():
            path = set_aside(path)  # a save killed between its two renames (systems without an atomic exchange)
        if not path.is_dir():
            raise RnnlabError(f"No model bundle at {path}: expected a folder made by `rnnlab train --out`.")
        if (path / STACK_FILE).exists():
            return _load_stack(path)
        missing = [name for name in REQUIRED if not (path / name).exists()]
        if missing:
            raise RnnlabError(f"{path} is not a complete rnnlab bundle: missing {', '.join(missing)}. Retrain it.")
        try:
            model = keras.saving.load_model(path / MODEL_FILE, compile=False, safe_mode=True)
        except Exception as exc:  # Keras raises several types for a damaged archive
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise RnnlabError(f"Cannot load {path / MODEL_FILE}: {reason}. The file is damaged; retrain the "
                              "model.") from exc
        accelerate(model)
        inputs = load_inputs(path / PREPROCESSING_FILE)
        spec = ModelSpec.from_dict(_object(read_json(path / SPEC_FILE, "Model spec"), path / SPEC_FILE))
        metrics = _object(read_json(path / METRICS_FILE, "Metrics"), path / METRICS_FILE) \
            if (path / METRICS_FILE).exists() else {}
        names = metrics.get("class_names")
        if names is not None and not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
            raise RnnlabError(f"{path / METRICS_FILE}: class_names must be a list of names, got {names!r}; the bundle "
                              "is damaged: retrain it.")
        return cls(model, inputs.preprocessor, spec, metrics, path)

    @functools.cached_property
    def predictor(self) -> Predictor:
        return Predictor(self.model, self.inputs, self.class_names, spec=self.spec, thresholds=self.thresholds,
                         temperature=self.temperature, decision_threshold=self.decision_threshold)

    @functools.cached_property
    def attention(self) -> CompiledModel | None:
        """The model's attention weights as a second output, for `explain`; None without an attention layer."""
        layer = None if self.predictor.stateful else find_attention_layer(self.model)
        return CompiledModel(attention_model(self.model, layer)) if layer is not None else None

    def explain(self, record, target: int | None = None) -> Explanation:
        """Which tokens (or steps) one prediction rests on: attention weights when the model has them, else occlusion.
        ``target``: the class the scores refer to (default: the positive class of two, else the most probable)."""
        return explain(record, self.predictor, attention=self.attention, target=target)


def _decision_threshold(metrics: dict, class_names, path) -> float | None:
    """A two-class bundle's stored decision threshold (None: the more probable class)."""
    found = metrics.get("decision_threshold")
    if found is None:
        return None
    if len(class_names) != 2 or isinstance(found, bool) or not isinstance(found, (int, float)) or not 0 < found < 1:
        raise RnnlabError(f"{path / METRICS_FILE if path else 'metrics'}: decision_threshold must be a number "
                          f"between 0 and 1 for a model of two classes, got {found!r}; retrain the model, or delete "
                          "the entry to decide by the more probable class.")
    return float(found)


def _thresholds(metrics: dict, class_names, multi_label: bool, path) -> np.ndarray | None:
    """A multi-label bundle's threshold per label (from metrics.json; 0.5 where it has none), else None."""
    if not multi_label:
        return None
    found = metrics.get("thresholds") or {}
    if not isinstance(found, dict) or not all(isinstance(v, (int, float)) and 0 <= v <= 1 for v in found.values()):
        raise RnnlabError(f"{path}: metrics.json's thresholds must map each label to a number in [0, 1]; the "
                          "bundle is damaged: retrain it.")
    return np.asarray([float(found.get(name, 0.5)) for name in class_names])


def _load_stack(path: Path) -> StackBundle:
    """A stack bundle: its description, then each member (an rnnlab bundle, an n-gram or a document-vector model)."""
    name, class_names, biases, listed, multi_label = read_stack(path)
    members = []
    for member, weight in listed:
        folder = path / "members" / member
        if (folder / NGRAM_FILE).exists():
            model = NgramModel.load(folder)
        elif (folder / DOCVEC_FILE).exists():
            model = DocVectorModel.load(folder)
        else:
            model = Bundle.load(folder)
        if list(model.class_names) != class_names or bool(model.multi_label) != multi_label:
            raise RnnlabError(f"Member {member} of {path} predicts {_kind_of(model.multi_label, model.class_names)}, "
                              f"the stack {_kind_of(multi_label, class_names)}; retrain the stack.")
        members.append(Member(member, weight, model))
    metrics = _object(read_json(path / METRICS_FILE, "Metrics"), path / METRICS_FILE) \
        if (path / METRICS_FILE).exists() else {}
    return StackBundle(members, biases, class_names, metrics, path, name=name,
                       thresholds=_thresholds(metrics, class_names, multi_label, path))


def _kind_of(multi_label: bool, class_names) -> str:
    return f"{'label sets of ' if multi_label else ''}{list(class_names)}"


def _object(data, path: Path) -> dict:
    if not isinstance(data, dict):
        raise RnnlabError(f"{path} does not hold a JSON object; the bundle is damaged: retrain it.")
    return data
