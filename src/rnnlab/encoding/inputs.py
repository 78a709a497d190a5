"""One protocol for every input kind: records in, model arrays out, saved with a format tag.

A bundle's ``preprocessing.json`` holds one of three kinds of preprocessing, told apart by
its ``format`` tag and reloaded by :func:`load_inputs`:

========== ============================================ =====================================
kind       a record is                                  preprocessing (format tag)
========== ============================================ =====================================
text       a string                                     :class:`rnnlab.text.Preprocessor`
                                                        (``rnnlab.preprocessing``)
fields     a mapping of field name to string            :class:`FieldsPreprocessor`
           (``{"title": ..., "body": ...}``)            (``rnnlab.fields-preprocessing``)
sequences  an array ``(steps, features)`` of numbers    :class:`SequencePreprocessor`
                                                        (``rnnlab.sequence-preprocessing``)
========== ============================================ =====================================

Each kind checks its records (:meth:`check`, one clear error for a wrong one) and encodes
them (:meth:`encode`) into a :class:`Batch`: what the model is fed, plus for text kinds
what it saw of each record (tokens, unknown words, truncation). A new input kind is a new
class here with its own tag, registered in ``KINDS``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rnnlab.encoding.fields import FieldsPreprocessor
from rnnlab.encoding.sequences import SequencePreprocessor
from rnnlab.errors import DataFormatError, InvalidInputError
from rnnlab.files import read_json
from rnnlab.text import Preprocessor

EXAMPLE_TEXT = "An excellent movie with a dull ending."

__all__ = ["Batch", "InputKind", "TextInputs", "FieldInputs", "SequenceInputs", "KINDS", "inputs_for", "load_inputs"]


@dataclass
class Batch:
    """Encoded records: ``x`` for the model, and per-record details where the kind has them.

    Attributes:
        x: an array, or a dict of arrays keyed by model input name.
        size: the number of records.
        tokens: the tokens the model saw of each record (text kinds), else None.
        n_tokens, n_oov, truncated: per record; zeros / False for numeric sequences.
    """

    x: np.ndarray | dict[str, np.ndarray]
    size: int
    tokens: list[list[str]] | None = None
    n_tokens: np.ndarray = field(default=None)
    n_oov: np.ndarray = field(default=None)
    truncated: np.ndarray = field(default=None)

    def __post_init__(self):
        if self.n_tokens is None:
            self.n_tokens = np.zeros(self.size, dtype=np.int64)
        if self.n_oov is None:
            self.n_oov = np.zeros(self.size, dtype=np.int64)
        if self.truncated is None:
            self.truncated = np.zeros(self.size, dtype=bool)


def _non_empty(records, what: str) -> list:
    if isinstance(records, (str, bytes, Mapping)) or not isinstance(records, Sequence) and not isinstance(
            records, np.ndarray):
        raise InvalidInputError(f"Expected a list of {what}, got {type(records).__name__}.")
    records = list(records)
    if not records:
        raise InvalidInputError(f"Nothing to predict: give at least one {what[:-1] if what.endswith('s') else what}.")
    return records


class InputKind:
    """What the three kinds share: the fitted preprocessing, and its length and padding side."""

    kind = ""

    def __init__(self, preprocessor):
        self.preprocessor = preprocessor

    @property
    def maxlen(self) -> int | None:
        return self.preprocessor.maxlen

    @property
    def padding(self) -> str:
        return self.preprocessor.padding


class TextInputs(InputKind):
    """Raw texts, one string per record."""

    kind = "text"
    record_help = "a string"

    def check(self, records) -> list[str]:
        records = _non_empty(records, "texts")
        for i, text in enumerate(records):
            if not isinstance(text, str):
                raise InvalidInputError(f"Record {i} must be a text (a string), got {type(text).__name__}.")
            if not text.strip():
                raise InvalidInputError(f"text {i} is empty.")
        return records

    def encode(self, records) -> Batch:
        encoded = self.preprocessor.encode(self.check(records))
        return Batch(encoded.ids, len(encoded), encoded.tokens, encoded.n_tokens, encoded.n_oov, encoded.truncated)

    def example(self) -> str:
        return EXAMPLE_TEXT

    def describe(self) -> dict:
        p = self.preprocessor
        return {"kind": self.kind, "vocabulary_size": len(p.vocabulary), "maxlen": p.maxlen, "tokenizer": p.mode}


class FieldInputs(InputKind):
    """Several named texts per record (title and body, say), one model input each."""

    kind = "fields"

    @property
    def fields(self) -> list[str]:
        return list(self.preprocessor.maxlens)

    @property
    def record_help(self) -> str:
        return "an object with the fields " + ", ".join(repr(f) for f in self.fields)

    def check(self, records) -> list[dict[str, str]]:
        records = _non_empty(records, "records")
        wanted = self.fields
        checked = []
        for i, record in enumerate(records):
            if not isinstance(record, Mapping):
                raise InvalidInputError(f"Record {i} must be {self.record_help}, got {type(record).__name__}.")
            missing = [f for f in wanted if f not in record]
            if missing:
                raise InvalidInputError(f"Record {i} has no field {', '.join(map(repr, missing))}; this model "
                                        f"reads {', '.join(map(repr, wanted))}.")
            values = {f: record[f] for f in wanted}
            for name, value in values.items():
                if not isinstance(value, str):
                    raise InvalidInputError(f"Field {name!r} of record {i} must be a string, got "
                                            f"{type(value).__name__}.")
            if not any(v.strip() for v in values.values()):
                raise InvalidInputError(f"Record {i} is empty: every field is blank.")
            checked.append(values)
        return checked

    def encode(self, records) -> Batch:
        records = self.check(records)
        arrays, details = self.preprocessor.encode_records(records)
        tokens = [[t for name in self.fields for t in details[name].tokens[i]] for i in range(len(records))]
        n_tokens = sum(np.asarray(details[f].n_tokens) for f in self.fields)
        n_oov = sum(np.asarray(details[f].n_oov) for f in self.fields)
        truncated = np.any([np.asarray(details[f].truncated) for f in self.fields], axis=0)
        return Batch(arrays, len(records), tokens, n_tokens, n_oov, truncated)

    def example(self) -> dict[str, str]:
        return {name: EXAMPLE_TEXT for name in self.fields}

    def describe(self) -> dict:
        p = self.preprocessor
        return {"kind": self.kind, "fields": dict(p.maxlens), "vocabulary_size": len(p.vocabulary),
                "maxlen": max(p.maxlens.values()), "tokenizer": p.mode}


class SequenceInputs(InputKind):
    """Numeric sequences, one ``(steps, features)`` array (or nested list) per record."""

    kind = "sequences"

    @property
    def record_help(self) -> str:
        return f"a list of time steps, each a list of {self.preprocessor.features} numbers"

    def check(self, records) -> list[np.ndarray]:
        records = _non_empty(records, "sequences")
        features = self.preprocessor.features
        checked = []
        for i, record in enumerate(records):
            try:
                array = np.asarray(record, dtype=np.float32)
            except (TypeError, ValueError):
                raise InvalidInputError(f"Sequence {i} must be {self.record_help}.") from None
            if array.ndim == 1 and features == 1:
                array = array[:, None]
            if array.ndim != 2 or array.shape[1] != features or len(array) == 0:
                raise InvalidInputError(f"Sequence {i} has shape {array.shape}; this model reads sequences of "
                                        f"(steps, {features}) numbers.")
            if not np.isfinite(array).all():
                raise InvalidInputError(f"Sequence {i} holds NaN or infinite values.")
            checked.append(array)
        return checked

    def encode(self, records) -> Batch:
        records = self.check(records)
        x = self.preprocessor.transform(records)
        steps = np.asarray([len(r) for r in records])
        truncated = steps > x.shape[1]
        return Batch(x, len(records), None, np.minimum(steps, x.shape[1]), None, truncated)

    def example(self) -> np.ndarray:
        return np.zeros((self.preprocessor.maxlen or 1, self.preprocessor.features), dtype=np.float32)

    def describe(self) -> dict:
        p = self.preprocessor
        return {"kind": self.kind, "features": p.features, "maxlen": p.maxlen}


#: format tag of the saved preprocessing -> (preprocessing class, input kind)
KINDS = {
    "rnnlab.preprocessing": (Preprocessor, TextInputs),
    "rnnlab.fields-preprocessing": (FieldsPreprocessor, FieldInputs),
    "rnnlab.sequence-preprocessing": (SequencePreprocessor, SequenceInputs),
}


def inputs_for(preprocessor) -> TextInputs | FieldInputs | SequenceInputs:
    """The input kind of a fitted preprocessing object."""
    for cls, kind in KINDS.values():
        if isinstance(preprocessor, cls):
            return kind(preprocessor)
    raise InvalidInputError(f"No input kind reads {type(preprocessor).__name__}.")


def load_inputs(source: str | Path | dict) -> TextInputs | FieldInputs | SequenceInputs:
    """The input kind saved in a ``preprocessing.json`` (a path or its parsed content)."""
    data = read_json(source, "Preprocessing") if isinstance(source, (str, Path)) else source
    tag = data.get("format") if isinstance(data, dict) else None
    if not isinstance(tag, str) or tag not in KINDS:  # a list or an object is no tag (and cannot be looked up)
        known = ", ".join(KINDS)
        raise DataFormatError(f"Preprocessing {source if isinstance(source, (str, Path)) else ''} has format "
                              f"{tag!r}; rnnlab reads {known}. The bundle is damaged or from another program.")
    cls, kind = KINDS[tag]
    return kind(cls.from_json(data))
