"""Turn a `ModelSpec` into a compiled Keras model.

Layers get stable names (`embedding`, `lstm_1`, `output`...) so that summaries, weight
checks and explanations can find them without guessing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import keras
import numpy as np
from keras import layers

from rnnlab.errors import InvalidInputError
from rnnlab.models.cell_loop import CellLoopClassifier
from rnnlab.models.inputs import build_order
from rnnlab.models.kernels import accelerate
from rnnlab.models.layers import POOLING_LAYERS, AttentionPooling, EmbeddingPerturbation
from rnnlab.models.modes import Chunks, NamedFields, NumericSteps, TokenIds

if TYPE_CHECKING:  # annotations only: the spec imports this module when it builds, not the other way
    from rnnlab.models.spec import ModelSpec

RNN_LAYERS = {"simple": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}
LAYER_PREFIX = {"simple": "simple_rnn", "lstm": "lstm", "gru": "gru"}


def build_model(spec: ModelSpec, compile: bool = True, *, perturbable: bool = False) -> keras.Model:
    """The Keras model of ``spec``; ``perturbable`` adds an `EmbeddingPerturbation` after the token embedding
    (the training model of adversarial objectives: same weights, in the same order, as the plain one)."""
    if perturbable and (spec.architecture != "layers" or not isinstance(spec.input_mode, TokenIds)):
        raise InvalidInputError("Adversarial objectives perturb the embedding of one token input: they need a "
                                "'layers' model reading token ids (not features, inputs or cell-loop).")
    if spec.architecture == "cell-loop":
        model = CellLoopClassifier.from_spec(spec)
        model.build((None, spec.maxlen))
    else:
        model = _build_layers(spec, perturbable)
    if spec.embedding_matrix:
        _load_embedding(model, spec)
    accelerate(model)
    if compile:
        compile_model(model, spec)
    return model


def _build_layers(spec: ModelSpec, perturbable: bool = False) -> keras.Model:
    mode = spec.input_mode
    if isinstance(mode, NamedFields):
        return build_multi_input(spec)
    inputs = _input(mode, spec.chunks, spec.maxlen)
    x = encode(inputs, spec, perturbable=perturbable)
    return keras.Model(inputs, classifier_head(x, spec), name=model_name(spec.name))


def _input(mode: TokenIds | NumericSteps, chunks: Chunks | None, maxlen: int | None):
    """Token ids `(maxlen,)` or numeric steps `(maxlen, features)`; a fixed batch of chunks when stateful."""
    steps = chunks.chunk_length if chunks else maxlen
    if isinstance(mode, NumericSteps):
        shape, dtype, name = (steps, mode.features), "float32", "sequence"
    else:
        shape, dtype, name = (steps,), "int32", "tokens"
    if chunks is None:
        return keras.Input(shape=shape, dtype=dtype, name=name)
    if chunks.batch_size is None:
        raise InvalidInputError(
            "A stateful model has a fixed batch size: set ModelSpec.batch_size (rnnlab train takes the "
            "recipe's batch size when it is unset).")
    return keras.Input(batch_shape=(chunks.batch_size, *shape), dtype=dtype, name=name)


def encode(x, spec: ModelSpec, prefix: str = "", initial_state=None, return_state: bool = False,
           perturbable: bool = False):
    """Embedding (or masking) -> stacked recurrent layers -> pooling, on the tensor `x`.

    With `initial_state`, the first recurrent layer starts from those states; with
    `return_state`, the top layer's final states are returned too: `(output, states)`.
    """
    if spec.features is None:
        x = layers.Embedding(
            spec.vocab_size,
            spec.embedding_dim,
            mask_zero=spec.mask_zero,
            trainable=spec.embedding_trainable,
            name=f"{prefix}embedding",
        )(tokens := x)
        if perturbable:
            x = EmbeddingPerturbation(name=f"{prefix}embedding_perturbation")(x)
        if spec.nb_features:
            # Filled from the training labels before training (`rnnlab.training.engine`); zeros until then.
            ratios = layers.Embedding(spec.vocab_size, nb_channels(spec.num_classes), mask_zero=spec.mask_zero,
                                      trainable=False, embeddings_initializer="zeros", name=f"{prefix}nb_ratios")
            x = layers.Concatenate(name=f"{prefix}embedding_and_nb")([x, ratios(tokens)])
    elif spec.mask_value is not None:
        x = layers.Masking(mask_value=spec.mask_value, name=f"{prefix}masking")(x)
    if spec.spatial_dropout:
        x = layers.SpatialDropout1D(spec.spatial_dropout, name=f"{prefix}spatial_dropout")(x)

    units = spec.layer_units
    states = None
    for depth, width in enumerate(units, start=1):
        top = depth == len(units)
        return_sequences = not top or spec.pooling != "last"
        options = dict(spec.rnn_options)
        if spec.stateful:
            options["stateful"] = True
        if top and return_state:
            options["return_state"] = True
        rnn = RNN_LAYERS[spec.cell](
            width,
            return_sequences=return_sequences,
            dropout=spec.dropout,
            recurrent_dropout=spec.recurrent_dropout,
            name=f"{prefix}{LAYER_PREFIX[spec.cell]}_{depth}",
            **options,
        )
        if spec.bidirectional:
            rnn = layers.Bidirectional(rnn, merge_mode=spec.merge_mode, name=f"{prefix}bidirectional_{depth}")
        if depth == 1 and initial_state is not None:
            x = rnn(x, initial_state=list(initial_state))
        else:
            x = rnn(x)
        if top and return_state:
            x, *states = x

    if spec.pooling == "avg":
        x = layers.GlobalAveragePooling1D(name=f"{prefix}avg_pool")(x)
    elif spec.pooling == "attention":
        x, _ = AttentionPooling(name=f"{prefix}attention")(x)
    elif spec.pooling in POOLING_LAYERS:
        x = POOLING_LAYERS[spec.pooling](name=f"{prefix}{spec.pooling}_pool")(x)
    return (x, states) if return_state else x


def nb_channels(num_classes: int) -> int:
    """Naive-Bayes ratio channels per token: one for two classes (positive against negative), else one per class."""
    return 1 if num_classes == 2 else num_classes


def classifier_head(x, spec: ModelSpec):
    """Dropout -> hidden Dense layers -> sigmoid (binary), one sigmoid per label (multi-label), softmax, or for a
    regression one linear unit rescaled to the target's units (``target_scale``, ``target_mean``)."""
    if spec.output_dropout:
        x = layers.Dropout(spec.output_dropout, name="dropout")(x)
    for i, dense in enumerate(spec.head, start=1):
        x = layers.Dense(dense.units, activation=dense.activation, name=f"dense_{i}")(x)
        if dense.dropout:
            x = layers.Dropout(dense.dropout, name=f"dense_{i}_dropout")(x)
    if spec.regression:
        x = layers.Dense(1, name="value")(x)
        return layers.Rescaling(scale=float(spec.target_scale), offset=float(spec.target_mean), name="output")(x)
    if spec.binary:
        return layers.Dense(1, activation="sigmoid", name="output")(x)
    if spec.multi_label:
        return layers.Dense(spec.num_classes, activation="sigmoid", name="output")(x)
    return layers.Dense(spec.num_classes, activation="softmax", name="output")(x)


