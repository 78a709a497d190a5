"""Using trained models: load a bundle, predict, evaluate, explain: one prediction path for all.

``Bundle.load(DIR)`` (or ``rnnlab.load``) opens a bundle; its ``predictor`` encodes records of
the bundle's input kind, runs the compiled model and returns labelled predictions.
"""

import importlib

# Names resolved on first use (PEP 562): they import Keras, which takes seconds.
_EXPORTS = {
    "Bundle": "rnnlab.inference.bundle",
    "BatchPredictor": "rnnlab.inference.predictor",
    "Prediction": "rnnlab.inference.predictor",
    "Predictor": "rnnlab.inference.predictor",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
