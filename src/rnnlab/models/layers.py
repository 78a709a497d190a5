"""Pooling layers over recurrent states that honour the padding mask.

Keras' `GlobalMaxPooling1D` drops the mask, so padded steps take part in the max and a
review's prediction depends on how much padding its batch carries. These layers read the
mask the embedding (``mask_zero=True``) hands down and pool real tokens only; without a mask
every step counts, as in Keras. All are registered, so `.keras` bundles load them back.
"""

from __future__ import annotations

import keras
from keras import layers, ops

_NEG = -1e9


def _mask_or_ones(inputs, mask):
    if mask is None:
        return ops.ones(ops.shape(inputs)[:2], dtype=inputs.dtype)
    return ops.cast(mask, inputs.dtype)


def _last_valid(inputs, mask):
    """Each row's state at its last real token (pre- or post-padding alike)."""
    if mask is None:
        return inputs[:, -1, :]
    steps = ops.shape(inputs)[1]
    positions = ops.arange(steps, dtype="int32")[None, :]
    last = ops.max(ops.where(ops.cast(mask, "bool"), positions, -1), axis=1)
    last = ops.maximum(last, 0)
    one_hot = ops.one_hot(last, steps, dtype=inputs.dtype)
    return ops.einsum("bt,btd->bd", one_hot, inputs)


def masked_max(inputs, mask):
    weights = _mask_or_ones(inputs, mask)[:, :, None]
    pooled = ops.max(inputs + (1.0 - weights) * _NEG, axis=1)
    # An all-padding row (empty text) pools to zeros rather than -1e9.
    return ops.where(ops.sum(weights, axis=1) > 0, pooled, ops.zeros_like(pooled))


def masked_mean(inputs, mask):
    weights = _mask_or_ones(inputs, mask)[:, :, None]
    return ops.sum(inputs * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1.0)


@keras.saving.register_keras_serializable(package="rnnlab")
class MaskedMaxPooling(layers.Layer):
    """Max over the real steps of each sequence."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        return masked_max(inputs, mask)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])

    def compute_mask(self, inputs, mask=None):
        return None


@keras.saving.register_keras_serializable(package="rnnlab")
class ConcatPooling(layers.Layer):
    """``concat(max, mean, last)`` over the real steps (ULMFiT's "concat pooling").

    Max finds the strongest phrase, mean the overall tone, and the last state what a plain
    recurrent classifier reads; together they cost three times the width of the head input.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        return ops.concatenate([masked_max(inputs, mask), masked_mean(inputs, mask), _last_valid(inputs, mask)],
                               axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 3 * input_shape[2])

    def compute_mask(self, inputs, mask=None):
        return None


@keras.saving.register_keras_serializable(package="rnnlab")
class AttentionPooling(layers.Layer):
    """Additive (Bahdanau-style) attention over all states; returns ``(context, weights)``.

    ``score_t = v · tanh(W h_t + b)``, softmax over the real steps, context = Σ weight_t h_t.
    The weights, shaped ``(batch, steps)``, say which words the prediction leaned on: the
    service and the web page show them (`rnnlab.inference.explain`).

    Args:
        units: width of the scoring layer ``W`` (default: the state width).
    """

    returns_attention = True

    def __init__(self, units: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.supports_masking = True

    def build(self, input_shape):
        width = int(input_shape[-1])
        units = self.units or width
        self.kernel = self.add_weight(name="kernel", shape=(width, units), initializer="glorot_uniform")
        self.bias = self.add_weight(name="bias", shape=(units,), initializer="zeros")
        self.score = self.add_weight(name="score", shape=(units,), initializer="glorot_uniform")

    def call(self, inputs, mask=None):
        hidden = ops.tanh(ops.einsum("btd,du->btu", inputs, self.kernel) + self.bias)
        scores = ops.einsum("btu,u->bt", hidden, self.score)
        if mask is not None:
            scores = ops.where(ops.cast(mask, "bool"), scores, _NEG)
        weights = ops.softmax(scores, axis=-1)
        context = ops.einsum("bt,btd->bd", weights, inputs)
        return context, weights

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2]), (input_shape[0], input_shape[1])

    def compute_mask(self, inputs, mask=None):
        return None, None

    def get_config(self):
        return {**super().get_config(), "units": self.units}


POOLING_LAYERS = {"max": MaskedMaxPooling, "concat": ConcatPooling, "attention": AttentionPooling}


class EmbeddingPerturbation(layers.Layer):
    """The identity on the embedded tokens, or ``x + delta`` while a training objective sets ``delta``.

    Adversarial and virtual adversarial training (`rnnlab.training.objectives`) perturb the
    embedded sequence, not the token ids. The engine builds its training model with this layer
    after the embedding (`build_model(spec, perturbable=True)`), sets ``delta`` for the length of
    one traced forward pass (`adding`), and saves the weights into the spec's plain model, so no
    bundle holds it. It keeps the embedding's mask.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.delta = None

    def adding(self, delta):
        """A context in which every call adds ``delta`` (the shape of the embedded batch)."""
        import contextlib

        @contextlib.contextmanager
        def scope():
            previous, self.delta = self.delta, delta
            try:
                yield self
            finally:
                self.delta = previous

        return scope()

    def call(self, inputs):
        return inputs if self.delta is None else inputs + ops.cast(self.delta, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape
