"""Training curves where people already look at them: TensorBoard event files, and MLflow.

Every bundle holds TensorBoard event files in ``logs/`` (``tensorboard --logdir DIR/logs``),
written with tensorboardX, so TensorFlow is not needed. They follow Keras' own TensorBoard
callback: a ``train`` and a ``validation`` run, each with ``epoch_loss``, ``epoch_accuracy``...,
so the two curves of a metric share one chart. ``log_mlflow`` sends a run's parameters,
curves, test metrics and bundle to an MLflow tracking store.
"""

from __future__ import annotations

import os
from pathlib import Path

from rnnlab.errors import InvalidInputError, RnnlabError

TENSORBOARD_DIR = "logs"


def write_tensorboard(history: dict[str, list[float]], folder: str | Path, *, text: dict[str, str] | None = None
                      ) -> Path:
    """Write per-epoch ``history`` (Keras' ``History.history``) as event files under ``folder``.

    Args:
        history: ``{"loss": [...], "val_loss": [...], ...}``, one value per epoch.
        folder: where ``train/`` and ``validation/`` go.
        text: more to show in TensorBoard's text tab, e.g. the model's description.
    """
    from tensorboardX import (
        SummaryWriter,  # imported on use: only saving a bundle needs it
    )

    folder = Path(folder)
    for run, prefix in (("train", ""), ("validation", "val_")):
        keys = [k for k in history if (k.startswith("val_") if prefix else not k.startswith("val_"))]
        if not keys:
            continue
        writer = SummaryWriter(str(folder / run), flush_secs=3600)
        try:
            for key in keys:
                for epoch, value in enumerate(history[key]):
                    writer.add_scalar(f"epoch_{key[len(prefix):]}", float(value), epoch)
            if run == "train":
                for tag, content in (text or {}).items():
                    writer.add_text(tag, content, 0)
        finally:
            writer.close()
    return folder


def log_mlflow(result, bundle: str | Path | None, uri: str | None = None, experiment: str = "rnnlab", *,
               log_model=None) -> str:
    """Log a :class:`TrainResult`'s parameters, curves, test metrics and bundle folder to MLflow.

    Args:
        uri: a tracking URI (``http://HOST:PORT``, ``sqlite:///mlflow.db``...) or a local folder
            (default ``mlruns``).
        experiment: the MLflow experiment's name.
        log_model: ``log_model(mlflow, bundle)``, called inside the run to log the bundle as a model
            (`rnnlab.inference.pyfunc.log_bundle_model`: ``runs:/RUN_ID/model``).

    Returns the MLflow run id.
    """
    try:
        import mlflow
    except ImportError:
        raise InvalidInputError("--mlflow needs MLflow: pip install 'rnnlab[mlflow]' (or pip install mlflow).") from None
    uri = uri or "mlruns"
    if "://" not in uri and not uri.startswith(("databricks", "sqlite:")):
        # A local folder: MLflow's file store, which MLflow 3 keeps working but asks callers to opt in to.
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        uri = Path(uri).expanduser().resolve().as_uri()
    try:
        return _log(mlflow, result, bundle, uri, experiment, log_model)
    except mlflow.exceptions.MlflowException as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        kept = f" The bundle at {bundle} is saved." if bundle is not None else ""
        raise RnnlabError(f"MLflow at {uri} did not take the run: {reason}.{kept}") from None


def _log(mlflow, result, bundle, uri: str, experiment: str, log_model=None) -> str:
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(experiment)
    with mlflow.start_run(run_name=result.spec.name) as run:
        params = {f"model.{k}": v for k, v in result.spec.to_dict().items() if v is not None}
        if result.config is not None:
            params.update({f"training.{k}": v for k, v in result.config.to_dict().items() if v is not None})
        params.update({f"data.{k}": v for k, v in result.recipe.to_dict().items() if v is not None})
        mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
        if bundle is not None:
            mlflow.log_artifacts(str(bundle), artifact_path="bundle")
            if log_model is not None:
                # Before the metrics: MLflow 3 copies a run's latest metrics onto a model logged after them,
                # which shows as an extra point on every curve.
                log_model(mlflow, bundle)
        for key, values in result.history.items():
            for epoch, value in enumerate(values):
                mlflow.log_metric(key, float(value), step=epoch)
        test = result.test or {}
        mlflow.log_metrics({f"test_{k}": float(test[k]) for k in ("accuracy", "macro_f1", "loss", "mae", "rmse", "r2")
                            if test.get(k) is not None})
        mlflow.log_metric("params", result.params)
        mlflow.log_metric("train_seconds", result.train_seconds)
        return run.info.run_id
