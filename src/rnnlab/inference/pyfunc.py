"""A bundle as an MLflow ``pyfunc`` model: ``mlflow.pyfunc.load_model(uri).predict(frame)``.

`rnnlab train --mlflow` logs it beside the run (``runs:/RUN_ID/model``): the bundle folder is the
model's one artifact and :class:`BundleModel` opens it with `rnnlab.inference.Bundle.load` (a stack
too). ``predict`` takes a pandas DataFrame of raw records (a ``text`` column, else the only
column; a two-field bundle's field columns) or a list of texts, and returns the rows `rnnlab
predict --output` writes: label and probabilities (label sets, or a regression's ``value``), tokens
fed, unknown words and truncation. The environment that loads it needs rnnlab installed.

Example:
    >>> model = mlflow.pyfunc.load_model(f"runs:/{run_id}/model")  # doctest: +SKIP
    >>> model.predict(pandas.DataFrame({"text": ["An excellent movie!"]}))["label"].tolist()  # doctest: +SKIP
    ['pos']
"""

from __future__ import annotations

from pathlib import Path

import mlflow.pyfunc

from rnnlab.encoding.records import TEXT_COLUMNS
from rnnlab.errors import InvalidInputError
from rnnlab.inference.batch import is_regression, output_columns, prediction_row

__all__ = ["BundleModel", "log_bundle_model"]

#: where the model sits in its run: ``runs:/RUN_ID/model``
MODEL_NAME = "model"


class BundleModel(mlflow.pyfunc.PythonModel):
    """The pyfunc wrapper of one bundle folder (its ``bundle`` artifact)."""

    def load_context(self, context) -> None:
        from rnnlab.inference.bundle import Bundle

        self.bundle = Bundle.load(context.artifacts["bundle"])

    def predict(self, context, model_input, params=None):
        import pandas

        bundle = self.bundle
        records = _records(model_input, bundle)
        names = list(bundle.class_names)
        predictions = bundle.predict(records)
        label_sets = getattr(bundle, "thresholds", None) is not None
        columns = output_columns(names, label_sets, is_regression(bundle))
        return pandas.DataFrame([prediction_row(p, names) for p in predictions], columns=columns)


def _records(model_input, bundle) -> list:
    """The raw records of a DataFrame (a text column, or the field columns), a Series or a list of texts."""
    if hasattr(model_input, "columns") and hasattr(model_input, "to_dict"):
        columns = [str(c) for c in model_input.columns]
        if bundle.kind == "fields":
            fields = list(bundle.inputs.fields)
            missing = [f for f in fields if f not in columns]
            if missing:
                raise InvalidInputError(f"The DataFrame has no column {', '.join(map(repr, missing))} (columns: "
                                        f"{', '.join(columns)}); this bundle reads {', '.join(map(repr, fields))}.")
            return [{f: "" if row[f] is None else str(row[f]) for f in fields}
                    for row in model_input[fields].to_dict(orient="records")]
        column = next((c for c in TEXT_COLUMNS if c in columns), columns[0] if len(columns) == 1 else None)
        if column is None:
            raise InvalidInputError(f"The DataFrame has no text column (columns: {', '.join(columns)}); name it "
                                    f"{' or '.join(map(repr, TEXT_COLUMNS))}, or pass one column.")
        return model_input[column].tolist()
    if isinstance(model_input, str):
        return [model_input]
    return model_input.tolist() if hasattr(model_input, "tolist") else list(model_input)


def log_bundle_model(mlflow_module, bundle: str | Path) -> str:
    """Log the bundle at ``bundle`` as the active run's pyfunc model; returns its model URI."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    from rnnlab._version import __version__
    from rnnlab.inference.bundle import Bundle

    loaded = Bundle.load(bundle)
    inputs = [ColSpec("string", f) for f in loaded.inputs.fields] if loaded.kind == "fields" \
        else [ColSpec("string", "text")]
    signature = ModelSignature(inputs=Schema(inputs)) if loaded.kind != "sequences" else None
    info = mlflow_module.pyfunc.log_model(
        name=MODEL_NAME, python_model=BundleModel(), artifacts={"bundle": str(bundle)}, signature=signature,
        pip_requirements=[f"rnnlab=={__version__}"])
    return info.model_uri
