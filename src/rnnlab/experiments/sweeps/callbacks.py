"""Keras callbacks a sweep attaches to every run: an initial-weights fingerprint and progress."""

from __future__ import annotations

import hashlib
import time
from typing import Callable

import keras
import numpy as np


def weights_fingerprint(model) -> str:
    """sha256 of every weight array (shape, dtype and values), in layer order."""
    digest = hashlib.sha256()
    for array in model.get_weights():
        array = np.ascontiguousarray(array)
        digest.update(f"{array.shape}{array.dtype}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


class InitialWeightsFingerprint(keras.callbacks.Callback):
    """Records `weights_fingerprint` of the model as training starts (before any update).

    Two runs with equal fingerprints started from identical weights.
    """

    def __init__(self):
        super().__init__()
        self.fingerprint: str | None = None

    def on_train_begin(self, logs=None):
        self.fingerprint = weights_fingerprint(self.model)


class ProgressReporter(keras.callbacks.Callback):
    """Sends `{"epoch", "epochs", "step", "steps"}` updates to `report`, at most every `every` seconds.

    Args:
        report: called with a dict; in a worker process it puts the dict on a queue.
        every: minimum seconds between step updates (epoch ends are always sent). Defaults to 0.25.
    """

    def __init__(self, report: Callable[[dict], None], every: float = 0.25):
        super().__init__()
        self.report = report
        self.every = every
        self._epoch = 0
        self._step = 0
        self._last = 0.0

    def _send(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last >= self.every:
            self._last = now
            epochs = self.params.get("epochs") or 0
            steps = self.params.get("steps") or 0
            self.report({"epoch": self._epoch, "epochs": epochs, "step": self._step,
                         "steps": steps * epochs if steps else 0})

    def on_train_begin(self, logs=None):
        self._epoch = 1
        self._send(force=True)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        self._send()

    def on_epoch_end(self, epoch, logs=None):
        self._send(force=True)
