"""A stacked model: several members' class probabilities blended into one prediction.

A stack bundle is a folder with ``stack.json`` (members, blend weights, class names),
``metrics.json`` and ``members/NAME/`` for each member: an rnnlab bundle (a recurrent model,
read in Keras safe mode), an n-gram model (`rnnlab.training.linear.NgramModel`) or a document-vector
model (`rnnlab.training.docvectors.DocVectorModel`). Members read
the same raw text, each with its own preprocessing.

The blend is a weighted sum of the members' log-probabilities, one weight per member and one
bias per class, then a softmax; for two classes that is a logistic regression on the members'
logits. For several labels a text it is that logistic regression for each label: a weighted sum
of the members' log-odds of the label, the label's own bias, then a sigmoid; the stack's metrics
hold a threshold per label, tuned on the same validation fold. `Blend.fit` finds the weights on a validation fold that no member trained on
(`rnnlab.experiments.recipes.stack` trains the members and calls it); `write_stack` and
`read_stack` are the stack file's writer and reader. Every prediction carries its parts (each member's probability of the predicted class), and
an explanation adds each member's share of the blended score and the n-grams that weigh most.

``Bundle.load`` opens a stack bundle like any other, so ``rnnlab predict``, ``explain``,
``evaluate``, ``serve`` and batch prediction take one unchanged.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import numpy as np

from rnnlab.encoding.inputs import Batch, TextInputs
from rnnlab.errors import InvalidInputError, RnnlabError
from rnnlab.files import read_json, write_json
from rnnlab.inference.explain import Explanation
from rnnlab.inference.predictor import Predictor, PredictsThrough, as_records
from rnnlab.training.docvectors import DocVectorModel
from rnnlab.training.linear import NgramModel

__all__ = ["STACK_FILE", "Blend", "Member", "StackBundle", "StackPredictor", "read_stack", "write_stack"]

STACK_FILE = "stack.json"
FORMAT = "rnnlab.stack"
TINY = 1e-7
RAW_TEXT_MODELS = (NgramModel, DocVectorModel)  # members that read raw texts themselves (not rnnlab bundles)


@dataclasses.dataclass
class Blend:
    """How a stack mixes its members: ``softmax(biases + sum_k weights[k] * log p_k)``, or for several
    labels a text ``sigmoid(biases + sum_k weights[k] * logit p_k)``, label by label.

    Args:
        weights: one non-negative weight per member.
        biases: one bias per class (centred on zero; per label, not centred).
        multi_label: whether the members' probabilities are each label's own (default False).

    Example:
        >>> blend = Blend.fit([member_a_val_probs, member_b_val_probs], val_labels)  # doctest: +SKIP
        >>> blend([member_a_probs, member_b_probs]).argmax(axis=1)  # doctest: +SKIP
    """

    weights: np.ndarray
    biases: np.ndarray
    multi_label: bool = False

    def __post_init__(self):
        self.weights = np.asarray(self.weights, dtype=np.float64)
        self.biases = np.asarray(self.biases, dtype=np.float64)

    def __call__(self, member_probabilities) -> np.ndarray:
        """The stack's class probabilities ``(n, classes)`` from each member's."""
        scores = self.biases[None, :] + sum(w * _features(p, self.multi_label)
                                            for w, p in zip(self.weights, member_probabilities))
        return _link(scores, self.multi_label)

    @classmethod
    def fit(cls, member_probabilities: list[np.ndarray], labels: np.ndarray, l2: float = 0.01) -> "Blend":
        """Non-negative weights and class biases minimising the blend's log-loss on ``labels``.

        ``l2`` penalises the weights (times the number of rows), which keeps near-duplicate
        members from taking opposite extreme weights. One member gets weight 1 and no bias.
        Labels given as an ``(n, k)`` matrix of 0/1 fit the blend of label sets (the binary
        log-loss, summed over each text's labels).
        """
        multi = np.ndim(labels) == 2
        k, n_classes = len(member_probabilities), member_probabilities[0].shape[1]
        if k == 1:
            return cls(np.ones(1), np.zeros(n_classes), multi_label=multi)
        from scipy.optimize import minimize  # scipy loads in about a second; only fitting needs it

        features = np.stack([_features(p, multi) for p in member_probabilities])  # (k, n, classes)
        targets = np.asarray(labels, dtype=np.float64) if multi else np.eye(n_classes)[labels]
        n = len(targets)  # the loss is per text (for label sets summed over its labels)

        def loss(params):
            w, b = params[:k], params[k:]
            scores = np.tensordot(w, features, axes=1) + b
            if multi:  # binary log-loss of each label, written to stay finite for any score
                value = (np.logaddexp(0.0, scores) - targets * scores).sum() / n
            else:
                scores = scores - scores.max(axis=1, keepdims=True)
                value = -(targets * (scores - np.log(np.exp(scores).sum(axis=1, keepdims=True)))).sum() / n
            residual = (_link(scores, multi) - targets) / n  # d loss / d scores, for either link
            grad_w = np.einsum("knc,nc->k", features, residual) + 2 * l2 * w
            return value + l2 * (w ** 2).sum(), np.concatenate([grad_w, residual.sum(axis=0)])

        start = np.concatenate([np.full(k, 1.0 / k), np.zeros(n_classes)])
        bounds = [(0.0, None)] * k + [(None, None)] * n_classes
        found = minimize(loss, start, jac=True, method="L-BFGS-B", bounds=bounds)
        weights, biases = found.x[:k], found.x[k:]
        # softmax biases are defined up to a constant: centred; a label's bias is its own
        return cls(np.round(weights, 6), np.round(biases if multi else biases - biases.mean(), 6), multi_label=multi)


def _features(probabilities: np.ndarray, multi_label: bool) -> np.ndarray:
    """What a member adds to the blend's scores: its log-probabilities, or for label sets its log-odds."""
    return _log_odds(probabilities) if multi_label else np.log(np.clip(probabilities, TINY, 1.0))


def _link(scores: np.ndarray, multi_label: bool) -> np.ndarray:
    """Scores to probabilities: a sigmoid per label, or a softmax over the classes."""
    if multi_label:
        return 1.0 / (1.0 + np.exp(-scores))
    exp = np.exp(scores - scores.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def _log_odds(probabilities: np.ndarray) -> np.ndarray:
    p = np.clip(probabilities, TINY, 1.0 - TINY)
    return np.log(p) - np.log1p(-p)


@dataclasses.dataclass
class Member:
    """One part of a stack: its name, blend weight and model (a `Bundle`, an `NgramModel` or a `DocVectorModel`)."""

    name: str
    weight: float
    model: object

    @property
    def is_ngram(self) -> bool:
        return isinstance(self.model, NgramModel)

    @property
    def is_bundle(self) -> bool:
        """Whether the member is an rnnlab bundle (a recurrent model), not a model of raw texts."""
        return not isinstance(self.model, RAW_TEXT_MODELS)

    def predict_proba(self, texts) -> np.ndarray:
        return self.model.predict_proba(texts)


class NgramInputs(TextInputs):
    """Raw texts as an n-gram or document-vector model reads them: its words, never truncated (a stack without
    recurrent members)."""

    maxlen = None
    padding = "post"

    def __init__(self, model: NgramModel | DocVectorModel):
        super().__init__(None)
        self.model = model

    def encode(self, records) -> Batch:
        tokens = [self.model.tokens(text) for text in self.check(records)]
        return Batch(None, len(tokens), tokens, np.array([len(t) for t in tokens], dtype=np.int64))

    def describe(self) -> dict:
        low, high = self.model.ngram_range
        kept = (f"hashed into {self.model.n_features:,} buckets" if isinstance(self.model, NgramModel)
                else f"{len(self.model.words):,} kept")
        return {"kind": self.kind, "vocabulary_size": None, "maxlen": None,
                "tokenizer": f"word {low}-{high} grams, {kept}"}


class StackPredictor(Predictor):
    """The `Predictor` of a stack: each member predicts through its own predictor, then the blend.

    Encoding (tokens, unknown words, truncation in a `Prediction`) is the lead member's (the
    first recurrent one, else the first n-gram or document-vector model); ``parts`` gives every member's
    probability of the predicted class.
    """

    stateful = False
    compiled = None  # the members compile their own models
    buckets = None
    model = spec = None

    def __init__(self, members: list[Member], biases, class_names, inputs, thresholds=None):
        self.members = members
        self.blend = Blend([m.weight for m in members], biases, multi_label=thresholds is not None)
        self.class_names = tuple(class_names)
        self.inputs = inputs
        self.thresholds = None if thresholds is None else np.asarray(thresholds, dtype=np.float64)

    def parts(self, records) -> list[np.ndarray]:
        """Each member's class probabilities for ``records``, in member order."""
        texts = self.inputs.check(as_records(records))
        return [member.predict_proba(texts) for member in self.members]

    def scores(self, records, batch: Batch) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        parts = self.parts(records)
        return self.blend(parts), {m.name: part for m, part in zip(self.members, parts)}

    def forward(self, x) -> np.ndarray:
        raise InvalidInputError("A stack reads raw texts (its members encode them their own ways): call "
                                "predict_proba(texts), not forward(ids).")

    def warm_up(self, max_rows: int) -> None:
        for member in self.members:
            if member.is_bundle:
                member.model.predictor.warm_up(max_rows)


class StackBundle(PredictsThrough):
    """A loaded stack bundle, with the attributes of `Bundle` that prediction, explanation and serving use.

    ``inputs``, ``preprocessor``, ``spec``, ``model`` and ``attention`` are the lead member's (the
    first recurrent member; a stack of n-gram models only has no spec, model or attention);
    ``name``, ``metrics``, ``class_names``, ``thresholds`` (several labels a text: one per label, else None)
    and ``predictor`` are the stack's.
    """

    kind = "text"

    def __init__(self, members: list[Member], biases, class_names, metrics: dict, path: Path | None = None,
                 name: str = "stack", thresholds=None):
        if not members:
            raise RnnlabError("A stack needs at least one member.")
        leads = [m for m in members if m.is_bundle]
        readers = sorted((m for m in members if not m.is_bundle), key=lambda m: not m.is_ngram)
        self.members = members
        self.name = name
        self.lead = leads[0].model if leads else None
        self.class_names = tuple(class_names)
        self.metrics = metrics
        self.path = path
        self.inputs = self.lead.inputs if self.lead else NgramInputs(readers[0].model)
        self.preprocessor = self.inputs.preprocessor
        self.model = self.lead.model if self.lead else None
        self.spec = dataclasses.replace(self.lead.spec, name=name) if self.lead else None
        self.thresholds = None if thresholds is None else np.asarray(thresholds, dtype=np.float64)
        self.predictor = StackPredictor(members, biases, class_names, self.inputs, self.thresholds)

    @functools.cached_property
    def attention(self):
        return self.lead.attention if self.lead else None

    def explain(self, record, target: int | None = None):
        """The lead member's per-token scores for the stack's predicted class, with the stack's probabilities and
        each member's share.

        Without a recurrent member the scores are the first n-gram model's weight of each word (zeros in a
        stack of document-vector models only).
        """
        parts = self.predictor.parts([record])
        probs = self.predictor.blend(parts)[0]
        if target is None:
            target = 1 if len(self.class_names) == 2 and self.thresholds is None else int(probs.argmax())
        if self.lead is not None:
            result = self.lead.explain(record, target=target)
        else:
            ngram = next((m.model for m in self.members if m.is_ngram), None)
            tokens = self.inputs.encode([record]).tokens[0]
            scores = ngram.word_weights(tokens, target) if ngram is not None else [0.0] * len(tokens)
            result = Explanation(tokens, scores, [False] * len(tokens), "weights", probs, target, 0, False)
        target = result.target_id
        shares = {}
        for member, part in zip(self.members, parts):
            if self.thresholds is not None:  # what the member adds to the label's blended log-odds
                share = member.weight * float(_log_odds(part[0, target]))
            else:  # what the member adds to the target's blended score against the mean of the others
                log_p = np.log(np.clip(part[0], TINY, 1.0))
                share = member.weight * float(log_p[target] - np.delete(log_p, target).mean())
            entry = {"weight": round(member.weight, 4), "probability": round(float(part[0, target]), 6),
                     "share": round(share, 4)}
            if member.is_ngram:
                entry["ngrams"] = [{"ngram": g, "weight": w} for g, w in member.model.contributions(record, target=target)]
            shares[member.name] = entry
        return dataclasses.replace(result, probabilities=probs, parts=shares)


def write_stack(folder, name: str, class_names, blend: Blend, members: list[tuple[str, str]]) -> Path:
    """Write ``folder/stack.json``: the stack's name, class names, blend and ``[(member name, kind)]``.

    The members' own bundles go to ``folder/members/NAME``; `read_stack` reads this file back.
    """
    path = Path(folder) / STACK_FILE
    write_json(path, {"format": FORMAT, "name": name, "class_names": list(class_names),
                      "multi_label": bool(blend.multi_label), "biases": [float(b) for b in blend.biases],
                      "members": [{"name": member, "kind": kind, "weight": float(weight)}
                                  for (member, kind), weight in zip(members, blend.weights)]}, indent=2)
    return path


def read_stack(path) -> tuple[str, list[str], np.ndarray, list[tuple[str, float]], bool]:
    """``(name, class names, biases, [(member name, weight)], multi_label)`` from a stack bundle's ``stack.json``.

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
        multi_label = info.get("multi_label", False)
        if not isinstance(multi_label, bool):
            raise TypeError(f"multi_label is {multi_label!r}, not true or false")
    except (KeyError, TypeError, ValueError) as exc:
        raise RnnlabError(f"{path / STACK_FILE} is damaged ({exc!r}); retrain the stack.") from exc
    if biases.shape != (len(class_names),) or not listed:
        raise RnnlabError(f"{path / STACK_FILE} is damaged (biases or members); retrain the stack.")
    return str(info.get("name", path.name)), class_names, biases, listed, multi_label
