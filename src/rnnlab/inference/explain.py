"""Which tokens a prediction rests on: attention weights when the model has them, else occlusion.

Occlusion asks the model itself: each fed token is removed in turn (the rest re-padded as the
preprocessor would), and its score is how much the scored class's probability drops without
it. Every variant and the unchanged text go through the model in one batch, so explaining a
200-token review costs one model call, not 201.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnlab.training.forward import CompiledModel
from rnnlab.models.outputs import read_outputs
from rnnlab.text import pad

ATTENTION_LAYER = "attention"


@dataclass
class Explanation:
    """Per-token scores for one text.

    Attributes:
        tokens: the tokens fed to the model, in order.
        scores: one float per token. Occlusion: probability of class `target_id` with the
            text minus without the token (positive = the token speaks for that class); for a
            regression, the predicted number with the text minus without the token.
            Attention: the attention weight on the token's position.
        oov: whether each token is out of vocabulary.
        method: ``"occlusion"`` or ``"attention"``.
        probabilities: class probabilities of the whole text, shape ``(num_classes,)``.
        target_id: the class the scores refer to: the positive class (id 1) of a binary
            model, the predicted class of a multi-class one.
        n_oov: unknown words (see `rnnlab.text.Encoded`).
        truncated: whether the text was cut to ``maxlen``.
        parts: a stack's members, by name: blend weight, probability of the target class, share
            of the blended score and, for an n-gram member, its heaviest n-grams; None otherwise.
    """

    tokens: list[str]
    scores: list[float]
    oov: list[bool]
    method: str
    probabilities: np.ndarray
    target_id: int
    n_oov: int
    truncated: bool
    parts: dict | None = None


def find_attention_layer(model):
    """The layer whose second output is attention weights over time steps, or None.

    A model opts in by naming a layer ``"attention"`` (or setting ``returns_attention = True`` on
    it) whose call returns ``(context, weights)`` with weights shaped ``(batch, steps)`` or
    ``(batch, steps, 1)``. Only functional models expose inner outputs this way.
    """
    for layer in getattr(model, "layers", []):
        if layer.name == ATTENTION_LAYER or getattr(layer, "returns_attention", False):
            output = getattr(layer, "output", None)
            if isinstance(output, (list, tuple)) and len(output) == 2 and getattr(model, "inputs", None):
                return layer
    return None


def attention_model(model, layer):
    """A model returning ``[prediction, attention weights]`` for `CompiledModel`."""
    import keras

    return keras.Model(model.inputs, [model.outputs[0], layer.output[1]], name=f"{model.name}_attention")


def occlusion_batch(fed_ids: list[int], maxlen: int | None, padding: str) -> np.ndarray:
    """Rows: the fed ids unchanged, then with token 0 removed, token 1 removed, and so on.

    Rows are padded to the length the model was given for the full text, so a removed token
    shifts its neighbours exactly as if the word had not been written.
    """
    length = maxlen if maxlen is not None else max(len(fed_ids), 1)
    variants = [fed_ids] + [fed_ids[:i] + fed_ids[i + 1:] for i in range(len(fed_ids))]
    return pad(variants, length, padding=padding, truncating="pre")


def _fed(row: np.ndarray, n: int, padding: str) -> np.ndarray:
    """The non-padding part of one padded row (ids or time steps)."""
    return row[len(row) - n:] if padding == "pre" else row[:n]


def _text_variants(batch, inputs):
    row = batch.x[0]
    fed = _fed(row, int(batch.n_tokens[0]), inputs.padding)
    oov_id = inputs.preprocessor.vocabulary.oov_id
    oov = [bool(i == oov_id) for i in fed.tolist()] if oov_id else [False] * len(fed)
    return list(batch.tokens[0]), oov, occlusion_batch(fed.tolist(), inputs.maxlen, inputs.padding)


def _field_variants(batch, inputs):
    tokens, oov, per_field = [], [], {}
    prep = inputs.preprocessor
    oov_id = prep.vocabulary.oov_id
    for name, maxlen in prep.maxlens.items():
        row = batch.x[name][0]
        n = int((row != 0).sum())
        per_field[name] = _fed(row, n, prep.padding).tolist()
    words = iter(batch.tokens[0])
    for name, fed in per_field.items():
        for i in fed:
            tokens.append(f"{name}:{next(words, '?')}")
            oov.append(bool(oov_id) and i == oov_id)
    rows = {name: [fed] for name, fed in per_field.items()}
    for name, fed in per_field.items():
        for i in range(len(fed)):
            for other, other_fed in per_field.items():
                rows[other].append(other_fed[:i] + other_fed[i + 1:] if other == name else other_fed)
    x = {name: pad(rows[name], prep.maxlens[name], padding=prep.padding, truncating="pre") for name in per_field}
    return tokens, oov, x


def _sequence_variants(batch, inputs):
    prep = inputs.preprocessor
    row = batch.x[0]
    n = int(batch.n_tokens[0])
    fed = _fed(row, n, prep.padding)
    steps = row.shape[0]
    x = np.full((n + 1, steps, row.shape[1]), prep.mask_value, dtype=row.dtype)
    for k, variant in enumerate([fed] + [np.delete(fed, i, axis=0) for i in range(n)]):
        if prep.padding == "pre":
            x[k, steps - len(variant):] = variant
        else:
            x[k, :len(variant)] = variant
    return [f"t{i}" for i in range(n)], [False] * n, x


VARIANTS = {"text": _text_variants, "fields": _field_variants, "sequences": _sequence_variants}


def explain(record, predictor, *, attention: CompiledModel | None = None, target: int | None = None) -> Explanation:
    """Score each token (or time step) of one record by attention weights, when given a model
    for them, or by occlusion: the whole record and every one-token-removed variant go
    through the predictor's forward pass in one call. ``target`` is the class the scores refer to
    (default: the positive class of two, else the most probable; a stack passes its own)."""
    batch = predictor.encode([record])
    inputs = predictor.inputs
    common = dict(n_oov=int(batch.n_oov[0]), truncated=bool(batch.truncated[0]))
    if attention is not None and inputs.kind == "text":
        row = batch.x[0]
        n = int(batch.n_tokens[0])
        tokens, oov, _ = _text_variants(batch, inputs)
        prediction, weights = attention.outputs(batch.x)
        probs = predictor.scaled(read_outputs(prediction, getattr(predictor, "regression", False)))[0]
        weights = _fed(np.asarray(weights[0], dtype="float64").reshape(len(row)), n, inputs.padding)
        return Explanation(tokens=tokens, scores=weights.tolist(), oov=oov, method="attention",
                           probabilities=probs, target_id=_target(probs) if target is None else target, **common)
    tokens, oov, variants = VARIANTS[inputs.kind](batch, inputs)
    probs = predictor.forward(variants)
    base = probs[0]
    target = _target(base) if target is None else target
    scores = base[target] - probs[1:, target]
    return Explanation(tokens=tokens, scores=scores.tolist(), oov=oov, method="occlusion", probabilities=base,
                       target_id=target, **common)


def _target(probs: np.ndarray) -> int:
    return 1 if len(probs) == 2 else int(np.argmax(probs))
