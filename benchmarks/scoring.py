"""Score a model while it trains: accuracy every fraction of an epoch, on a wall clock that pauses.

Used by the time-to-accuracy benchmark (on the test split, which defines that benchmark)
and by the recipe search (on a validation split). Keras and PyTorch training loops both
report to a `Curve`.
"""

from __future__ import annotations

import math

import keras

from common import StopClock


class Curve:
    """Points (training seconds, epochs, accuracy); the clock is paused while scoring."""

    def __init__(self, clock: StopClock, target: float | None = None, name: str = "", log=None):
        self.clock = clock
        self.target = target
        self.name = name
        self.points: list[dict] = []
        self.log = log

    def score(self, epochs: float, accuracy_fn) -> float:
        with self.clock.pause():
            accuracy = float(accuracy_fn())
        self.points.append({"seconds": round(self.clock.elapsed(), 2), "epochs": round(epochs, 3),
                            "accuracy": round(accuracy, 5)})
        if self.log:
            self.log(f"{self.name}: {self.points[-1]}")
        return accuracy

    @property
    def reached(self) -> dict | None:
        """The first point at or above the target, or None."""
        if self.target is None:
            return None
        return next((p for p in self.points if p["accuracy"] >= self.target), None)

    def to_dict(self) -> dict:
        reached = self.reached
        return {"points": self.points, "target": self.target,
                "seconds_to_target": reached["seconds"] if reached else None,
                "best_accuracy": max((p["accuracy"] for p in self.points), default=None)}


class ScoreEvery(keras.callbacks.Callback):
    """Score a Keras model every ``every`` epochs (a fraction: 0.5 = twice per epoch).

    Args:
        curve: where the points go.
        accuracy: ``accuracy(model) -> float``.
        steps_per_epoch: batches per epoch.
        every: epochs between scores (default 0.5).
        stop_at_target: stop training at the first score reaching the curve's target.
    """

    def __init__(self, curve: Curve, accuracy, steps_per_epoch: int, every: float = 0.5,
                 stop_at_target: bool = False):
        super().__init__()
        self.curve = curve
        self.accuracy = accuracy
        self.steps_per_epoch = steps_per_epoch
        per_epoch = max(1, math.ceil(1 / every))
        # Steps inside an epoch after which to score; the last one ends the epoch.
        self.at = {min(steps_per_epoch, max(1, round(steps_per_epoch * k / per_epoch))) for k in range(1, per_epoch + 1)}
        self.stop_at_target = stop_at_target
        self.steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        if (self.steps - 1) % self.steps_per_epoch + 1 not in self.at:
            return
        # On JAX the weights live outside the model during fit; bring them back before reading.
        if hasattr(self.model, "jax_state_sync"):
            self.model.jax_state_sync()
        accuracy = self.curve.score(self.steps / self.steps_per_epoch, lambda: self.accuracy(self.model))
        if self.stop_at_target and self.curve.target is not None and accuracy >= self.curve.target:
            self.model.stop_training = True


def binary_accuracy(x, y, batch_size: int = 1024):
    """``accuracy(model)`` for a single-sigmoid model on (x, y)."""

    def accuracy(model) -> float:
        p = model.predict(x, batch_size=batch_size, verbose=0).reshape(-1)
        return float(((p > 0.5) == y).mean())

    return accuracy
