"""The one prediction path: records -> encode -> forward -> class probabilities -> predictions.

Everything that predicts goes through :class:`Predictor`: ``Bundle.predict``, ``rnnlab
predict`` (texts and ``--input`` files), ``rnnlab evaluate``, ``rnnlab explain`` and the
HTTP service. The three steps:

* **encode**: the bundle's input kind (:mod:`rnnlab.encoding.inputs`) checks the records
  and turns them into model arrays (texts, field records or numeric sequences);
* **forward**: :class:`rnnlab.training.forward.Forward`, the one forward pass (training-time
  scores use it too): a compiled function jitted once per padded batch size; a masked token
  model is read in length buckets (exact, far fewer steps), a stateful model chunk by chunk
  with its state carried;
* **postprocess**: :func:`rnnlab.models.outputs.class_probabilities`, then labels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np

from rnnlab.encoding.inputs import Batch, TextInputs
from rnnlab.errors import InvalidInputError
from rnnlab.training.calibration import scale
from rnnlab.training.forward import Forward
from rnnlab.training.metrics import decide, label_sets

__all__ = ["Prediction", "Predictor", "BatchPredictor", "decided", "make_prediction"]


@dataclass
class Prediction:
    """One classified record, with what the model actually saw of it.

    ``text`` is the record itself for a text model, and a short description of it for other
    kinds (``"title: ... | body: ..."``, ``"sequence of 28 steps"``). A regression model's prediction
    is its ``value``; ``label`` is that number as text, with no probability.
    """

    text: str
    label: str
    label_id: int
    probability: float | None  # None for a regression (``value`` holds its number)
    probabilities: dict[str, float]
    tokens: list[str]
    n_tokens: int
    n_oov: int
    truncated: bool
    parts: dict[str, float] | None = None  # a stack's members: each one's probability of ``label``
    labels: list[str] | None = None  # several labels a row: the label set, most probable first
    value: float | None = None  # a regression model's predicted number (``label`` is it as text)

    def to_dict(self, tokens: bool = True) -> dict:
        """The fields as a plain dict; ``tokens=False`` leaves out ``text`` and ``tokens`` (the
        service's answer: the client has the text, and copying every token costs more than the
        forward pass)."""
        if tokens:
            found = asdict(self)
        else:
            found = {"label": self.label, "label_id": self.label_id, "probability": self.probability,
                     "probabilities": dict(self.probabilities), "n_tokens": self.n_tokens, "n_oov": self.n_oov,
                     "truncated": self.truncated, "parts": self.parts, "labels": self.labels, "value": self.value}
        for key in ("parts", "labels", "value"):
            if found[key] is None:
                del found[key]
        return found


def describe_record(record) -> str:
    """How a record is shown beside its prediction."""
    if isinstance(record, str):
        return record
    if isinstance(record, Mapping):
        return " | ".join(f"{k}: {v}" for k, v in record.items())
    return f"sequence of {len(record)} steps"


def as_records(records):
    """Records as a list: a single text or field record as a list of one; a pandas DataFrame as one text a row
    (one column) or one field record a row (a column per field); a Series, an array or any iterable as its items."""
    if isinstance(records, (str, Mapping)):
        return [records]
    if hasattr(records, "columns") and hasattr(records, "to_dict"):  # a pandas DataFrame
        if len(records.columns) == 1:
            return [str(v) if v is not None else "" for v in records.iloc[:, 0].tolist()]
        return records.to_dict(orient="records")
    if isinstance(records, np.ndarray) and records.dtype.kind in "USO":
        return records.tolist()
    if isinstance(records, (list, np.ndarray)):  # a list, or numeric sequences
        return records
    if hasattr(records, "tolist"):  # a pandas Series
        return records.tolist()
    return list(records)


def make_prediction(record, probs: np.ndarray, batch: Batch, i: int, class_names, thresholds=None,
                    decision_threshold=None, regression: bool = False) -> Prediction:
    """The `Prediction` of record ``i`` of an encoded ``batch`` with class probabilities ``probs`` (see
    `decided`)."""
    return Prediction(text=describe_record(record), tokens=list(batch.tokens[i]) if batch.tokens is not None else [],
                      n_tokens=int(batch.n_tokens[i]), n_oov=int(batch.n_oov[i]), truncated=bool(batch.truncated[i]),
                      **decided(probs, class_names, thresholds, decision_threshold, regression))


def decided(probs: np.ndarray, class_names, thresholds=None, decision_threshold=None, regression: bool = False
            ) -> dict:
    """What one record's class probabilities say: ``label``, ``label_id``, ``probability``, ``probabilities``,
    ``labels`` and ``value``, as a `Prediction` and the service's explanations give them. The label is the class
    `rnnlab.training.metrics.decide` gives (``decision_threshold`` for two classes); with ``thresholds`` (several
    labels a row) ``labels`` are those at or above their threshold. For a ``regression``, ``probs`` is the one
    predicted value: ``value``, with the number as the label and no probability."""
    if regression:
        value = float(probs[0])
        return {"label": f"{value:.4g}", "label_id": 0, "probability": None, "probabilities": {}, "labels": None,
                "value": value}
    label_id = int(decide(probs[None, :], decision_threshold)[0])
    return {"label": class_names[label_id], "label_id": label_id, "probability": float(probs[label_id]),
            "probabilities": {name: float(p) for name, p in zip(class_names, probs)},
            "labels": None if thresholds is None else label_set(probs, class_names, thresholds), "value": None}


def label_set(probs: np.ndarray, class_names, thresholds) -> list[str]:
    """One record's labels at or above their thresholds (the most probable one when none is), most probable
    first: `Prediction.labels` and the service's explanations."""
    probs = np.asarray(probs)
    held = np.flatnonzero(label_sets(probs[None, :], thresholds)[0])
    return [class_names[j] for j in held[np.argsort(-probs[held], kind="stable")]]


