"""Model input for several text fields at once (title and body, say), one array per encoder.

One vocabulary is fitted on the training part of every field an encoder reads; each
encoder then gets its own padded id matrix at its own `maxlen`. The result is a
`PreparedData` whose `x_*` are dicts keyed by encoder name, which Keras feeds to the inputs
of the same names.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rnnlab.data import TextDataset
from rnnlab.errors import InvalidInputError
from rnnlab.prepare import PreparedData
from rnnlab.text import Preprocessor


def field_texts(dataset: TextDataset, name: str) -> list[str]:
    """The texts an encoder named `name` reads: `"text"` is the whole text, else `dataset.fields[name]`."""
    if name == "text":
        return dataset.texts
    if name not in dataset.fields:
        available = ", ".join(["text", *sorted(dataset.fields)])
        raise InvalidInputError(
            f"Dataset {dataset.name or ''!r} has no field {name!r} for the encoder of that name; fields: {available}.")
    return dataset.fields[name]


def encode_fields(preprocessors: dict[str, Preprocessor], dataset: TextDataset) -> dict[str, np.ndarray]:
    """Id matrices per encoder; an empty field (a review without a title) is all padding."""
    arrays = {}
    for name, prep in preprocessors.items():
        texts = field_texts(dataset, name)
        present = [i for i, t in enumerate(texts) if t and not t.isspace()]
        ids = np.zeros((len(texts), prep.maxlen), dtype="int32")
        if present:
            ids[present] = prep.transform([texts[i] for i in present])
        arrays[name] = ids
    return arrays


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
    order = np.random.default_rng(seed).permutation(len(train))
    train = train.subset(order)
    n_val = int(round(len(train) * validation_split))
    fit_part = train.subset(np.arange(len(train) - n_val))
    corpus = [t for e in spec.inputs for t in field_texts(fit_part, e.name)]
    base = Preprocessor(mode=mode, vocab_size=spec.vocab_size, maxlen=spec.maxlen, padding=padding,
                        truncating=truncating).fit(corpus)
    preprocessors = {e.name: dataclasses.replace(base, maxlen=e.resolve(spec).maxlen) for e in spec.inputs}
    for name, prep in preprocessors.items():
        if prep.maxlen is None:
            raise InvalidInputError(f"Encoder {name!r} needs a maxlen (its own or the model's).")
    x_all = encode_fields(preprocessors, train)
    cut = len(train) - n_val
    x_train = {k: v[:cut] for k, v in x_all.items()}
    x_val = {k: v[cut:] for k, v in x_all.items()} if n_val else None
    y_val = train.labels[cut:] if n_val else None
    x_test = encode_fields(preprocessors, test) if test is not None else None
    info = {
        "train_examples": int(cut),
        "validation_examples": int(n_val),
        "test_examples": int(0 if test is None else len(test)),
        "vocabulary_size": len(base.vocabulary),
        "inputs": {name: prep.maxlen for name, prep in preprocessors.items()},
        "seed": seed,
    }
    return PreparedData(base, x_train, train.labels[:cut], x_val, y_val, x_test,
                        None if test is None else test.labels, train.class_names, info)
