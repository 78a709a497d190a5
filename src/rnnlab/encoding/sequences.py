"""From numeric sequence records to model input: standardise, pad, split.

The numeric counterpart of `rnnlab.text.Preprocessor` + `rnnlab.encoding.prepare.prepare`: a
`SequencePreprocessor` is fitted on the training split only and saved with the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rnnlab.data.numeric import SequenceDataset, is_sequence_source, load_sequences
from rnnlab.encoding.prepare import PreparedData
from rnnlab.encoding.split import split_holdout, split_validation
from rnnlab.errors import DataFormatError, InvalidInputError
from rnnlab.files import read_json, write_json

FORMAT = "rnnlab.sequence-preprocessing"
_VERSION = 1


@dataclass
class SequencePreprocessor:
    """Per-feature standardisation + padding: sequences in, a `(n, steps, features)` float32 array out.

    Args:
        maxlen: steps per sequence; None pads to the longest sequence. Defaults to None.
        padding: `"pre"` or `"post"` (default), where padded steps go.
        truncating: `"pre"` (default, keeps the end) or `"post"`, for sequences over `maxlen`.
        mask_value: the value of every feature of a padded step; a model with
            `Masking(mask_value)` skips those steps. Defaults to 0.0.
        standardize: scale each feature to zero mean and unit variance over the training
            steps (padding excluded). Defaults to True.

    Example:
        >>> prep = SequencePreprocessor(maxlen=4).fit([np.ones((2, 3)), np.zeros((3, 3))])
        >>> prep.transform([np.ones((2, 3))]).shape
        (1, 4, 3)
    """

    maxlen: int | None = None
    padding: str = "post"
    truncating: str = "pre"
    mask_value: float = 0.0
    standardize: bool = True
    mean: list[float] | None = field(default=None, repr=False)
    std: list[float] | None = field(default=None, repr=False)

    def _check(self) -> None:
        for name in ("padding", "truncating"):
            if getattr(self, name) not in ("pre", "post"):
                raise InvalidInputError(f"{name} must be 'pre' or 'post', got {getattr(self, name)!r}.")
        if self.maxlen is not None and (not isinstance(self.maxlen, int) or self.maxlen < 1):
            raise InvalidInputError(f"maxlen must be a positive integer or None, got {self.maxlen!r}.")

    @property
    def features(self) -> int | None:
        return None if self.mean is None else len(self.mean)

    def fit(self, sequences) -> SequencePreprocessor:
        self._check()
        steps = np.concatenate([np.asarray(s, dtype=np.float64) for s in sequences])
        self.mean = steps.mean(axis=0).tolist() if self.standardize else [0.0] * steps.shape[1]
        std = steps.std(axis=0) if self.standardize else np.ones(steps.shape[1])
        self.std = np.where(std > 1e-8, std, 1.0).tolist()  # constant features stay as they are
        return self

    def transform(self, sequences) -> np.ndarray:
        if self.mean is None:
            raise InvalidInputError("This SequencePreprocessor is not fitted yet: call fit(train_sequences).")
        sequences = [np.asarray(s, dtype=np.float32) for s in sequences]
        if any(s.ndim != 2 or s.shape[1] != self.features for s in sequences):
            raise InvalidInputError(f"Every sequence must be a (steps, {self.features}) array.")
        steps = self.maxlen or max(len(s) for s in sequences)
        out = np.full((len(sequences), steps, self.features), self.mask_value, dtype=np.float32)
        mean, std = np.asarray(self.mean, np.float32), np.asarray(self.std, np.float32)
        for i, s in enumerate(sequences):
            s = s[-steps:] if self.truncating == "pre" else s[:steps]
            s = (s - mean) / std
            if self.padding == "pre":
                out[i, steps - len(s):] = s
            else:
                out[i, : len(s)] = s
        return out

    def to_json(self) -> dict:
        return {"format": FORMAT, "version": _VERSION, "maxlen": self.maxlen, "padding": self.padding,
                "truncating": self.truncating, "mask_value": self.mask_value, "standardize": self.standardize,
                "mean": self.mean, "std": self.std}

    @classmethod
    def from_json(cls, data: dict) -> SequencePreprocessor:
        if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != _VERSION:
            raise DataFormatError(f"Not saved sequence preprocessing ({FORMAT} version {_VERSION}).")
        try:
            prep = cls(**{k: data[k] for k in ("maxlen", "padding", "truncating", "mask_value", "standardize",
                                                "mean", "std")})
        except KeyError as exc:
            raise DataFormatError(f"Saved sequence preprocessing is missing {exc}.") from None
        prep._check()
        return prep

    def save(self, path) -> None:
        write_json(path, self.to_json(), indent=2)

    @classmethod
    def load(cls, path) -> SequencePreprocessor:
        return cls.from_json(read_json(path, "Sequence preprocessing"))


def prepare_sequences(train: SequenceDataset, test: SequenceDataset | None, *, maxlen: int | None = None,
                      padding: str = "post", truncating: str = "pre", mask_value: float | None = 0.0,
                      standardize: bool = True, validation_split: float = 0.2, seed: int = 0) -> PreparedData:
    """Shuffle, carve the validation split (last rows), fit scaling on the rest, pad every split."""
    if train.labels is None:
        raise InvalidInputError(f"Dataset {train.name!r} has no labels; a classifier needs labelled examples.")
    fit_rows, val_rows = split_validation(len(train), validation_split, seed)
    train = train.subset(np.concatenate([fit_rows, val_rows]))
    n_val = len(val_rows)
    fit_part = train.subset(np.arange(len(train) - n_val))
    longest = max(int(train.lengths.max()), int(test.lengths.max()) if test is not None else 0)
    prep = SequencePreprocessor(maxlen=maxlen or longest, padding=padding, truncating=truncating,
                                mask_value=0.0 if mask_value is None else float(mask_value),
                                standardize=standardize).fit(fit_part.sequences)
    x_all = prep.transform(train.sequences)
    x_train, y_train = x_all[: len(train) - n_val], train.labels[: len(train) - n_val]
    x_val = x_all[len(train) - n_val:] if n_val else None
    y_val = train.labels[len(train) - n_val:] if n_val else None
    x_test = prep.transform(test.sequences) if test is not None else None
    y_test = test.labels if test is not None else None
    info = {
        "train_examples": int(len(x_train)),
        "validation_examples": int(n_val),
        "test_examples": int(0 if x_test is None else len(x_test)),
        "features": train.features,
        "steps": int(x_all.shape[1]),
        "validation_split": validation_split,
        "seed": seed,
    }
    return PreparedData(prep, x_train, y_train, x_val, y_val, x_test, y_test, train.class_names, info)


def prepare_sequences_for(spec, recipe, *, seed: int = 0, limit: int | None = None,
                          test_fraction: float = 0.2) -> PreparedData:
    """Load `recipe.dataset` as numeric sequences and prepare it for `spec` (a spec with `features`)."""
    if spec.features is None:
        raise InvalidInputError(
            f"Dataset {recipe.dataset!r} holds numeric sequences, but {spec.name!r} reads token ids: train a spec "
            f"with features set (e.g. configs/beyond/digits-stacked-lstm.json).")
    if not is_sequence_source(recipe.dataset) and not str(recipe.dataset).lower().endswith((".csv", ".tsv")):
        raise InvalidInputError(
            f"{spec.name!r} reads numeric sequences (features={spec.features}) but dataset {recipe.dataset!r} is "
            f"not one: pass --dataset digits, a .npz/.npy file or a .csv with one row per time step.")
    whole = load_sequences(recipe.dataset)
    train, test = split_holdout(whole, test_fraction, seed)
    if limit:
        train, test = train.sample(limit, seed=seed), test.sample(limit, seed=seed)
    return prepare_sequences(train, test, maxlen=spec.maxlen, padding=recipe.padding, truncating=recipe.truncating,
                             mask_value=spec.mask_value, validation_split=recipe.validation_split, seed=seed)
