"""The two studies rnnlab ships as ready-made experiments.

Settings a study does not state are left to the recipes, which use Keras defaults (Adam's
default learning rate, `validation_split=0.2`); the report prints every setting used.
"""

from __future__ import annotations

from rnnlab.errors import unknown_name
from rnnlab.experiments.sweeps.config import ExperimentConfig, apply_changes
from rnnlab.models.zoo import ARRANGEMENT_NAMES, TEXTBOOK_NAMES

PRESETS = ("arrangements", "textbook")


def arrangements(**changes) -> ExperimentConfig:
    """The custom recurrent arrangements study: 12 arrangements x 5 runs x 5 epochs.

    IMDB with a 5,000-word vocabulary; Keras `imdb.load_data(maxlen=100)` keeps only reviews
    shorter than 100 tokens (start token included), which is the recipes' `length_rule="filter"`
    with `maxlen=99`. As in the study, every run of a model starts from the same initial
    weights (`vary_init=False`); runs differ in the training split and the data order.
    """
    config = ExperimentConfig(
        name="arrangements", models=list(ARRANGEMENT_NAMES), runs=5, seed=0, vary_init=False,
        data={"dataset": "imdb", "vocab_size": 5000, "maxlen": 99, "length_rule": "filter"},
        training={"epochs": 5, "batch_size": 32, "optimizer": "adam"}, preset="arrangements",
    )
    return apply_changes(config, **changes)


def textbook(**changes) -> ExperimentConfig:
    """The textbook's five IMDB models, 3 runs each, with their own recipes.

    The textbook reports a single run per model, so there is no protocol to copy for repeats:
    here each run gets its own initial weights (`vary_init=True`), the usual way to measure
    run-to-run spread.
    """
    config = ExperimentConfig(name="textbook", models=list(TEXTBOOK_NAMES), runs=3, seed=0, vary_init=True,
                              preset="textbook")
    return apply_changes(config, **changes)


def preset(name: str, **changes) -> ExperimentConfig:
    if name not in PRESETS:
        raise unknown_name("preset", name, PRESETS)
    return {"arrangements": arrangements, "textbook": textbook}[name](**changes)