class Predictor:
    """Class probabilities and labels for raw records of a model's input kind.

    Args:
        model: a built Keras classifier.
        inputs: the input kind that encodes its records (:mod:`rnnlab.encoding.inputs`).
        class_names: the label of each output class.
        spec: the model's `ModelSpec` (decides whether length buckets are exact). Defaults to None.
        buckets: ``"auto"`` (default) reads a masked token model in length buckets; an integer
            (bucket count) or a tuple of lengths forces buckets; ``None`` pads every row to maxlen.
        batch_size: rows per forward call (default 256).
        thresholds: for a model of several labels a row, each label's threshold (a label set holds
            the labels at or above theirs); None (default) for one label a row.
        temperature: what the model's log-odds are divided by (`rnnlab.training.calibration`): a
            number, one per label for label sets, or None (default) for the model's own probabilities.
        decision_threshold: for two classes, the positive class's probability from which a record
            gets it; None (default): the more probable class.

    Example:
        >>> predictor = rnnlab.load("runs/lstm").predictor  # doctest: +SKIP
        >>> predictor.predict(["An excellent movie!"])[0].label  # doctest: +SKIP
        'pos'
    """

    thresholds = None  # one label a text; a multi-label model's own, per label (set in __init__)
    temperature = None  # the model's own probabilities; a calibrated model's temperature (set in __init__)
    decision_threshold = None  # the more probable class; for two classes, a threshold (set in __init__)
    regression = False  # classes; a regression model's numbers (set in __init__ from the spec)

    def __init__(self, model, inputs, class_names, *, spec=None, buckets="auto", batch_size: int = 256,
                 thresholds=None, temperature=None, decision_threshold=None):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidInputError(f"batch_size must be an integer >= 1, got {batch_size!r}.")
        self.model = model
        self.inputs = inputs
        self.class_names = tuple(class_names)
        self.spec = spec
        self.batch_size = batch_size
        self.thresholds = None if thresholds is None else np.asarray(thresholds, dtype="float64")
        if self.thresholds is not None and self.thresholds.shape != (len(self.class_names),):
            raise InvalidInputError(f"thresholds needs one value per class ({len(self.class_names)}); got "
                                    f"{self.thresholds.shape}.")
        self.temperature = temperature
        self.decision_threshold = decision_threshold
        self.regression = bool(getattr(spec, "regression", False))
        padding = inputs.padding if isinstance(inputs, TextInputs) and getattr(inputs, "maxlen", None) else None
        self.forward_pass = Forward(model, spec=spec, padding=padding, buckets=buckets, batch_size=batch_size)

    @property
    def stateful(self) -> bool:
        return self.forward_pass.stateful

    @property
    def compiled(self):
        """The compiled model (None for a stateful model, read chunk by chunk)."""
        return self.forward_pass.compiled

    @property
    def buckets(self) -> tuple[int, ...] | None:
        """The length buckets rows are read in (None: padded to maxlen)."""
        return self.forward_pass.bucket_lengths(self.inputs.maxlen) if self.forward_pass.padding else None

    @property
    def kind(self) -> str:
        return self.inputs.kind

    def encode(self, records) -> Batch:
        """Check and encode records of this model's kind (a single text or field record is accepted)."""
        return self.inputs.encode(as_records(records))

    def forward(self, x) -> np.ndarray:
        """Class probabilities ``(n, num_classes)`` in float64 for encoded model input (scaled by the
        model's temperature when it has one)."""
        n = len(next(iter(x.values()))) if isinstance(x, dict) else len(x)
        if n == 0:
            raise InvalidInputError("Nothing to predict: no rows.")
        return self.scaled(self.forward_pass(x))

    def scaled(self, probs: np.ndarray) -> np.ndarray:
        """The model's own probabilities ``(n, num_classes)`` divided in log-odds by its temperature (unchanged
        without one): what every prediction reports. A regression's values are never scaled."""
        if self.regression:
            return probs
        return scale(probs, self.temperature, self.thresholds is not None)

    def scores(self, records, batch: Batch) -> tuple[np.ndarray, dict[str, np.ndarray] | None]:
        """Class probabilities of the encoded ``records``, and the parts they were made of (a
        stack's members' probabilities by name; None for a single model)."""
        return self.forward(batch.x), None

    def predict_proba(self, records) -> np.ndarray:
        """Class probabilities ``(len(records), num_classes)``."""
        records = as_records(records)
        return self.scores(records, self.encode(records))[0]

    def predict(self, records) -> list[Prediction]:
        """Label, probability and what the model saw, for each record."""
        records = as_records(records)
        batch = self.encode(records)
        probs, parts = self.scores(records, batch)
        predictions = [make_prediction(record, probs[i], batch, i, self.class_names, self.thresholds,
                                       self.decision_threshold, self.regression)
                       for i, record in enumerate(records)]
        if parts is not None:
            for i, p in enumerate(predictions):
                p.parts = {name: round(float(part[i, p.label_id]), 6) for name, part in parts.items()}
        return predictions

    def predict_values(self, records) -> np.ndarray:
        """A regression model's predicted number for each record, ``(len(records),)``."""
        if not self.regression:
            raise InvalidInputError("This model predicts classes, not numbers: use predict_labels or predict_proba.")
        return self.predict_proba(records)[:, 0]

    def predict_labels(self, records) -> list:
        """The most probable class name of each record; for several labels a row, each record's label set;
        for a regression, each record's number."""
        if self.regression:
            return self.predict_values(records).tolist()
        probs = self.predict_proba(records)
        if self.thresholds is not None:
            return [[self.class_names[j] for j in np.flatnonzero(row)] for row in label_sets(probs, self.thresholds)]
        return [self.class_names[i] for i in decide(probs, self.decision_threshold)]

    def warm_up(self, max_rows: int) -> None:
        """Compile every padded batch size up to ``max_rows`` now, not on a request."""
        example = self.encode([self.inputs.example()]).x
        if self.compiled is not None and self.buckets is None:
            self.compiled.warm_up(range(1, max_rows + 1), example)
        self.forward(example)


