"""rnnlab: recurrent text and sequence classifiers with Keras semantics.

The package is layered; each layer imports only the ones before it::

    data -> text -> encoding -> models -> training -> inference -> experiments -> serve -> cli

``rnnlab.load(DIR)`` opens a saved bundle; ``rnnlab.training.train`` trains one;
``rnnlab.TextClassifier`` and ``rnnlab.TextRegressor`` are scikit-learn estimators over raw texts. See
docs/architecture.md for where each concept lives.
"""

from rnnlab import (
    _backend,  # noqa: F401  (must run before anything imports keras)
    _compat,
)
from rnnlab._version import __version__

_compat.install()


def load(path):
    """Load a saved model bundle: ``rnnlab.load(DIR).predict(["An excellent movie!"])``."""
    # Imported on use: the bundle pulls in Keras, which `import rnnlab` alone should not.
    from rnnlab.inference.bundle import Bundle

    return Bundle.load(path)


def __getattr__(name):
    # Resolved on first use: the estimator pulls in Keras and scikit-learn.
    if name in ("TextClassifier", "TextRegressor"):
        from rnnlab.inference import estimator

        return getattr(estimator, name)
    raise AttributeError(f"module 'rnnlab' has no attribute {name!r}")


__all__ = ["TextClassifier", "TextRegressor", "__version__", "load"]
