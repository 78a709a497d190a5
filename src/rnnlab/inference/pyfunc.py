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

from rnnlab.data.tables import is_dataframe
from rnnlab.encoding.records import record_columns
from rnnlab.inference.batch import file_columns, prediction_row
from rnnlab.inference.predictor import as_records

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
        predictions = bundle.predict(_records(model_input, bundle))
        return pandas.DataFrame([prediction_row(p, bundle.class_names) for p in predictions],
                                columns=file_columns(bundle))


def _records(model_input, bundle) -> list:
    """The raw records of a DataFrame (a text column, else its only column; the field columns), a Series or a list
    of texts."""
    if not is_dataframe(model_input):
        return as_records(model_input)
    frame = model_input.set_axis([str(c) for c in model_input.columns], axis=1)
    if bundle.kind == "text" and len(frame.columns) == 1:
        return frame.iloc[:, 0].tolist()
    columns = record_columns("The DataFrame", list(frame.columns), bundle.inputs)
    if bundle.kind == "text":
        return frame[columns["text"]].tolist()
    return [{f: "" if row[f] is None else str(row[f]) for f in columns}
            for row in frame[list(columns)].to_dict(orient="records")]


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
