"""A bundle ready to answer requests: compiled once, warmed up, with the answers as plain dicts.

The HTTP layer (`rnnlab.serve.app`) only validates and routes; everything a request computes is
here, so it can be used and tested without a server.
"""

from __future__ import annotations

import logging
import math
import time

from rnnlab._backend import backend_name
from rnnlab.bundle import Bundle
from rnnlab.errors import InvalidInputError
from rnnlab.serve.compiled import CompiledModel
from rnnlab.serve.explain import attention_model, explain, find_attention_layer

log = logging.getLogger("rnnlab.serve")

WARM_UP_TEXT = "An excellent movie with a dull ending."
# Without a maxlen, occlusion costs (tokens + 1) x tokens model steps: cap it.
MAX_EXPLAIN_TOKENS_WITHOUT_MAXLEN = 1000


class ModelService:
    """Predictions, explanations and the model card of one bundle.

    Args:
        bundle: a loaded `rnnlab.bundle.Bundle`.
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
        self.compiled = CompiledModel(bundle.model)
        layer = find_attention_layer(bundle.model)
        self.attention = CompiledModel(attention_model(bundle.model, layer)) if layer is not None else None

    @property
    def name(self) -> str:
        return self.bundle.spec.name

    @property
    def explain_method(self) -> str:
        return "attention" if self.attention is not None else "occlusion"

    def predict(self, texts: list[str]) -> list[dict]:
        """One dict per text (fields of `schemas.TextPrediction`), all texts in one model call."""
        encoded = self.bundle.preprocessor.encode(texts)
        probs = self.compiled.probabilities(encoded.ids)
        names = self.bundle.class_names
        results = []
        for i in range(len(texts)):
            label_id = int(probs[i].argmax())
            results.append({
                "label": names[label_id],
                "label_id": label_id,
                "probability": float(probs[i, label_id]),
                "probabilities": {name: float(p) for name, p in zip(names, probs[i])},
                "n_tokens": int(encoded.n_tokens[i]),
                "n_oov": int(encoded.n_oov[i]),
                "truncated": bool(encoded.truncated[i]),
            })
        return results

    def explain(self, text: str) -> dict:
        """The prediction for `text` with a score per fed token (fields of `schemas.ExplainResponse`)."""
        preprocessor = self.bundle.preprocessor
        if preprocessor.maxlen is None:
            n = len(preprocessor.encode([text]).tokens[0])
            if n > MAX_EXPLAIN_TOKENS_WITHOUT_MAXLEN:
                raise InvalidInputError(f"text has {n:,} tokens; this model has no maxlen, and explanations "
                                        f"are limited to {MAX_EXPLAIN_TOKENS_WITHOUT_MAXLEN:,} tokens.")
        result = explain(text, preprocessor, self.compiled, attention=self.attention)
        names = self.bundle.class_names
        probs = result.probabilities
        label_id = int(probs.argmax())
        return {
            "model": self.name,
            "label": names[label_id],
            "label_id": label_id,
            "probability": float(probs[label_id]),
            "probabilities": {name: float(p) for name, p in zip(names, probs)},
            "n_tokens": len(result.tokens),
            "n_oov": result.n_oov,
            "truncated": result.truncated,
            "method": result.method,
            "target": names[result.target_id],
            "base_probability": float(probs[result.target_id]),
            "tokens": [{"token": t, "score": s, "oov": o}
                       for t, s, o in zip(result.tokens, result.scores, result.oov)],
        }

    def info(self) -> dict:
        """The model card (fields of `schemas.ModelInfo`, limits excepted)."""
        from rnnlab.train import versions

        bundle = self.bundle
        metrics = bundle.metrics
        return {
            "name": self.name,
            "params": int(metrics.get("params") or bundle.model.count_params()),
            "class_names": list(bundle.class_names),
            "test_accuracy": bundle.test_accuracy,
            "vocabulary_size": len(bundle.preprocessor.vocabulary),
            "maxlen": bundle.preprocessor.maxlen,
            "tokenizer": bundle.preprocessor.mode,
            "explain_method": self.explain_method,
            "backend": backend_name(),
            "versions": versions(),
            "spec": bundle.spec.to_dict(),
            "metrics": _json_safe(metrics),
        }

    def warm_up(self) -> float:
        """Compile every batch size requests can need, then predict and explain once. Returns seconds."""
        started = time.perf_counter()
        maxlen = self.bundle.preprocessor.maxlen
        if maxlen is not None:
            self.compiled.warm_up(range(1, self.max_texts + 1), maxlen)
            if self.attention is None:
                self.compiled.warm_up(range(1, maxlen + 2), maxlen)  # occlusion: tokens + 1 rows
        self.predict([WARM_UP_TEXT])
        self.explain(WARM_UP_TEXT)
        seconds = time.perf_counter() - started
        log.info("%s warmed up in %.1f s", self.name, seconds)
        return seconds


def _json_safe(value):
    """`value` with NaN and infinities as None: a diverged run's loss is NaN, which JSON cannot carry."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value
