"""Using trained models: load a bundle, predict, evaluate, explain: one prediction path for all.

``Bundle.load(DIR)`` (or ``rnnlab.load``) opens a bundle; its ``predictor`` encodes records of
the bundle's input kind, runs the compiled model and returns labelled predictions.
"""

from rnnlab._backend import lazy_exports

# Names resolved on first use (PEP 562): they import Keras, which takes seconds.
_EXPORTS = {
    "Bundle": "rnnlab.inference.bundle",
    "BatchPredictor": "rnnlab.inference.predictor",
    "Prediction": "rnnlab.inference.predictor",
    "Predictor": "rnnlab.inference.predictor",
}

__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
