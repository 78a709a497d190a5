"""Ctrl-C that stops training, wherever it lands.

Python raises KeyboardInterrupt in whatever code runs when SIGINT arrives. During Keras
training on JAX that is often numpy's conversion of a JAX array, which swallows the exception:
training went on as if nothing had happened. :func:`install` (called by the command line)
records the request as well as raising it, and the training engine adds
`rnnlab.training.engine.InterruptCheck`, which raises again between batches.
"""

from __future__ import annotations

import signal
import threading

requested = threading.Event()


def install() -> None:
    """Handle SIGINT in Python from now on: remember it and raise KeyboardInterrupt.

    Also undoes an inherited "ignore SIGINT" (a process started in the background by a
    non-interactive shell), so Ctrl-C and `kill -INT` always reach rnnlab.
    """
    if threading.current_thread() is not threading.main_thread():
        return

    def interrupted(signum, frame):
        requested.set()
        raise KeyboardInterrupt

    requested.clear()
    signal.signal(signal.SIGINT, interrupted)


def check() -> None:
    """Raise KeyboardInterrupt if an interrupt was requested and swallowed on its way."""
    if requested.is_set():
        raise KeyboardInterrupt
