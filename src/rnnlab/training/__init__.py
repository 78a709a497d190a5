"""Training: one engine (:func:`fit`) for every spec, data kind and strategy, one `TrainingConfig`.

``train("lstm", out="runs/lstm")`` is the one-line path; ``fit(spec, data, TrainingConfig(...))``
the engine under it; :class:`TrainResult` what both return.
"""

import importlib

# Names resolved on first use (PEP 562): the engine imports Keras, which takes seconds, and
# `rnnlab.training.config` (plain data) should not pay for it.
_EXPORTS = {
    "EarlyStopping": "rnnlab.training.config",
    "TrainingConfig": "rnnlab.training.config",
    "config_from_recipe": "rnnlab.training.config",
    "resolve": "rnnlab.training.config",
    "TrainResult": "rnnlab.training.engine",
    "fit": "rnnlab.training.engine",
    "prepare_for": "rnnlab.training.engine",
    "train": "rnnlab.training.engine",
    "train_model": "rnnlab.training.engine",
    "save_bundle": "rnnlab.training.saving",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
