"""Training: one engine (:func:`fit`) for every spec, data kind and strategy, one `TrainingConfig`.

``train("lstm", out="runs/lstm")`` is the one-line path; ``fit(spec, data, TrainingConfig(...))``
the engine under it; :class:`TrainResult` what both return.
"""

from rnnlab._backend import lazy_exports

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

__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
