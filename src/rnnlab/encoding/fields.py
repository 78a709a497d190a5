"""Model input for several text fields at once (title and body, say), one array per encoder.

One vocabulary is fitted on the training part of every field an encoder reads; each
encoder then gets its own padded id matrix at its own `maxlen`. The result is a
`PreparedData` whose `x_*` are dicts keyed by encoder name, which Keras feeds to the inputs
of the same names.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from rnnlab.data import TextDataset
from rnnlab.encoding.prepare import PreparedData
from rnnlab.encoding.split import split_validation
from rnnlab.errors import DataFormatError, InvalidInputError
from rnnlab.text import Encoded, Preprocessor


def field_texts(dataset: TextDataset, name: str) -> list[str]:
    """The texts an encoder named `name` reads: `"text"` is the whole text, else `dataset.fields[name]`."""
    if name == "text":
        return dataset.texts
    if name not in dataset.fields:
        available = ", ".join(["text", *sorted(dataset.fields)])
        raise InvalidInputError(
            f"Dataset {dataset.name or ''!r} has no field {name!r} for the encoder of that name; fields: {available}.")
    return dataset.fields[name]


FORMAT = "rnnlab.fields-preprocessing"
_VERSION = 1


@dataclass
class FieldsPreprocessor:
    """One vocabulary, one padded id matrix per text field: ``{"title": ..., "body": ...}`` records in.

    Args:
        base: the fitted text preprocessing (tokenizer, vocabulary, padding) every field shares.
        maxlens: each field's (model input's) name and padded length, in the model's input order.

    Example:
        >>> prep = FieldsPreprocessor(Preprocessor(vocab_size=50).fit(["good", "bad"]), {"title": 4, "body": 8})
        >>> {k: v.shape for k, v in prep.transform([{"title": "good", "body": "bad"}]).items()}
        {'title': (1, 4), 'body': (1, 8)}
    """

    base: Preprocessor
    maxlens: dict[str, int] = field(default_factory=dict)

    @property
    def vocabulary(self):
        return self.base.vocabulary

    @property
    def mode(self) -> str:
        return self.base.mode

    @property
    def padding(self) -> str:
        return self.base.padding

    @property
    def maxlen(self) -> int:
        return max(self.maxlens.values())

    def field(self, name: str) -> Preprocessor:
        """The text preprocessing of one field (the shared vocabulary at the field's length)."""
        return dataclasses.replace(self.base, maxlen=self.maxlens[name])

    def encode_records(self, records: list[dict[str, str]]) -> tuple[dict[str, np.ndarray], dict[str, Encoded]]:
        """Id matrices per field and what each field's encoding saw; a blank field is all padding."""
        arrays, details = {}, {}
        for name in self.maxlens:
            texts = [record[name] for record in records]
            arrays[name], details[name] = _encode_field(self.field(name), texts)
        return arrays, details

    def transform(self, records: list[dict[str, str]]) -> dict[str, np.ndarray]:
        return self.encode_records(records)[0]

    def to_json(self) -> dict:
        return {"format": FORMAT, "version": _VERSION, "fields": dict(self.maxlens), "text": self.base.to_json()}

    @classmethod
    def from_json(cls, data: dict) -> "FieldsPreprocessor":
        if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != _VERSION:
            raise DataFormatError(f"Not saved fields preprocessing ({FORMAT} version {_VERSION}).")
        fields = data.get("fields")
        if not isinstance(fields, dict) or not fields or not all(
                isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in fields.values()):
            raise DataFormatError("Saved fields preprocessing needs 'fields': {name: maxlen, ...}.")
        return cls(Preprocessor.from_json(data.get("text")), dict(fields))


def _encode_field(prep: Preprocessor, texts: list[str]) -> tuple[np.ndarray, Encoded]:
    present = [i for i, t in enumerate(texts) if t and not t.isspace()]
    n = len(texts)
    ids = np.zeros((n, prep.maxlen), dtype="int32")
    tokens: list[list[str]] = [[] for _ in range(n)]
    n_tokens, n_oov, truncated = np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n, bool)
    if present:
        encoded = prep.encode([texts[i] for i in present])
        ids[present] = encoded.ids
        for j, i in enumerate(present):
            tokens[i] = encoded.tokens[j]
        n_tokens[present], n_oov[present], truncated[present] = encoded.n_tokens, encoded.n_oov, encoded.truncated
    return ids, Encoded(ids, tokens, n_tokens, n_oov, truncated)


def encode_fields(preprocessor: FieldsPreprocessor, dataset: TextDataset) -> dict[str, np.ndarray]:
    """Id matrices per encoder for a dataset's fields; an empty field (no title) is all padding."""
    columns = {name: field_texts(dataset, name) for name in preprocessor.maxlens}
    return {name: _encode_field(preprocessor.field(name), texts)[0] for name, texts in columns.items()}


def prepare_fields(train: TextDataset, test: TextDataset | None, spec, *, mode: str = "keras",
                   padding: str = "pre", truncating: str = "pre", validation_split: float = 0.2,
                   seed: int = 0) -> PreparedData:
    """Split, fit one vocabulary on the training fields, encode each field for its encoder.

    Args:
        train, test: datasets whose `fields` (or `texts`) hold what each encoder reads.
        spec: a `ModelSpec` with `inputs`; each encoder's `maxlen` sets its padding length.
        mode, padding, truncating: as in `Preprocessor`.
        validation_split: fraction of the shuffled training rows held out (the last ones).
        seed: the shuffle before the validation split.
    """
    if not spec.inputs:
        raise InvalidInputError("prepare_fields needs a ModelSpec with inputs (one encoder per field).")
    fit_rows, val_rows = split_validation(len(train), validation_split, seed)
    train = train.subset(np.concatenate([fit_rows, val_rows]))
    n_val = len(val_rows)
    fit_part = train.subset(np.arange(len(train) - n_val))
    corpus = [t for e in spec.inputs for t in field_texts(fit_part, e.name)]
    base = Preprocessor(mode=mode, vocab_size=spec.vocab_size, maxlen=spec.maxlen, padding=padding,
                        truncating=truncating).fit(corpus)
    maxlens = {e.name: e.as_spec(spec).maxlen for e in spec.inputs}
    for name, maxlen in maxlens.items():
        if maxlen is None:
            raise InvalidInputError(f"Encoder {name!r} needs a maxlen (its own or the model's).")
    preprocessor = FieldsPreprocessor(base, maxlens)
    x_all = encode_fields(preprocessor, train)
    cut = len(train) - n_val
    x_train = {k: v[:cut] for k, v in x_all.items()}
    x_val = {k: v[cut:] for k, v in x_all.items()} if n_val else None
    y_val = train.labels[cut:] if n_val else None
    x_test = encode_fields(preprocessor, test) if test is not None else None
    info = {
        "train_examples": int(cut),
        "validation_examples": int(n_val),
        "test_examples": int(0 if test is None else len(test)),
        "vocabulary_size": len(base.vocabulary),
        "inputs": dict(maxlens),
        "validation_split": validation_split,
        "seed": seed,
    }
    return PreparedData(preprocessor, x_train, train.labels[:cut], x_val, y_val, x_test,
                        None if test is None else test.labels, train.class_names, info)