class PredictsThrough:
    """What a loaded bundle (a single model or a stack) offers on top of its ``predictor`` and ``metrics``."""

    thresholds = None  # several labels a record: one threshold per label (set by the bundle)

    @property
    def multi_label(self) -> bool:
        """Whether the model predicts a set of labels a record (each label's own probability)."""
        return self.thresholds is not None

    @property
    def test_accuracy(self) -> float | None:
        return (self.metrics.get("test") or {}).get("accuracy")

    def predict_proba(self, records):
        """Class probabilities, shape ``(len(records), num_classes)``."""
        return self.predictor.predict_proba(records)

    def predict(self, records) -> list[Prediction]:
        """Label, probability and token details for each record (a text, a field record or a sequence)."""
        return self.predictor.predict(records)


class BatchPredictor(Predictor):
    """:class:`Predictor` of a loaded bundle, for large inputs (0.1's name: use ``bundle.predictor``)."""

    def __init__(self, bundle, buckets="auto", batch_size: int = 256):
        super().__init__(bundle.model, bundle.inputs, bundle.class_names, spec=bundle.spec, buckets=buckets,
                         batch_size=batch_size, thresholds=getattr(bundle, "thresholds", None),
                         temperature=getattr(bundle, "temperature", None),
                         decision_threshold=getattr(bundle, "decision_threshold", None))

    def probabilities(self, ids: np.ndarray) -> np.ndarray:
        return self.forward(ids)
