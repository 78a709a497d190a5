"""The one forward pass: model input -> class probabilities, for every score rnnlab reports.

Training-time scores (the validation and test metrics a run saves), ``rnnlab evaluate``,
``predict``, the HTTP service, the scikit-learn estimator and batch prediction all call
:class:`Forward`, so a bundle's stored test accuracy is what ``evaluate`` gives again.

* **compiled**: `model.predict` pays for a data adapter and a callback loop on every call, and
  a plain eager ``model(x)`` runs the recurrent loop op by op (over 100 ms for one review on
  JAX). :class:`CompiledModel` jits the model's ``stateless_call`` once (under JAX; other
  backends use ``predict_on_batch``) and pads each batch with empty rows up to one of a few
  fixed sizes, so a new batch size never triggers a new compilation while serving.
* **length buckets**: a masked token model is read in length buckets (exact, far fewer padding
  steps); :func:`bucketing_is_exact` is the one rule for when that holds.
* **stateful**: a stateful model reads each sequence chunk by chunk with its state carried.
"""

from __future__ import annotations

import numpy as np

from rnnlab._backend import backend_name
from rnnlab.encoding.bucketing import DEFAULT_BUCKETS, bucketed_outputs, even_buckets
from rnnlab.models.modes import TokenIds
from rnnlab.models.outputs import read_outputs
from rnnlab.training.stateful import is_stateful, predict_stateful

__all__ = ["BATCH_SIZES", "CompiledModel", "Forward", "bucketing_is_exact"]

#: the padded batch sizes compiled for; a larger batch is padded to a multiple of the largest
BATCH_SIZES = (1, 8, 64, 256)


def bucketing_is_exact(spec) -> bool:
    """Whether reading in length buckets changes nothing but float rounding for this model
    (see :mod:`rnnlab.encoding.bucketing`): a masked model of Keras recurrent layers reading one
    token-id input whole (not in stateful chunks)."""
    return (spec is not None and bool(spec.mask_zero) and spec.architecture == "layers"
            and isinstance(spec.input_mode, TokenIds) and spec.chunks is None and not spec.inputs)


