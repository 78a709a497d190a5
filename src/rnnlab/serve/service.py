"""A bundle ready to answer requests: compiled once, warmed up, with the answers as plain dicts.

The HTTP layer (`rnnlab.serve.app`) only validates and routes; everything a request computes is
here, so it can be used and tested without a server.
"""

from __future__ import annotations

import logging
import math
import time

from rnnlab._backend import backend_name
from rnnlab.errors import InvalidInputError
from rnnlab.inference.bundle import Bundle
from rnnlab.inference.predictor import decided
from rnnlab.environment import versions

log = logging.getLogger("rnnlab.serve")

# Without a maxlen, occlusion costs (tokens + 1) x tokens model steps: cap it.
MAX_EXPLAIN_TOKENS_WITHOUT_MAXLEN = 1000


class ModelService:
    """Predictions, explanations and the model card of one bundle, of any input kind.

    Args:
        bundle: a loaded `rnnlab.inference.Bundle`.
        max_texts: the largest batch a request may hold (default 64); start-up compiles the
            model for every padded batch size up to it.

    Example:
        >>> service = ModelService(Bundle.load("runs/lstm"))  # doctest: +SKIP
        >>> service.predict(["An excellent movie!"])[0]["label"]  # doctest: +SKIP
        'pos'
    """

    def __init__(self, bundle: Bundle, max_texts: int = 64):
        self.bundle = bundle
        self.max_texts = max_texts
        self.predictor = bundle.predictor
        self.attention = bundle.attention

    @property
    def name(self) -> str:
        return self.bundle.name

    @property
    def kind(self) -> str:
        return self.bundle.kind

    @property
    def explain_method(self) -> str:
        if getattr(self.bundle, "lead", True) is None:
            return "weights"  # a stack of n-gram models: each word's weight
        return "attention" if self.attention is not None and self.kind == "text" else "occlusion"

    def predict(self, records: list) -> list[dict]:
        """One dict per record (fields of `schemas.TextPrediction`), all records in one model call."""
        return [p.to_dict(tokens=False) for p in self.predictor.predict(records)]

    def explain(self, record) -> dict:
        """The prediction for one record with a score per fed token or step (`schemas.ExplainResponse`)."""
        inputs = self.bundle.inputs
        if getattr(inputs, "maxlen", 1) is None and isinstance(record, str) and self.explain_method == "occlusion":
            n = int(inputs.encode([record]).n_tokens[0])
            if n > MAX_EXPLAIN_TOKENS_WITHOUT_MAXLEN:
                raise InvalidInputError(f"text has {n:,} tokens; this model has no maxlen, and explanations "
                                        f"are limited to {MAX_EXPLAIN_TOKENS_WITHOUT_MAXLEN:,} tokens.")
        result = self.bundle.explain(record)
        names = self.bundle.class_names
        probs = result.probabilities
        head = decided(probs, names, getattr(self.bundle, "thresholds", None), self.predictor.decision_threshold,
                       getattr(self.predictor, "regression", False))
        value, labels = head.pop("value"), head.pop("labels")
        found = {
            "model": self.name,
            **head,
            "n_tokens": len(result.tokens),
            "n_oov": result.n_oov,
            "truncated": result.truncated,
            "method": result.method,
            "target": names[result.target_id],
            # a regression has no probability: its number for the whole text is base_value
            "base_probability": None if value is not None else float(probs[result.target_id]),
            "tokens": [{"token": t, "score": s, "oov": o} for t, s, o in zip(result.tokens, result.scores, result.oov)],
        }
        if value is not None:
            found.update(value=value, base_value=value)
        if result.parts is not None:
            found["parts"] = result.parts
        if labels is not None:
            found["labels"] = labels
        return found

    def info(self) -> dict:
        """The model card (fields of `schemas.ModelInfo`, limits excepted)."""
        bundle = self.bundle
        metrics = bundle.metrics
        described = bundle.inputs.describe()
        return {
            "name": self.name,
            "params": int(metrics.get("params") or bundle.model.count_params()),
            **({"members": _members(metrics)} if "members" in metrics and isinstance(metrics["members"], list) else {}),
            "class_names": list(bundle.class_names),
            "test_accuracy": bundle.test_accuracy,
            "input_kind": self.kind,
            "inputs": described,
            "vocabulary_size": described.get("vocabulary_size"),
            "maxlen": described.get("maxlen"),
            "tokenizer": described.get("tokenizer"),
            "explain_method": self.explain_method,
            "backend": backend_name(),
            "versions": versions(),
            "spec": bundle.spec.to_dict() if bundle.spec is not None else None,
            "metrics": _json_safe(metrics),
            "calibration": _calibration(metrics),
        }

    def warm_up(self) -> float:
        """Compile every batch size requests can need, then predict and explain once. Returns seconds."""
        started = time.perf_counter()
        self.predictor.warm_up(self.max_texts)
        example = self.bundle.inputs.example()
        maxlen = getattr(self.bundle.inputs, "maxlen", None)
        if maxlen is not None and self.attention is None and self.predictor.compiled is not None \
                and self.predictor.buckets is None:
            # occlusion: tokens + 1 rows
            self.predictor.compiled.warm_up(range(1, maxlen + 2), self.predictor.encode([example]).x)
        self.predict([example])
        self.explain(example)
        seconds = time.perf_counter() - started
        log.info("%s warmed up in %.1f s", self.name, seconds)
        return seconds


def _calibration(metrics: dict) -> dict | None:
    """The model card's calibration summary, from metrics.json (None for a bundle trained without one)."""
    fitted = metrics.get("calibration") if isinstance(metrics.get("calibration"), dict) else {}
    test = (metrics.get("test") or {}).get("calibration") if isinstance(metrics.get("test"), dict) else None
    if not fitted and not isinstance(test, dict):
        return None
    test = test if isinstance(test, dict) else {}
    return _json_safe({"temperature": fitted.get("temperature"), "fitted_on": fitted.get("fitted_on"),
                       "test_ece": test.get("ece"), "test_ece_unscaled": test.get("ece_unscaled")})


def _members(metrics: dict) -> list[dict]:
    """A stack's members as the model card lists them."""
    keys = ("name", "kind", "weight", "params", "validation_accuracy", "test_accuracy")
    return [{k: m.get(k) for k in keys} for m in metrics["members"] if isinstance(m, dict)]


def _json_safe(value):
    """`value` with NaN and infinities as None: a diverged run's loss is NaN, which JSON cannot carry."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value

