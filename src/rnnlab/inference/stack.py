"""A stacked model: several members' class probabilities blended into one prediction.

A stack bundle is a folder with ``stack.json`` (members, blend weights, class names),
``metrics.json`` and ``members/NAME/`` for each member: an rnnlab bundle (a recurrent model,
read in Keras safe mode) or an n-gram model (`rnnlab.training.linear.NgramModel`). Members read
the same raw text, each with its own preprocessing.

The blend is a weighted sum of the members' log-probabilities, one weight per member and one
bias per class, then a softmax; for two classes that is a logistic regression on the members'
logits. `rnnlab.experiments.stack` fits the weights on a validation fold that no member trained
on. Every prediction carries its parts (each member's probability of the predicted class), and
an explanation adds each member's share of the blended score and the n-grams that weigh most.

``Bundle.load`` opens a stack bundle like any other, so ``rnnlab predict``, ``explain``,
``evaluate``, ``serve`` and batch prediction take one unchanged.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import numpy as np

from rnnlab.errors import RnnlabError
from rnnlab.files import read_json
from rnnlab.inference.predictor import Prediction, as_records
from rnnlab.training.linear import NgramModel

__all__ = ["STACK_FILE", "Member", "StackBundle", "StackPredictor", "blend", "read_stack"]

STACK_FILE = "stack.json"
FORMAT = "rnnlab.stack"
TINY = 1e-7


def blend(member_probabilities, weights, biases) -> np.ndarray:
    """Softmax of ``biases + sum_k weights[k] * log(p_k)``: the stack's class probabilities ``(n, classes)``."""
    scores = np.asarray(biases, dtype=np.float64)[None, :] + sum(
        w * np.log(np.clip(p, TINY, 1.0)) for w, p in zip(weights, member_probabilities))
    scores -= scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    return exp / exp.sum(axis=1, keepdims=True)


@dataclasses.dataclass
class Member:
    """One part of a stack: its name, blend weight and model (a `Bundle` or an `NgramModel`)."""

    name: str
    weight: float
    model: object

    @property
    def is_ngram(self) -> bool:
        return isinstance(self.model, NgramModel)

    def predict_proba(self, texts) -> np.ndarray:
        return self.model.predict_proba(texts)


class StackPredictor:
    """`Predictor`'s interface for a stack: each member predicts through its own predictor, then the blend.

    Tokens, unknown words and truncation in a `Prediction` are those of the lead member (the
    first recurrent one); ``parts`` gives every member's probability of the predicted class.
    """

    stateful = False
    compiled = None  # the members compile their own models
    buckets = None

    def __init__(self, members: list[Member], biases, class_names, lead):
        self.members = members
        self.biases = np.asarray(biases, dtype=np.float64)
        self.class_names = tuple(class_names)
        self.lead = lead  # the lead member's Bundle
        self.inputs = lead.inputs

    @property
    def kind(self) -> str:
        return "text"

    def encode(self, records):
        return self.lead.predictor.encode(records)

    def parts(self, records) -> list[np.ndarray]:
        """Each member's class probabilities for ``records``, in member order."""
        texts = self.inputs.check(as_records(records))
        return [member.predict_proba(texts) for member in self.members]

    def predict_proba(self, records) -> np.ndarray:
        return blend(self.parts(records), [m.weight for m in self.members], self.biases)

    def predict(self, records) -> list[Prediction]:
        records = as_records(records)
        batch = self.encode(records)
        parts = self.parts(records)
        probs = blend(parts, [m.weight for m in self.members], self.biases)
        predictions = []
        for i, record in enumerate(records):
            p = self.lead.predictor._prediction(record, probs[i], batch, i)
            p.parts = {m.name: round(float(part[i, p.label_id]), 6) for m, part in zip(self.members, parts)}
            predictions.append(p)
        return predictions

    def predict_labels(self, records) -> list[str]:
        return [self.class_names[i] for i in self.predict_proba(records).argmax(axis=1)]

    def warm_up(self, max_rows: int) -> None:
        for member in self.members:
            if not member.is_ngram:
                member.model.predictor.warm_up(max_rows)


class StackBundle:
    """A loaded stack bundle, with the attributes of `Bundle` that prediction, explanation and serving use.

    ``inputs``, ``spec``, ``model`` and ``attention`` are the lead member's (the first recurrent
    member); ``metrics``, ``class_names`` and ``predictor`` are the stack's.
    """

    kind = "text"

    def __init__(self, members: list[Member], biases, class_names, metrics: dict, path: Path | None = None,
                 name: str = "stack"):
        leads = [m for m in members if not m.is_ngram]
        if not leads:
            raise RnnlabError("A stack needs at least one recurrent member.")
        self.members = members
        self.lead = leads[0].model
        self.class_names = tuple(class_names)
        self.metrics = metrics
        self.path = path
        self.inputs = self.lead.inputs
        self.preprocessor = self.lead.preprocessor
        self.model = self.lead.model
        self.spec = dataclasses.replace(self.lead.spec, name=name)
        self.predictor = StackPredictor(members, biases, class_names, self.lead)

    @functools.cached_property
    def attention(self):
        return self.lead.attention

    @property
    def test_accuracy(self) -> float | None:
        return (self.metrics.get("test") or {}).get("accuracy")

    def predict_proba(self, records):
        return self.predictor.predict_proba(records)

    def predict(self, records) -> list[Prediction]:
        return self.predictor.predict(records)

    def explain(self, record):
        """The lead member's per-token scores, with the stack's probabilities and each member's share."""
        result = self.lead.explain(record)
        parts = self.predictor.parts([record])
        weights = [m.weight for m in self.members]
        probs = blend(parts, weights, self.predictor.biases)[0]
        target = result.target_id
        shares = {}
        for member, part in zip(self.members, parts):
            log_p = np.log(np.clip(part[0], TINY, 1.0))
            entry = {"weight": round(member.weight, 4), "probability": round(float(part[0, target]), 6),
                     # what the member adds to the target's blended score against the mean of the others
                     "share": round(float(member.weight * (log_p[target] - np.delete(log_p, target).mean())), 4)}
            if member.is_ngram:
                entry["ngrams"] = [{"ngram": g, "weight": w} for g, w in member.model.contributions(record)]
            shares[member.name] = entry
        return dataclasses.replace(result, probabilities=probs, parts=shares,
                                   method=f"{result.method}")


def read_stack(path) -> tuple[str, list[str], np.ndarray, list[tuple[str, float]]]:
    """``(name, class names, biases, [(member name, weight)])`` from a stack bundle's ``stack.json``.

    `rnnlab.inference.bundle.Bundle.load` loads the members (``members/NAME``) and makes the `StackBundle`.
    """
    path = Path(path)
    info = read_json(path / STACK_FILE, "Stack description")
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise RnnlabError(f"{path / STACK_FILE} is not an rnnlab stack description; retrain the stack.")
    try:
        class_names = [str(c) for c in info["class_names"]]
        biases = np.asarray(info["biases"], dtype=np.float64)
        listed = [(str(m["name"]), float(m["weight"])) for m in info["members"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise RnnlabError(f"{path / STACK_FILE} is damaged ({exc!r}); retrain the stack.") from exc
    if biases.shape != (len(class_names),) or not listed:
        raise RnnlabError(f"{path / STACK_FILE} is damaged (biases or members); retrain the stack.")
    return str(info.get("name", path.name)), class_names, biases, listed