class CompiledModel:
    """A Keras model's outputs for id matrices, padded to fixed batch sizes.

    Args:
        model: a built Keras model taking an int id matrix ``(n, maxlen)``.
        batch_sizes: the batch sizes compiled for (default `BATCH_SIZES`); a larger batch
            is padded to a multiple of the largest.

    The weights are copied when it is made: later changes to the model are not seen.

    Example:
        >>> compiled = CompiledModel(bundle.model)  # doctest: +SKIP
        >>> compiled.probabilities(bundle.preprocessor.transform(["An excellent movie!"]))  # doctest: +SKIP
        array([[0.08, 0.92]])
    """

    def __init__(self, model, batch_sizes: tuple[int, ...] = BATCH_SIZES, *, regression: bool = False):
        self.model = model
        self.regression = regression
        self.batch_sizes = tuple(sorted(set(int(b) for b in batch_sizes)))
        if not self.batch_sizes or self.batch_sizes[0] < 1:
            raise ValueError(f"batch_sizes must be positive integers, got {batch_sizes!r}.")
        self._forward = _jax_forward(model) if backend_name() == "jax" else model.predict_on_batch

    def padded_size(self, n: int) -> int:
        """The batch size `n` rows are padded to."""
        for size in self.batch_sizes:
            if n <= size:
                return size
        largest = self.batch_sizes[-1]
        return -(-n // largest) * largest

    def outputs(self, x) -> list[np.ndarray]:
        """Every model output for the rows of ``x`` (an array, or a dict of arrays for a model with
        named inputs), as numpy arrays with the padding rows removed."""
        arrays = x if isinstance(x, dict) else {None: x}
        arrays = {k: np.asarray(v) if np.asarray(v).dtype.kind == "f" else np.asarray(v, dtype="int32")
                  for k, v in arrays.items()}
        n = len(next(iter(arrays.values())))
        size = self.padded_size(n)
        if size != n:
            # Zero rows are all padding: a valid input whose outputs are dropped below.
            arrays = {k: np.concatenate([v, np.zeros((size - n,) + v.shape[1:], dtype=v.dtype)])
                      for k, v in arrays.items()}
        result = self._forward(arrays[None] if None in arrays else arrays)
        if not isinstance(result, (list, tuple)):
            result = [result]
        return [np.asarray(r)[:n] for r in result]

    def probabilities(self, ids: np.ndarray) -> np.ndarray:
        """Class probabilities ``(n, num_classes)`` in float64 (a regression's values, ``(n, 1)``)."""
        return read_outputs(self.outputs(ids)[0], self.regression)

    def warm_up(self, sizes, example) -> None:
        """Compile for each padded batch size in ``sizes`` now rather than on a request.

        ``example`` is one encoded row batch (an array or a dict of arrays); its first row is
        repeated to each size.
        """
        for size in sorted({self.padded_size(int(s)) for s in sizes}):
            if isinstance(example, dict):
                self.outputs({k: np.repeat(v[:1], size, axis=0) for k, v in example.items()})
            else:
                self.outputs(np.repeat(np.asarray(example)[:1], size, axis=0))


class Forward:
    """A model's class probabilities for encoded input, the way every rnnlab score reads them.

    Args:
        model: a built Keras classifier.
        spec: its `ModelSpec`; with it, `bucketing_is_exact` decides whether ``"auto"`` buckets.
            Defaults to None (no buckets unless asked).
        padding: the side token-id rows are padded on (``"pre"`` or ``"post"``); None for input
            that is not a padded id matrix (no buckets then). Defaults to None.
        buckets: ``"auto"`` (default) reads a masked token model in `DEFAULT_BUCKETS` length
            buckets; an integer (bucket count) or a tuple of lengths forces buckets; None pads
            every row to the full length. Bucket lengths are evenly spaced up to the input's
            width, not quantiles of one call's rows, so the compiled shapes stay the same.
        batch_size: rows per compiled call (default 256).

    Example:
        >>> forward = Forward(bundle.model, spec=bundle.spec, padding="pre")  # doctest: +SKIP
        >>> forward(bundle.preprocessor.transform(["An excellent movie!"]))  # doctest: +SKIP
        array([[0.08, 0.92]])
    """

    def __init__(self, model, *, spec=None, padding: str | None = None, buckets="auto", batch_size: int = 256):
        self.model = model
        self.batch_size = int(batch_size)
        self.padding = padding
        self.stateful = is_stateful(model)
        self.regression = bool(getattr(spec, "regression", False))
        if buckets == "auto":
            buckets = DEFAULT_BUCKETS if bucketing_is_exact(spec) else None
        if padding is None or self.stateful or isinstance(buckets, bool):
            buckets = None  # only a padded token matrix has padding to cut
        self.buckets = buckets
        self.compiled = None if self.stateful else CompiledModel(model, tuple(sorted({*BATCH_SIZES, self.batch_size})),
                                                                 regression=self.regression)

    def bucket_lengths(self, width: int) -> tuple[int, ...] | None:
        """The bucket lengths used for id rows ``width`` wide (None: no buckets)."""
        if self.buckets is None:
            return None
        return even_buckets(width, self.buckets) if isinstance(self.buckets, int) else tuple(self.buckets)

    def __call__(self, x) -> np.ndarray:
        """Class probabilities ``(n, num_classes)`` in float64 for encoded input ``x`` (an array, or a
        dict of arrays for a model with named inputs); a regression's values ``(n, 1)``."""
        if self.stateful:
            return read_outputs(predict_stateful(self.model, x), self.regression)
        if self.buckets is not None and not isinstance(x, dict) and np.ndim(x) == 2:
            return bucketed_outputs(self.compiled.probabilities, np.asarray(x), self.bucket_lengths(np.shape(x)[1]),
                                    self.batch_size, self.padding)
        n = len(next(iter(x.values()))) if isinstance(x, dict) else len(x)
        step = self.batch_size
        if isinstance(x, dict):
            chunks = [{k: v[i:i + step] for k, v in x.items()} for i in range(0, n, step)]
        else:
            chunks = [x[i:i + step] for i in range(0, n, step)]
        return np.concatenate([self.compiled.probabilities(chunk) for chunk in chunks])


def _jax_forward(model):
    import jax
    import jax.numpy as jnp

    # Copies, because Keras' own `predict` donates the variables' buffers to XLA and replaces
    # them: a reference taken here would be a deleted buffer after any `model.predict` call.
    trainable = [jnp.array(v.value, copy=True) for v in model.trainable_variables]
    non_trainable = [jnp.array(v.value, copy=True) for v in model.non_trainable_variables]

    # Weights are arguments, not closed-over constants, so XLA does not fold the embedding
    # matrix into every compiled batch size.
    @jax.jit
    def forward(trainable, non_trainable, ids):
        outputs, _ = model.stateless_call(trainable, non_trainable, ids, training=False)
        return outputs

    return lambda ids: forward(trainable, non_trainable, ids)
