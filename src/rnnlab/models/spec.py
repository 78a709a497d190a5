"""`ModelSpec`: a declarative, JSON-serialisable description of a recurrent classifier.

A spec is plain data (like a Keras layer config): it can be written by hand as JSON, stored
next to a trained model and turned into a Keras model with `ModelSpec.build()`. The named
models in `rnnlab.models.zoo` are specs too, so the tutorials' architectures and any other
arrangement go through the same code.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rnnlab.configfile import from_fields
from rnnlab.errors import InvalidInputError, unknown_name
from rnnlab.models.inputs import INPUT_MERGES, EncoderSpec, check_encoders
from rnnlab.models.modes import (
    Chunks,
    NamedFields,
    NumericSteps,
    TokenIds,
    chunks_of,
    input_mode_of,
)

CELLS = ("simple", "lstm", "gru")
POOLINGS = ("last", "avg", "max", "concat", "attention")
ARCHITECTURES = ("layers", "cell-loop")
MERGE_MODES = ("concat", "sum", "mul", "ave")
MAX_DEPTH = 1000


@dataclass
class DenseSpec:
    """One hidden layer of the classifier head.

    Args:
        units: width of the Dense layer.
        activation: Keras activation name. Defaults to `"relu"`.
        dropout: rate of a Dropout layer placed after it (0 = none). Defaults to 0.
    """

    units: int
    activation: str = "relu"
    dropout: float = 0.0


@dataclass
class ModelSpec:
    """Embedding -> recurrent block -> pooling -> dense head -> output, described as data.

    Args:
        name: a label stored with the model. Defaults to `"custom"`.
        vocab_size: embedding input dimension (index 0 is padding). Defaults to 8000.
        maxlen: sequence length the model is fed; `None` accepts any length. Defaults to 200.
        embedding_dim: embedding width. Defaults to 32.
        embedding_trainable: whether the embedding is updated in training. Defaults to True.
        embedding_matrix: path of a `.npy` array `(vocab_size, embedding_dim)` used as the
            initial embedding (e.g. pre-trained vectors). Defaults to None (random).
        pretrained_embeddings: a GloVe or word2vec vectors file, or `"word2vec-imdb"` (word2vec
            trained on the IMDB reviews with `embedding_dim`, cached), whose vectors start the
            embedding of the vocabulary fitted in training (`rnnlab.text.vectors`). Read once, at
            training time: a saved bundle holds the weights. Defaults to None.
        mask_zero: let index 0 mask the padded steps. Defaults to False.
        nb_features: beside the embedding, feed each token's naive-Bayes log-count ratios
            (Wang & Manning 2012): ``log((p_w + 1) / |p + 1|_1) - log((q_w + 1) / |q + 1|_1)`` from
            the share of training documents of a class (p) and of the others (q) holding token
            ``w``; one channel for two classes, one per class otherwise. They are computed from the
            training labels when the model is trained (`rnnlab.encoding.nb_ratios`) and kept as a
            non-trainable embedding (``nb_ratios``), so a saved bundle holds them. Defaults to False.
        spatial_dropout: `SpatialDropout1D` rate after the embedding. Defaults to 0.
        cell: `"simple"`, `"lstm"` or `"gru"`. Defaults to `"lstm"`.
        units: recurrent units per layer; a list gives each stacked layer its own width.
        depth: number of stacked recurrent layers (ignored when `units` is a list).
        bidirectional: wrap each recurrent layer in `Bidirectional`. Defaults to False.
        merge_mode: how `Bidirectional` merges directions. Defaults to `"concat"`.
        pooling: what the top recurrent layer hands on: `"last"` (final state), or all
            states reduced by `"avg"`, `"max"`, `"concat"` (max, mean and last together) or
            `"attention"` (additive attention; the layer named "attention" also returns
            its weights). All but `"last"` pool real tokens only when `mask_zero` is set.
            Defaults to `"last"`.
        dropout, recurrent_dropout: the Keras RNN arguments, on every recurrent layer.
        rnn_options: any other Keras RNN argument, passed to every recurrent layer
            (`activation`, `reset_after`, `unroll`, `go_backwards`...).
        output_dropout: Dropout rate after the recurrent block. Defaults to 0.
        head: hidden Dense layers before the output. Defaults to none.
        num_classes: 2 gives one sigmoid unit; more gives a softmax. Defaults to 2.
        multi_label: each example holds a set of the ``num_classes`` labels: one sigmoid per
            label and binary cross-entropy (set from the data by the engine). Defaults to False.
        optimizer, learning_rate, clipnorm: the optimizer the architecture is trained with by
            default (a tutorial's choice); a `TrainingConfig` that sets its own overrides them.
        loss: Keras loss name; defaults to binary (also for several labels a row) or sparse
            categorical cross-entropy.
        architecture: `"layers"` (Keras RNN layers) or `"cell-loop"` (cells looped over
            time steps by hand, as in the low-level TF2 tutorial). Defaults to `"layers"`.
        stateful: read each sequence in consecutive chunks of `chunk_length` steps, carrying
            the recurrent state from one batch to the next (Keras `stateful=True` on every
            recurrent layer, a fixed `batch_size`); `maxlen` is then the full length read.
            See `rnnlab.training.stateful`. Defaults to False.
        batch_size: the fixed batch size of a stateful model (Keras `batch_shape`); None
            takes the recipe's batch size at training time. Defaults to None.
        chunk_length: time steps per chunk of a stateful model. Defaults to None.
        features: numeric input of shape `(maxlen, features)` instead of token ids: no
            embedding, the sequence goes straight into the recurrent layers. Defaults to None.
        mask_value: with `features`, a `Masking(mask_value)` layer skips the steps whose
            features all equal it (padding). Defaults to None (no masking).
        inputs: several named inputs, each read by its own encoder (`EncoderSpec`), merged by
            `input_merge` before the head. Unset encoder fields take this spec's values.
            Defaults to none (a single `tokens` input).
        input_merge: `"concat"`, `"sum"` or `"average"` of the encoders' outputs.
            Defaults to `"concat"`.
        regression: predict a number, not a class: one linear unit whose output is rescaled by
            ``target_scale`` and shifted by ``target_mean`` (the training targets' spread and mean,
            set from the data by the engine, so the unit learns a standardised value), mean squared
            error unless ``loss`` says otherwise (``"huber"``...); ``num_classes`` is 1. Defaults to False.
        target_mean, target_scale: that shift and scale. Defaults to 0 and 1.

    Example:

    >>> spec = ModelSpec(cell="gru", units=64, bidirectional=True, pooling="max")
    >>> model = spec.build()
    >>> ModelSpec.from_json(spec.to_json()) == spec
    True
    """

    name: str = "custom"
    vocab_size: int = 8000
    maxlen: int | None = 200
    embedding_dim: int = 32
    embedding_trainable: bool = True
    embedding_matrix: str | None = None
    pretrained_embeddings: str | None = None
    mask_zero: bool = False
    nb_features: bool = False
    spatial_dropout: float = 0.0
    cell: str = "lstm"
    units: int | list[int] = 32
    depth: int = 1
    bidirectional: bool = False
    merge_mode: str = "concat"
    pooling: str = "last"
    dropout: float = 0.0
    recurrent_dropout: float = 0.0
    rnn_options: dict[str, Any] = field(default_factory=dict)
    output_dropout: float = 0.0
    head: list[DenseSpec] = field(default_factory=list)
    num_classes: int = 2
    multi_label: bool = False
    optimizer: str = "rmsprop"
    learning_rate: float | None = None
    clipnorm: float | None = None
    loss: str | None = None
    architecture: str = "layers"
    stateful: bool = False
    batch_size: int | None = None
    chunk_length: int | None = None
    features: int | None = None
    mask_value: float | None = None
    inputs: list[EncoderSpec] = field(default_factory=list)
    input_merge: str = "concat"
    regression: bool = False
    target_mean: float = 0.0
    target_scale: float = 1.0

    def __post_init__(self):
        for name in ("head", "inputs"):
            if not isinstance(getattr(self, name), (list, tuple)):
                raise InvalidInputError(f"ModelSpec.{name} must be a list, got {getattr(self, name)!r}.")
        self.head = [h if isinstance(h, DenseSpec) else from_fields(DenseSpec, h, "ModelSpec.head entry")
                     for h in self.head]
        self.inputs = [e if isinstance(e, EncoderSpec) else EncoderSpec.from_dict(e) for e in self.inputs]
        self.validate()

    # ----------------------------------------------------------------- checks
    def validate(self) -> "ModelSpec":
        """Fail early, with the field name, instead of deep inside Keras."""
        if self.cell not in CELLS:
            raise unknown_name("cell", self.cell, CELLS)
        if self.pooling not in POOLINGS:
            raise unknown_name("pooling", self.pooling, POOLINGS)
        if self.architecture not in ARCHITECTURES:
            raise unknown_name("architecture", self.architecture, ARCHITECTURES)
        if self.merge_mode not in MERGE_MODES:
            raise unknown_name("merge mode", self.merge_mode, MERGE_MODES)
        for name in ("vocab_size", "embedding_dim", "depth", "num_classes"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise InvalidInputError(f"ModelSpec.{name} must be a positive integer, got {value!r}.")
        if self.depth > MAX_DEPTH:  # layer_units would be a list of that many entries
            raise InvalidInputError(f"ModelSpec.depth is {self.depth}: at most {MAX_DEPTH} stacked recurrent layers.")
        if not isinstance(self.regression, bool):
            raise InvalidInputError(f"ModelSpec.regression must be true or false, got {self.regression!r}.")
        if self.regression:
            self._validate_regression()
        elif self.num_classes < 2:
            raise InvalidInputError("ModelSpec.num_classes must be at least 2.")
        if self.maxlen is not None and (not isinstance(self.maxlen, int) or self.maxlen < 1):
            raise InvalidInputError(f"ModelSpec.maxlen must be a positive integer or null, got {self.maxlen!r}.")
        if not self.layer_units or any(not isinstance(u, int) or u < 1 for u in self.layer_units):
            raise InvalidInputError(f"ModelSpec.units must be a positive integer or a non-empty list of them, got "
                                    f"{self.units!r}.")
        for name in ("spatial_dropout", "dropout", "recurrent_dropout", "output_dropout"):
            rate = getattr(self, name)
            if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= rate < 1.0:
                raise InvalidInputError(f"ModelSpec.{name} must be in [0, 1), got {rate!r}.")
        if self.architecture == "cell-loop" and self.maxlen is None:
            raise InvalidInputError("A cell-loop model unrolls a fixed number of steps: set maxlen.")
        if self.pretrained_embeddings is not None:
            if not isinstance(self.pretrained_embeddings, str) or not self.pretrained_embeddings.strip():
                raise InvalidInputError("ModelSpec.pretrained_embeddings must be a vectors file path or "
                                        f"'word2vec-imdb', got {self.pretrained_embeddings!r}.")
            if self.embedding_matrix:
                raise InvalidInputError("ModelSpec.pretrained_embeddings starts the token embedding: it cannot be "
                                        "combined with embedding_matrix.")
        if not isinstance(self.multi_label, bool):
            raise InvalidInputError(f"ModelSpec.multi_label must be true or false, got {self.multi_label!r}.")
        if self.multi_label and self.architecture != "layers":
            raise InvalidInputError("A cell-loop model has one sigmoid output; several labels a text need "
                                    "architecture 'layers'.")
        if not isinstance(self.nb_features, bool):
            raise InvalidInputError(f"ModelSpec.nb_features must be true or false, got {self.nb_features!r}.")
        if self.nb_features and self.architecture != "layers":
            raise InvalidInputError("ModelSpec.nb_features adds an embedding beside the layers' one: it needs "
                                    "architecture 'layers'.")
        self._validate_sequence_options()
        return self

    def _validate_regression(self) -> None:
        if self.num_classes != 1 or self.multi_label:
            raise InvalidInputError("A regression model predicts one number: num_classes 1, multi_label false.")
        if self.architecture != "layers" or self.nb_features:
            raise InvalidInputError("A regression model needs architecture 'layers' and no nb_features (its ratios "
                                    "weigh tokens by class).")
        for name in ("target_mean", "target_scale"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise InvalidInputError(f"ModelSpec.{name} must be a finite number, got {value!r}.")
        if self.target_scale <= 0:
            raise InvalidInputError(f"ModelSpec.target_scale must be positive, got {self.target_scale!r}.")

    def _validate_sequence_options(self) -> None:
        """The input mode and the chunked reading, each built once (their types check the combinations)."""
        mode, chunks = input_mode_of(self), chunks_of(self)
        if (chunks is not None or not isinstance(mode, TokenIds)) and self.architecture != "layers":
            raise InvalidInputError("stateful, features and inputs need architecture 'layers'.")
        if self.input_merge not in INPUT_MERGES:
            raise unknown_name("input merge", self.input_merge, INPUT_MERGES)
        if isinstance(mode, NamedFields):
            check_encoders(self)

    @property
    def input_mode(self) -> TokenIds | NumericSteps | NamedFields:
        """What the model reads: token ids, numeric steps or named token fields (`rnnlab.models.modes`)."""
        return input_mode_of(self)

    @property
    def chunks(self) -> Chunks | None:
        """How a stateful model reads in chunks, or None for whole sequences."""
        return chunks_of(self)

    @property
    def layer_units(self) -> list[int]:
        """Units of each stacked recurrent layer, bottom first."""
        if isinstance(self.units, (list, tuple)):
            return list(self.units)
        return [self.units] * self.depth

    @property
    def binary(self) -> bool:
        """One sigmoid unit: two classes, one label a row."""
        return self.num_classes == 2 and not self.multi_label and not self.regression

    @property
    def loss_name(self) -> str:
        if self.loss:
            return self.loss
        if self.regression:
            return "mean_squared_error"
        return "binary_crossentropy" if self.binary or self.multi_label else "sparse_categorical_crossentropy"

    # ----------------------------------------------------------- round trips
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelSpec":
        return from_fields(cls, data)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_json(cls, text: str) -> "ModelSpec":
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:  # also a 5,000-digit number or nesting too deep
            raise InvalidInputError(f"Model spec is not valid JSON: {exc}.") from exc
        if not isinstance(data, dict):
            raise InvalidInputError("A model spec must be a JSON object of ModelSpec fields.")
        return cls.from_dict(data)

    @classmethod
    def load(cls, path: str | Path) -> "ModelSpec":
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise InvalidInputError(f"Model spec file {path} does not exist.") from exc
        except UnicodeDecodeError as exc:
            raise InvalidInputError(f"Model spec file {path} is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                                    "re-save it as UTF-8.") from None
        except OSError as exc:
            raise InvalidInputError(f"Model spec file {path} cannot be read: {exc.strerror or exc}.") from None
        return cls.from_json(text)

    def replace(self, **changes) -> "ModelSpec":
        return type(self).from_dict({**self.to_dict(), **changes})

    # ------------------------------------------------------------------ build
    def build(self, compile: bool = True, *, perturbable: bool = False):
        """Create the Keras model (compiled with the spec's optimizer and loss by default); ``perturbable``
        adds the embedding perturbation adversarial objectives train through (`build_model`)."""
        # The spec is plain data, importable without Keras; building is the builder's job.
        from rnnlab.models.builder import build_model

        return build_model(self, compile=compile, perturbable=perturbable)
