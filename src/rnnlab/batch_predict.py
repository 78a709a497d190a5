"""Classify many raw texts fast with a bundle: tokenize once, batch by length, compiled forward pass.

`Bundle.predict` goes through `model.predict`, which pads every text to ``maxlen`` and pays
for Keras' data adapter on each call. Here the texts are encoded in one pass (the
tokenizer's fast path), the forward pass is the serving layer's compiled function
(:class:`rnnlab.serve.compiled.CompiledModel`, jitted once per batch shape), and, where it
gives the same predictions, batches are cut to their length bucket
(:mod:`rnnlab.bucketing`).
"""

from __future__ import annotations

import numpy as np

from rnnlab.bucketing import DEFAULT_BUCKETS, bucketed_outputs, even_buckets
from rnnlab.errors import InvalidInputError

BATCH_SIZES = (1, 8, 64, 256)


def bucketing_is_exact(spec, padding: str) -> bool:
    """Whether cutting padding changes nothing but float rounding for this model (see
    :mod:`rnnlab.bucketing`): a masked model, any pooling and direction."""
    return bool(spec.mask_zero) and spec.architecture == "layers" and not spec.stateful


class BatchPredictor:
    """Class probabilities for raw texts from a loaded bundle, for large inputs.

    Args:
        bundle: a :class:`rnnlab.bundle.Bundle`.
        buckets: ``"auto"`` (default) buckets by length only where results are exact (a
            masked model); an integer (bucket count) or a tuple of bucket lengths forces
            bucketing, accepting the small differences of an unmasked, pre-padded model
            (see :mod:`rnnlab.bucketing`); ``None`` pads every text to ``maxlen``.
        batch_size: texts per forward call (default 256; smaller batches are padded up to
            1, 8, 64 or 256 rows so that a handful of shapes are compiled).

    Example:
        >>> predictor = BatchPredictor(rnnlab.load("runs/lstm"))  # doctest: +SKIP
        >>> predictor.predict_proba(test_texts).argmax(axis=1)  # doctest: +SKIP
    """

    def __init__(self, bundle, buckets: str | int | tuple[int, ...] | None = "auto", batch_size: int = 256):
        from rnnlab.serve.compiled import CompiledModel

        if buckets == "auto":
            buckets = DEFAULT_BUCKETS if bucketing_is_exact(bundle.spec, bundle.preprocessor.padding) else None
        if bundle.preprocessor.maxlen is None:
            buckets = None  # rows are as long as the longest text of each call: nothing to cut
        if isinstance(buckets, int) and not isinstance(buckets, bool):
            # Fixed lengths, not quantiles of each call's texts: the compiled shapes stay the same.
            buckets = even_buckets(bundle.preprocessor.maxlen, buckets)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidInputError(f"batch_size must be an integer >= 1, got {batch_size!r}.")
        self.bundle = bundle
        self.buckets = buckets
        self.batch_size = batch_size
        self.compiled = CompiledModel(bundle.model, tuple(sorted({*BATCH_SIZES, batch_size})))

    def encode(self, texts) -> np.ndarray:
        """The padded id matrix of ``texts``."""
        return self.bundle.preprocessor.transform(self.bundle._check(texts))

    def predict_proba(self, texts) -> np.ndarray:
        """Class probabilities ``(len(texts), num_classes)`` in float64."""
        return self.probabilities(self.encode(texts))

    def probabilities(self, ids: np.ndarray) -> np.ndarray:
        """Class probabilities for an id matrix made by the bundle's preprocessor."""
        if self.buckets is None or len(ids) == 0:
            return np.concatenate([self.compiled.probabilities(ids[i:i + self.batch_size])
                                   for i in range(0, len(ids), self.batch_size)])
        return bucketed_outputs(self.compiled.probabilities, ids, self.buckets, self.batch_size,
                                self.bundle.preprocessor.padding)

    def predict_labels(self, texts) -> list[str]:
        """The most probable class name of each text."""
        names = self.bundle.class_names
        return [names[i] for i in self.predict_proba(texts).argmax(axis=1)]
