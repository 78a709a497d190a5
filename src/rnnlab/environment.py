"""Facts about where a run happened: library versions and the machine.

Every results file, bundle and model card records both, from here. Keras (and the backend's
library) are imported on use, so reading a config or printing ``--help`` stays instant.
"""

from __future__ import annotations

import os
import platform
import sys

from rnnlab._backend import backend_name
from rnnlab._version import __version__


def versions() -> dict[str, str]:
    """rnnlab, Keras, numpy, Python and the Keras backend's library, each with its version."""
    import keras
    import numpy as np

    found = {"rnnlab": __version__, "keras": keras.__version__, "numpy": np.__version__,
             "python": platform.python_version()}
    backend = backend_name()
    module = sys.modules.get(backend) or __import__(backend)
    found[backend] = getattr(module, "__version__", "unknown")
    return found


def machine() -> dict:
    """OS, CPU, core count, the Keras backend and its devices (accelerators, where there are any)."""
    backend = backend_name()
    info = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "backend": backend}
    try:
        if backend == "jax":
            import jax

            info["devices"] = [f"{d.platform}:{getattr(d, 'device_kind', d)}" for d in jax.devices()]
        elif backend == "torch":
            import torch

            info["devices"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] or ["cpu"]
    except Exception:  # noqa: BLE001 - device listing is informative only
        pass
    return info