def compile_metrics(spec: ModelSpec) -> list:
    """What Keras reports each epoch: accuracy; for several labels a row, the share of labels right
    (``accuracy``) and the macro-F1 over labels at threshold 0.5 (``macro_f1``)."""
    if spec.regression:
        return [keras.metrics.MeanAbsoluteError(name="mae")]
    if not spec.multi_label:
        return ["accuracy"]
    return [keras.metrics.BinaryAccuracy(name="accuracy"),
            keras.metrics.F1Score(average="macro", threshold=0.5, name="macro_f1")]


def model_name(name: str) -> str:
    # Keras model names must be valid scope names.
    return "".join(c if c.isalnum() or c == "_" else "_" for c in name) or "model"


def _load_embedding(model: keras.Model, spec: ModelSpec) -> None:
    try:
        matrix = np.load(spec.embedding_matrix, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise InvalidInputError(f"Cannot read embedding matrix {spec.embedding_matrix}: {exc}") from exc
    # With several inputs, each encoder's embedding starts from the same matrix.
    names = [f"{e.name}_embedding" for e in spec.inputs] or ["embedding"]
    for name in names:
        layer = model.get_layer(name)
        expected = (spec.vocab_size, layer.output_dim)
        if matrix.shape != expected:
            raise InvalidInputError(
                f"Embedding matrix {spec.embedding_matrix} has shape {matrix.shape}; the spec needs {expected}."
            )
        layer.set_weights([matrix])


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
    model.compile(optimizer=make_optimizer(spec), loss=spec.loss_name, metrics=compile_metrics(spec))
    return model


def build_multi_input(spec: "ModelSpec"):
    """The Keras model for a spec with `inputs` (called by `build_model`)."""
    sources = {e.initial_state_from for e in spec.inputs if e.initial_state_from}
    tensors, outputs, states = {}, {}, {}
    for encoder in build_order(spec):
        resolved = encoder.as_spec(spec)
        tensors[encoder.name] = keras.Input(shape=(resolved.maxlen,), dtype="int32", name=encoder.name)
        initial = states.get(encoder.initial_state_from)
        result = encode(tensors[encoder.name], resolved, prefix=f"{encoder.name}_", initial_state=initial,
                        return_state=encoder.name in sources)
        if encoder.name in sources:
            outputs[encoder.name], states[encoder.name] = result
        else:
            outputs[encoder.name] = result
    ordered = [outputs[e.name] for e in spec.inputs]
    if len(ordered) == 1:
        x = ordered[0]
    elif spec.input_merge == "concat":
        x = layers.Concatenate(name="merge")(ordered)
    elif spec.input_merge == "sum":
        x = layers.Add(name="merge")(ordered)
    else:
        x = layers.Average(name="merge")(ordered)
    return keras.Model([tensors[e.name] for e in spec.inputs], classifier_head(x, spec), name=model_name(spec.name))
