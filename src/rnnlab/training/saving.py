"""The bundle format, written: a trained model, its preprocessing, spec and metrics in one folder.

Beside them: ``training_curves.png``, the test rows' ``reliability.png`` (reliability diagram)
and ``precision_recall.png`` (each class's curve), and TensorBoard event files in ``logs/``
(:mod:`rnnlab.training.tracking`). Saving never uses pickle: the model is a ``.keras`` file
(loaded in Keras safe mode by :mod:`rnnlab.inference.bundle`), everything else is JSON. A
bundle is built in a staged folder and swapped into place (:func:`rnnlab.files.staged_folder`),
so a crash never leaves a half-written bundle where a good one was.
"""

from __future__ import annotations

from pathlib import Path

from rnnlab.files import staged_folder, write_json
from rnnlab.plots import plot_precision_recall, plot_reliability, plot_training_curves
from rnnlab.training.tracking import TENSORBOARD_DIR, write_tensorboard

MODEL_FILE = "model.keras"
PREPROCESSING_FILE = "preprocessing.json"
SPEC_FILE = "spec.json"
METRICS_FILE = "metrics.json"
CURVES_FILE = "training_curves.png"
RELIABILITY_FILE = "reliability.png"
PRECISION_RECALL_FILE = "precision_recall.png"
REQUIRED = (MODEL_FILE, PREPROCESSING_FILE, SPEC_FILE)


def save_bundle(result, out: str | Path) -> Path:
    """Write a :class:`rnnlab.training.TrainResult` as a bundle folder at ``out`` (replacing an older bundle)."""
    out = Path(out)
    with staged_folder(out, marker=MODEL_FILE, what="an rnnlab bundle") as staging:
        result.model.save(staging / MODEL_FILE)
        write_json(staging / PREPROCESSING_FILE, result.preprocessor.to_json(), indent=2)
        write_json(staging / SPEC_FILE, result.spec.to_dict(), indent=2)
        write_json(staging / METRICS_FILE, result.metrics(), indent=2)
        if result.history:
            plot_training_curves(result.history, staging / CURVES_FILE, title=result.spec.name)
            write_tensorboard(result.history, staging / TENSORBOARD_DIR,
                              text={"model": f"{result.spec.name}: {result.params:,} parameters"})
        test = result.test or {}
        if test.get("calibration"):
            plot_reliability(test["calibration"], staging / RELIABILITY_FILE, title=f"{result.spec.name}, test rows")
        if test.get("precision_recall"):
            plot_precision_recall(test["precision_recall"], staging / PRECISION_RECALL_FILE,
                                  title=f"{result.spec.name}, test rows")
    return out
