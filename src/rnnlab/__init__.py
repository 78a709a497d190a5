"""rnnlab: recurrent text and sequence classifiers with Keras semantics."""

from rnnlab import _backend  # noqa: F401  (must run before anything imports keras)

__version__ = "0.1.0"


def load(path):
    """Load a saved model bundle: ``rnnlab.load(DIR).predict(["An excellent movie!"])``."""
    from rnnlab.bundle import Bundle

    return Bundle.load(path)


__all__ = ["__version__", "load"]
