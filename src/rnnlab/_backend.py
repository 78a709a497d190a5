"""Keras on rnnlab's terms: the backend chosen before Keras is first imported, and Keras
imported only when used.

Keras reads ``KERAS_BACKEND`` once, at import time, so this must run before any
``import keras``. JAX is the default because it measured fastest on small CPUs;
a backend the user already chose is never overridden. `lazy_exports` lets a package whose
modules import Keras export their names without importing Keras with the package.
"""

import importlib
import os

DEFAULT_BACKEND = "jax"

os.environ.setdefault("KERAS_BACKEND", DEFAULT_BACKEND)
# Keras prints a line per compiled function on some backends; keep the CLI quiet.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def backend_name() -> str:
    """The backend Keras is (or will be) running on."""
    return os.environ["KERAS_BACKEND"]


def lazy_exports(package: str, exports: dict[str, str]):
    """``(__getattr__, __all__)`` for ``package`` (PEP 562): each name is imported from its module when first used."""
    def __getattr__(name: str):
        if name in exports:
            return getattr(importlib.import_module(exports[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__, sorted(exports)
