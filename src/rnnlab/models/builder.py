"""Turn a `ModelSpec` into a compiled Keras model.

Layers get stable names (`embedding`, `lstm_1`, `output`...) so that summaries, weight
checks and explanations can find them without guessing.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from rnnlab.errors import InvalidInputError
from rnnlab.models.spec import ModelSpec

RNN_LAYERS = {"simple": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}
LAYER_PREFIX = {"simple": "simple_rnn", "lstm": "lstm", "gru": "gru"}


def build_model(spec: ModelSpec, compile: bool = True) -> keras.Model:
    if spec.architecture == "cell-loop":
        from rnnlab.models.cell_loop import CellLoopClassifier

        model = CellLoopClassifier.from_spec(spec)
        model.build((None, spec.maxlen))
    else:
        model = _build_layers(spec)
    if spec.embedding_matrix:
        _load_embedding(model, spec)
    if compile:
        compile_model(model, spec)
    return model


def _build_layers(spec: ModelSpec) -> keras.Model:
    inputs = keras.Input(shape=(spec.maxlen,), dtype="int32", name="tokens")
    x = layers.Embedding(
        spec.vocab_size,
        spec.embedding_dim,
        mask_zero=spec.mask_zero,
        trainable=spec.embedding_trainable,
        name="embedding",
    )(inputs)
    if spec.spatial_dropout:
        x = layers.SpatialDropout1D(spec.spatial_dropout, name="spatial_dropout")(x)

    units = spec.layer_units
    for depth, width in enumerate(units, start=1):
        top = depth == len(units)
        return_sequences = not top or spec.pooling != "last"
        rnn = RNN_LAYERS[spec.cell](
            width,
            return_sequences=return_sequences,
            dropout=spec.dropout,
            recurrent_dropout=spec.recurrent_dropout,
            name=f"{LAYER_PREFIX[spec.cell]}_{depth}",
            **spec.rnn_options,
        )
        if spec.bidirectional:
            rnn = layers.Bidirectional(rnn, merge_mode=spec.merge_mode, name=f"bidirectional_{depth}")
        x = rnn(x)

    if spec.pooling == "avg":
        x = layers.GlobalAveragePooling1D(name="avg_pool")(x)
    elif spec.pooling == "max":
        x = layers.GlobalMaxPooling1D(name="max_pool")(x)
    if spec.output_dropout:
        x = layers.Dropout(spec.output_dropout, name="dropout")(x)
    for i, dense in enumerate(spec.head, start=1):
        x = layers.Dense(dense.units, activation=dense.activation, name=f"dense_{i}")(x)
        if dense.dropout:
            x = layers.Dropout(dense.dropout, name=f"dense_{i}_dropout")(x)
    if spec.binary:
        outputs = layers.Dense(1, activation="sigmoid", name="output")(x)
    else:
        outputs = layers.Dense(spec.num_classes, activation="softmax", name="output")(x)
    return keras.Model(inputs, outputs, name=_model_name(spec.name))


def _model_name(name: str) -> str:
    # Keras model names must be valid scope names.
    return "".join(c if c.isalnum() or c == "_" else "_" for c in name) or "model"


def _load_embedding(model: keras.Model, spec: ModelSpec) -> None:
    try:
        matrix = np.load(spec.embedding_matrix, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise InvalidInputError(f"Cannot read embedding matrix {spec.embedding_matrix}: {exc}") from exc
    expected = (spec.vocab_size, spec.embedding_dim)
    if matrix.shape != expected:
        raise InvalidInputError(
            f"Embedding matrix {spec.embedding_matrix} has shape {matrix.shape}; the spec needs {expected}."
        )
    model.get_layer("embedding").set_weights([matrix])


def make_optimizer(spec: ModelSpec) -> keras.optimizers.Optimizer:
    config: dict = {}
    if spec.learning_rate is not None:
        config["learning_rate"] = spec.learning_rate
    if spec.clipnorm is not None:
        config["clipnorm"] = spec.clipnorm
    try:
        return keras.optimizers.get({"class_name": spec.optimizer, "config": config})
    except ValueError as exc:
        raise InvalidInputError(
            f"Unknown optimizer {spec.optimizer!r}: use a Keras optimizer name such as rmsprop, adam, adamw, sgd."
        ) from exc


def compile_model(model: keras.Model, spec: ModelSpec) -> keras.Model:
    model.compile(optimizer=make_optimizer(spec), loss=spec.loss_name, metrics=["accuracy"])
    return model
