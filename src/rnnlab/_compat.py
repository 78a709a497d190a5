"""Old module names keep working for one release, with a deprecation warning.

rnnlab 0.2 gave each concept one place in the layers ``data -> text -> encoding -> models ->
training -> inference -> experiments -> serve -> cli``. ``import rnnlab.train`` and the other
pre-0.2 names (and the flat ``rnnlab.experiments.*`` modules of the 0.2 previews) still
import, as aliases of the new modules, and say where the code lives now.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

MOVED = {
    "rnnlab.train": "rnnlab.training.engine",
    "rnnlab.evaluate": "rnnlab.training.metrics",
    "rnnlab.stateful": "rnnlab.training.stateful",
    "rnnlab.finetune": "rnnlab.training.finetune",
    "rnnlab.language_model": "rnnlab.training.language_model",
    "rnnlab.prepare": "rnnlab.encoding.prepare",
    "rnnlab.numeric": "rnnlab.encoding.sequences",
    "rnnlab.fields": "rnnlab.encoding.fields",
    "rnnlab.bucketing": "rnnlab.encoding.bucketing",
    "rnnlab.bundle": "rnnlab.inference.bundle",
    "rnnlab.batch_predict": "rnnlab.inference.predictor",
    "rnnlab.serve.compiled": "rnnlab.training.forward",
    "rnnlab.inference.compiled": "rnnlab.training.forward",
    "rnnlab.serve.explain": "rnnlab.inference.explain",
    "rnnlab.experiments.cli": "rnnlab.cli.experiment",
    # experiments split by job (sweeps, reports, recipes, reproductions); Ray moved down a layer
    "rnnlab.experiments.auto": "rnnlab.experiments.recipes.auto",
    "rnnlab.experiments.baseline": "rnnlab.experiments.recipes.baseline",
    "rnnlab.experiments.recipe": "rnnlab.experiments.recipes.recipe",
    "rnnlab.experiments.stack": "rnnlab.experiments.recipes.stack",
    "rnnlab.experiments.tune": "rnnlab.experiments.recipes.tune",
    "rnnlab.experiments.document": "rnnlab.experiments.reports.document",
    "rnnlab.experiments.figures": "rnnlab.experiments.reports.figures",
    "rnnlab.experiments.report": "rnnlab.experiments.reports.report",
    "rnnlab.experiments.stats": "rnnlab.experiments.reports.stats",
    "rnnlab.experiments.study": "rnnlab.experiments.reports.study",
    "rnnlab.experiments.beyond": "rnnlab.experiments.reproductions.beyond",
    "rnnlab.experiments.textbook": "rnnlab.experiments.reproductions.textbook",
    "rnnlab.experiments.callbacks": "rnnlab.experiments.sweeps.callbacks",
    "rnnlab.experiments.config": "rnnlab.experiments.sweeps.config",
    "rnnlab.experiments.datasets": "rnnlab.experiments.sweeps.datasets",
    "rnnlab.experiments.presets": "rnnlab.experiments.sweeps.presets",
    "rnnlab.experiments.runner": "rnnlab.experiments.sweeps.runner",
    "rnnlab.experiments.store": "rnnlab.experiments.sweeps.store",
    "rnnlab.experiments.progress": "rnnlab.experiments.sweeps.display",
    "rnnlab.experiments.cluster": "rnnlab.training.cluster",
    "rnnlab.experiments.batch": "rnnlab.inference.batch",
}


#: pre-0.2 modules whose content became a config, with where it is now
REMOVED = {
    "rnnlab.fast_recipe": "the fast recipe is the committed config 'imdb-fast' now: run `rnnlab experiment run "
                          "imdb-fast`, or read it with rnnlab.experiments.recipes.recipe.recipe_parts(read_config('imdb-fast')).",
}


class _Alias(importlib.abc.Loader):
    def __init__(self, target: str):
        self.target = target

    def create_module(self, spec):
        warnings.warn(f"{spec.name} is deprecated and will be removed in rnnlab 0.3: import {self.target} instead.",
                      DeprecationWarning, stacklevel=3)
        module = importlib.import_module(self.target)
        self.own_spec = module.__spec__
        return module

    def exec_module(self, module):
        # The target is already executed; importlib has just set its __spec__ to the alias's.
        module.__spec__ = self.own_spec


class MovedModules(importlib.abc.MetaPathFinder):
    """Resolves a pre-0.2 module name to the module that holds its code now."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname in REMOVED:
            raise ImportError(f"{fullname} was removed in rnnlab 0.2: {REMOVED[fullname]}", name=fullname)
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, _Alias(MOVED[fullname]))


def install() -> None:
    if not any(isinstance(finder, MovedModules) for finder in sys.meta_path):
        sys.meta_path.append(MovedModules())
