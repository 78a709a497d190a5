"""Choose the Keras backend before Keras is first imported.

Keras reads ``KERAS_BACKEND`` once, at import time, so this must run before any
``import keras``. JAX is the default because it measured fastest on small CPUs;
a backend the user already chose is never overridden.
"""

import os

DEFAULT_BACKEND = "jax"

os.environ.setdefault("KERAS_BACKEND", DEFAULT_BACKEND)
# Keras prints a line per compiled function on some backends; keep the CLI quiet.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def backend_name() -> str:
    """The backend Keras is (or will be) running on."""
    return os.environ["KERAS_BACKEND"]
