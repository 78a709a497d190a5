"""Which tokens a prediction rests on: attention weights when the model has them, else occlusion.

Occlusion asks the model itself: each fed token is removed in turn (the rest re-padded as the
preprocessor would), and its score is how much the scored class's probability drops without
it. Every variant and the unchanged text go through the model in one batch, so explaining a
200-token review costs one model call, not 201.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnlab.serve.compiled import CompiledModel, class_probabilities
from rnnlab.text import Preprocessor, pad

ATTENTION_LAYER = "attention"


@dataclass
class Explanation:
    """Per-token scores for one text.

    Attributes:
        tokens: the tokens fed to the model, in order.
        scores: one float per token. Occlusion: probability of class `target_id` with the
            text minus without the token (positive = the token speaks for that class).
            Attention: the attention weight on the token's position.
        oov: whether each token is out of vocabulary.
        method: ``"occlusion"`` or ``"attention"``.
        probabilities: class probabilities of the whole text, shape ``(num_classes,)``.
        target_id: the class the scores refer to: the positive class (id 1) of a binary
            model, the predicted class of a multi-class one.
        n_oov: unknown words (see `rnnlab.text.Encoded`).
        truncated: whether the text was cut to ``maxlen``.
    """

    tokens: list[str]
    scores: list[float]
    oov: list[bool]
    method: str
    probabilities: np.ndarray
    target_id: int
    n_oov: int
    truncated: bool


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


def explain(text: str, preprocessor: Preprocessor, compiled: CompiledModel, *,
            attention: CompiledModel | None = None) -> Explanation:
    """Score each token of `text` with attention weights (when given a model for them) or occlusion."""
    encoded = preprocessor.encode([text])
    tokens = list(encoded.tokens[0])
    n = int(encoded.n_tokens[0])
    row = encoded.ids[0]
    fed = row[len(row) - n:] if preprocessor.padding == "pre" else row[:n]
    oov_id = preprocessor.vocabulary.oov_id
    common = dict(tokens=tokens, oov=[bool(i == oov_id) for i in fed.tolist()] if oov_id else [False] * n,
                  n_oov=int(encoded.n_oov[0]), truncated=bool(encoded.truncated[0]))
    if attention is not None:
        prediction, weights = attention.outputs(encoded.ids)
        probs = class_probabilities(prediction)[0]
        weights = np.asarray(weights[0], dtype="float64").reshape(len(row))
        fed_weights = weights[len(row) - n:] if preprocessor.padding == "pre" else weights[:n]
        return Explanation(scores=fed_weights.tolist(), method="attention", probabilities=probs,
                           target_id=_target(probs), **common)
    probs = compiled.probabilities(occlusion_batch(fed.tolist(), preprocessor.maxlen, preprocessor.padding))
    base = probs[0]
    target = _target(base)
    scores = base[target] - probs[1:, target]
    return Explanation(scores=scores.tolist(), method="occlusion", probabilities=base, target_id=target, **common)


def _target(probs: np.ndarray) -> int:
    return 1 if len(probs) == 2 else int(np.argmax(probs))

