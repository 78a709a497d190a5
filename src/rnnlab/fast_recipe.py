"""The fastest recipe we measured to 87.7% IMDB test accuracy on a small CPU.

The textbook's recipes read the last recurrent state of a 32-unit layer after up to 200
padded steps, with rmsprop at 1e-3: they need three to four epochs. What changes here, each
chosen by measurement on a validation split (``benchmarks/search_recipe.py``; figures in
``benchmarks/README.md``):

* **Pooling over all states, with a mask.** Max pooling over every step's output gives
  the gradient a short path to each word; masking the padding keeps it out of the pool and
  makes predictions independent of how much padding a batch carries.
* **Length buckets** (:mod:`rnnlab.bucketing`): batches of similar length, cut to one of
  four lengths, so training reads far fewer padding steps.
* **A larger vocabulary and length, Adam at 4e-3 decaying** (cosine, to a tenth over one
  and a half epochs, step by step; no dropout): between one and two epochs get where the
  textbook's recipes get in four.
* **Everything cached** (:mod:`rnnlab.text.cache`): a second run loads the encoded data
  instead of tokenizing 50,000 reviews again.

Example:
    >>> from rnnlab.fast_recipe import train_fast
    >>> result = train_fast(out="runs/fast")  # doctest: +SKIP
    >>> result.test_accuracy  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from rnnlab.models import ModelSpec, Recipe

SOURCE = "rnnlab's fast recipe (benchmarks/README.md, time to accuracy)"


@dataclass(frozen=True)
class FastRecipe:
    """A model spec with how to train it fast.

    Args:
        spec: the model (its ``maxlen`` is the preprocessing length; training batches are
            cut shorter by the buckets).
        batch_size: rows per batch (default 128).
        epochs: passes over the 25,000 training reviews (default 1).
        buckets: length buckets for training batches (default 4).
        decay_epochs: epochs over which the learning rate decays from the spec's
            ``learning_rate`` (cosine); None keeps it constant (default 1.5).
        decay_floor: the decayed rate, as a fraction of the initial one (default 0.1).
        dataset: dataset name or path (default ``"imdb"``).
    """

    spec: ModelSpec
    batch_size: int = 128
    epochs: int = 2
    buckets: int = 4
    decay_epochs: float | None = 1.5
    decay_floor: float = 0.1
    dataset: str = "imdb"

    def recipe(self) -> Recipe:
        """The training recipe: no validation split, every training review is used."""
        return Recipe(dataset=self.dataset, batch_size=self.batch_size, epochs=self.epochs,
                      validation_split=0.0, source=SOURCE)

    def steps_per_epoch(self, data) -> int:
        """Batches in one epoch over ``data.x_train`` (bucketed batches, see `bucketed_batches`)."""
        from rnnlab.bucketing import bucket_lengths, bucketed_batches, sequence_lengths

        lengths = sequence_lengths(data.x_train)
        buckets = bucket_lengths(lengths, data.x_train.shape[1], self.buckets)
        return len(bucketed_batches(lengths, buckets, self.batch_size))

    def to_dict(self) -> dict:
        return {"spec": self.spec.to_dict(), "batch_size": self.batch_size, "epochs": self.epochs,
                "buckets": self.buckets, "decay_epochs": self.decay_epochs, "decay_floor": self.decay_floor,
                "dataset": self.dataset}


FAST_RECIPE = FastRecipe(
    spec=ModelSpec(name="fast-gru", vocab_size=30000, maxlen=400, embedding_dim=64, mask_zero=True, cell="gru",
                   units=32, pooling="max", optimizer="adam", learning_rate=4e-3),
)


class CosineDecay:
    """A Keras callback lowering the learning rate every step: cosine from ``start`` to
    ``start * floor`` over ``steps``, then flat.

    Keras' own `LearningRateScheduler` changes the rate once per epoch; on JAX the optimizer
    state lives outside the model during `fit`, so each step first brings it back
    (`jax_state_sync`, a few dozen array references) before setting the rate.
    """

    def __new__(cls, start: float, steps: int, floor: float = 0.1):
        import math

        import keras

        class _CosineDecay(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.step = 0

            def on_train_batch_begin(self, batch, logs=None):
                progress = min(1.0, self.step / max(1, steps))
                rate = start * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress)))
                if hasattr(self.model, "jax_state_sync"):
                    self.model.jax_state_sync()
                self.model.optimizer.learning_rate.assign(rate)
                self.step += 1

        return _CosineDecay()


def prepare_fast(recipe: FastRecipe = FAST_RECIPE, *, seed: int = 0):
    """Load and encode the recipe's data (from the on-disk cache after the first run)."""
    from rnnlab.train import prepare_for

    return prepare_for(recipe.spec, recipe.recipe(), seed=seed, cache=True)


def train_fast(recipe: FastRecipe = FAST_RECIPE, *, out=None, seed: int = 0, data=None, callbacks=(),
               verbose: str | int = "auto", evaluate_test: bool = True):
    """Train the fast recipe; returns a `TrainResult` (saved as a bundle to ``out`` if given).

    Args:
        recipe: the recipe (default :data:`FAST_RECIPE`).
        out: bundle folder to save to (default: not saved).
        seed: seeds the split, the initial weights and the batch order (default 0).
        data: prepared data from :func:`prepare_fast` (default: prepared here).
        callbacks: Keras callbacks for `model.fit`.
        verbose: Keras verbosity (default ``"auto"``).
        evaluate_test: score the test split after training (default True).
    """
    from rnnlab.train import fit

    if data is None:
        data = prepare_fast(recipe, seed=seed)
    if not evaluate_test:
        data = dataclasses.replace(data, x_test=None, y_test=None)
    callbacks = list(callbacks)
    if recipe.decay_epochs:
        start = recipe.spec.learning_rate or 1e-3
        steps = round(recipe.steps_per_epoch(data) * recipe.decay_epochs)
        callbacks.insert(0, CosineDecay(start, steps, recipe.decay_floor))
    result = fit(recipe.spec, recipe.recipe(), data, seed=seed, verbose=verbose, callbacks=callbacks,
                 buckets=recipe.buckets)
    if out is not None:
        result.save(out)
    return result
