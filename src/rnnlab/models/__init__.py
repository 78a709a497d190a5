"""Model descriptions (`ModelSpec`), the named tutorial models, and weight-shape checks."""

from rnnlab.models.spec import DenseSpec, ModelSpec
from rnnlab.models.zoo import MODELS, NamedModel, Recipe, get, names

__all__ = ["DenseSpec", "ModelSpec", "MODELS", "NamedModel", "Recipe", "get", "names"]
