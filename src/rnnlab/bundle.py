"""A trained model on disk: Keras model, preprocessing, spec and metrics in one folder.

Saving never uses pickle: the model is a `.keras` file loaded in Keras safe mode, everything
else is JSON. A bundle is written to a temporary folder and renamed into place, so a crash
never leaves a half-written bundle where a good one was.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from rnnlab.errors import InvalidInputError, RnnlabError
from rnnlab.models import ModelSpec
from rnnlab.text import Preprocessor

MODEL_FILE = "model.keras"
PREPROCESSING_FILE = "preprocessing.json"
SPEC_FILE = "spec.json"
METRICS_FILE = "metrics.json"
CURVES_FILE = "training_curves.png"
REQUIRED = (MODEL_FILE, PREPROCESSING_FILE, SPEC_FILE)


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def save_bundle(result, out: str | Path) -> Path:
    """Write a `TrainResult` as a bundle folder at `out` (replacing an older bundle there)."""
    from rnnlab.plots import plot_training_curves

    out = Path(out)
    with staged_folder(out) as staging:
        result.model.save(staging / MODEL_FILE)
        _write_json(staging / PREPROCESSING_FILE, result.preprocessor.to_json())
        _write_json(staging / SPEC_FILE, result.spec.to_dict())
        _write_json(staging / METRICS_FILE, result.metrics())
        if result.history:
            plot_training_curves(result.history, staging / CURVES_FILE, title=result.spec.name)
    return out


@contextlib.contextmanager
def staged_folder(out: Path, marker: str = MODEL_FILE, what: str = "an rnnlab bundle"):
    """Yield an empty folder beside ``out``; on success it replaces ``out``, on failure it is removed."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        yield staging
        swap_into_place(staging, out, marker, what)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def swap_into_place(staging: Path, out: Path, marker: str = MODEL_FILE, what: str = "an rnnlab bundle") -> None:
    """Replace the folder ``out`` by ``staging`` so a reader never sees half of either.

    An existing ``out`` is only replaced when it holds ``marker`` (it is one of ours) or is empty.
    """
    if out.exists():
        if not (out / marker).exists() and any(out.iterdir()):
            raise RnnlabError(f"{out} exists and is not {what}; choose another --out folder.")
        old = out.with_name(f".{out.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(out, old)
        os.replace(staging, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, out)


def _load_preprocessing(file: Path):
    """Text preprocessing, or the scaling and padding of a numeric-sequence model."""
    from rnnlab.numeric import FORMAT as SEQUENCE_FORMAT, SequencePreprocessor

    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = None
    if isinstance(data, dict) and data.get("format") == SEQUENCE_FORMAT:
        return SequencePreprocessor.from_json(data)
    return Preprocessor.load(file)


@dataclass
class Prediction:
    """One classified text, with what the model actually saw of it."""

    text: str
    label: str
    label_id: int
    probability: float
    probabilities: dict[str, float]
    tokens: list[str]
    n_tokens: int
    n_oov: int
    truncated: bool

    def to_dict(self) -> dict:
        return asdict(self)


class Bundle:
    """A loaded bundle: `Bundle.load(DIR).predict(["An excellent movie!"])`."""

    def __init__(self, model, preprocessor: Preprocessor, spec: ModelSpec, metrics: dict | None = None,
                 path: Path | None = None):
        self.model = model
        self.preprocessor = preprocessor
        self.spec = spec
        self.metrics = metrics or {}
        self.path = path
        names = self.metrics.get("class_names")
        self.class_names = tuple(names) if names else tuple(str(i) for i in range(spec.num_classes))

    @classmethod
    def load(cls, path: str | Path) -> "Bundle":
        import keras

        import rnnlab.models.cell_loop  # noqa: F401  (registers the custom model class)
        import rnnlab.models.layers  # noqa: F401  (registers the masked pooling layers)

        path = Path(path)
        if not path.is_dir():
            raise RnnlabError(f"No model bundle at {path}: expected a folder made by `rnnlab train --out`.")
        missing = [name for name in REQUIRED if not (path / name).exists()]
        if missing:
            raise RnnlabError(f"{path} is not a complete rnnlab bundle: missing {', '.join(missing)}. Retrain it.")
        try:
            model = keras.saving.load_model(path / MODEL_FILE, compile=False, safe_mode=True)
        except Exception as exc:  # Keras raises several types for a damaged archive
            raise RnnlabError(f"Cannot load {path / MODEL_FILE}: {exc}. The file is damaged; retrain the model.") from exc
        preprocessor = _load_preprocessing(path / PREPROCESSING_FILE)
        spec = ModelSpec.load(path / SPEC_FILE)
        metrics_path = path / METRICS_FILE
        metrics = json.loads(metrics_path.read_text(encoding="utf-8")) if metrics_path.exists() else {}
        return cls(model, preprocessor, spec, metrics, path)

    @property
    def test_accuracy(self) -> float | None:
        return (self.metrics.get("test") or {}).get("accuracy")

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """Class probabilities, shape (len(texts), num_classes)."""
        from rnnlab.evaluate import probabilities

        return probabilities(self.model, self.preprocessor.transform(self._check(texts)))

    def predict(self, texts: list[str] | str) -> list[Prediction]:
        """Label, probability and token details for each text."""
        from rnnlab.evaluate import probabilities

        texts = self._check(texts)
        encoded = self.preprocessor.encode(texts)
        probs = probabilities(self.model, encoded.ids)
        predictions = []
        for i, text in enumerate(texts):
            label_id = int(probs[i].argmax())
            predictions.append(Prediction(
                text=text,
                label=self.class_names[label_id],
                label_id=label_id,
                probability=float(probs[i, label_id]),
                probabilities={name: float(p) for name, p in zip(self.class_names, probs[i])},
                tokens=list(encoded.tokens[i]),
                n_tokens=int(encoded.n_tokens[i]),
                n_oov=int(encoded.n_oov[i]),
                truncated=bool(encoded.truncated[i]),
            ))
        return predictions

    @staticmethod
    def _check(texts) -> list[str]:
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, (list, tuple)) or not texts:
            raise InvalidInputError("predict() takes a non-empty list of texts.")
        return list(texts)
