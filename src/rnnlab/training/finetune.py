"""Fine-tune a pre-trained language model into a review classifier, ULMFiT-style.

Howard & Ruder (2018): the classifier reuses the language model's embedding and LSTMs,
pools their states (max, mean and last, over real tokens only) into a small dense head, and
is trained with

* gradual unfreezing: first only the head, then also the top LSTM, and so on, then
  everything, so the new head's large early gradients do not wreck the pre-trained layers;
* discriminative learning rates: each layer group down the stack learns ``decay`` times
  slower than the one above it (2.6 in the paper), via `LayerRateAdam`.

The classifier is an ordinary `ModelSpec` model (``pooling="concat"``, ``mask_zero``), so it
saves as a normal bundle that ``rnnlab predict`` and ``rnnlab serve`` load. The whole protocol
from a config (``kind = "lm-finetune"``, ``configs/imdb-lm-finetune.toml``) is
`rnnlab.experiments.recipes.finetune.run_lm_finetune`.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import keras
import numpy as np
from keras import ops

from rnnlab.configfile import from_fields
from rnnlab.encoding.prepare import PreparedData, load_splits
from rnnlab.encoding.split import split_validation
from rnnlab.errors import InvalidInputError
from rnnlab.models import DenseSpec, ModelSpec, Recipe
from rnnlab.models.builder import compile_metrics
from rnnlab.text import Preprocessor
from rnnlab.training.config import TrainingConfig
from rnnlab.training.engine import TrainResult, train_model
from rnnlab.training.language_model import LanguageModel

SOURCE = "ULMFiT-style language model fine-tuning (Howard & Ruder, 2018)"


@keras.saving.register_keras_serializable(package="rnnlab")
class LayerRateAdam(keras.optimizers.Adam):
    """Adam with the learning rate scaled per layer (discriminative fine-tuning).

    Keras 3 has one rate per optimizer, but every backend updates each variable through
    ``update_step(gradient, variable, learning_rate)`` (on JAX inside ``stateless_apply``,
    with the model's own variables), so the factor is looked up there from the variable's
    path, whose first part is its layer's name. Subclassing also keeps the torch backend off
    its fused Adam, which would bypass ``update_step``.

    Args:
        layer_rates: ``{layer name: factor}``; layers not named keep the full rate
            (default: none named, plain Adam).
        **kwargs: Adam's arguments (``learning_rate``, ``clipnorm``...).

    Example:
        >>> opt = LayerRateAdam({"embedding": 0.1, "lstm_1": 0.4}, learning_rate=1e-3)
    """

    def __init__(self, layer_rates: dict[str, float] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.layer_rates = {str(name): float(factor) for name, factor in (layer_rates or {}).items()}

    def rate_factor(self, variable) -> float:
        return self.layer_rates.get(variable.path.split("/", 1)[0], 1.0)

    def update_step(self, gradient, variable, learning_rate):
        factor = self.rate_factor(variable)
        if factor != 1.0:
            learning_rate = ops.multiply(learning_rate, factor)
        super().update_step(gradient, variable, learning_rate)

    def get_config(self):
        return {**super().get_config(), "layer_rates": dict(self.layer_rates)}


@dataclass
class FinetuneSettings:
    """How the classifier on top of the language model is shaped and trained.

    Args:
        maxlen: tokens per review (default 400; longer reviews keep their end).
        padding: ``"pre"`` (default) or ``"post"``; padding is masked either way.
        batch_size: reviews per batch (default 64).
        learning_rate: Adam's rate for the head, which the top layer group always gets; a
            list gives one per stage, the final stage last (default 1e-3).
        layer_rate_decay: each layer group below the head learns this many times slower
            than the one above (default 2.6, the paper's); 1 turns it off.
        unfreeze_epochs: epochs of each gradual-unfreezing stage: the first trains the head
            only, the k-th also the top k-1 LSTMs; a fraction trains on that share of the
            reviews (default [1.0, 1.0]: head, then head + top LSTM).
        epochs: most epochs of the final stage, everything trainable (default 4).
        patience: final-stage epochs without a better validation accuracy before stopping
            (default 1); the best weights over all stages are kept.
        head_units: width of the hidden Dense layer, 0 for none (default 50).
        head_dropout: dropout after it (default 0.1).
        pooled_dropout: dropout on the pooled states (default 0.2).
        embedding_dropout: `SpatialDropout1D` after the embedding (default 0.05).
        dropout: input dropout of every LSTM (default 0.2).
        clipnorm: gradient norm clipping, None for none (default 1.0).
    """

    maxlen: int = 400
    padding: str = "pre"
    batch_size: int = 64
    learning_rate: float | list[float] = 1e-3
    layer_rate_decay: float = 2.6
    unfreeze_epochs: list[float] = field(default_factory=lambda: [1.0, 1.0])
    epochs: int = 4
    patience: int | None = 1
    head_units: int = 50
    head_dropout: float = 0.1
    pooled_dropout: float = 0.2
    embedding_dropout: float = 0.05
    dropout: float = 0.2
    clipnorm: float | None = 1.0

    def __post_init__(self):
        self.unfreeze_epochs = [float(e) for e in self.unfreeze_epochs]
        if not self.unfreeze_epochs or any(not e > 0 for e in self.unfreeze_epochs):
            raise InvalidInputError(f"unfreeze_epochs must list epochs > 0, got {self.unfreeze_epochs!r}.")
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, int) or self.epochs < 0:
            raise InvalidInputError(f"epochs must be an integer >= 0, got {self.epochs!r}.")
        if self.padding not in ("pre", "post"):
            raise InvalidInputError(f"padding must be 'pre' or 'post', got {self.padding!r}.")
        if not self.layer_rate_decay >= 1.0:
            raise InvalidInputError(f"layer_rate_decay must be >= 1, got {self.layer_rate_decay!r}.")
        rates = self.learning_rate if isinstance(self.learning_rate, list) else [self.learning_rate]
        if len(rates) not in (1, self.n_stages) or any(not r > 0 for r in rates):
            raise InvalidInputError(
                f"learning_rate must be a rate > 0 or a list of {self.n_stages} (one per stage), "
                f"got {self.learning_rate!r}.")

    @property
    def n_stages(self) -> int:
        return len(self.unfreeze_epochs) + (1 if self.epochs else 0)

    def stage_rate(self, stage: int) -> float:
        return float(self.learning_rate[stage] if isinstance(self.learning_rate, list) else self.learning_rate)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> FinetuneSettings:
        return from_fields(cls, data, "fine-tuning setting")


# ------------------------------------------------------------------- the pieces, one by one


def classifier_spec(lm: LanguageModel, settings: FinetuneSettings, num_classes: int = 2,
                    name: str = "lm-finetune") -> ModelSpec:
    """A `ModelSpec` whose embedding and LSTMs have the language model's shapes and names."""
    head = [DenseSpec(settings.head_units, "relu", settings.head_dropout)] if settings.head_units else []
    return ModelSpec(
        name=name, vocab_size=lm.settings.vocab_size, maxlen=settings.maxlen,
        embedding_dim=lm.settings.embedding_dim, mask_zero=True, spatial_dropout=settings.embedding_dropout,
        cell="lstm", units=list(lm.settings.units), pooling="concat", dropout=settings.dropout,
        output_dropout=settings.pooled_dropout, head=head, num_classes=num_classes, optimizer="adam",
        learning_rate=settings.stage_rate(0), clipnorm=settings.clipnorm,
    )


def classifier_preprocessor(lm: LanguageModel, settings: FinetuneSettings) -> Preprocessor:
    """The language model's vocabulary with the classifier's length, so token ids match."""
    prep = lm.preprocessor
    return Preprocessor(mode=prep.mode, vocab_size=prep.vocab_size, maxlen=settings.maxlen,
                        padding=settings.padding, truncating="pre", oov_token=prep.oov_token,
                        vocabulary=prep.vocabulary)


def transfer_encoder(lm: LanguageModel, classifier: keras.Model) -> list[str]:
    """Copy the embedding and LSTM weights into the same-named classifier layers; their names."""
    for name in lm.encoder_layers:
        source = lm.model.get_layer(name).get_weights()
        target = classifier.get_layer(name)
        shapes = [w.shape for w in source], [tuple(w.shape) for w in target.weights]
        if shapes[0] != shapes[1]:
            raise InvalidInputError(f"Layer {name!r}: the language model's weights have shapes {shapes[0]}, "
                                    f"the classifier's {shapes[1]}; build the classifier with classifier_spec().")
        target.set_weights(source)
    return list(lm.encoder_layers)


def unfreeze(model: keras.Model, encoder_layers: list[str], top: int | None) -> None:
    """Make the head and the ``top`` highest LSTMs trainable, the rest frozen; ``None``: all.

    ``encoder_layers`` is bottom first: the embedding, then the LSTMs. Keras reads
    ``trainable`` when the model is compiled, so compile after calling this.
    """
    lstms = encoder_layers[1:]
    thawed = set(encoder_layers) if top is None else set(lstms[len(lstms) - top:] if top else [])
    for layer in model.layers:
        layer.trainable = layer.name not in encoder_layers or layer.name in thawed


def layer_rates(encoder_layers: list[str], decay: float) -> dict[str, float]:
    """Rate factors: 1/decay for the top LSTM, 1/decay**2 below it... down to the embedding."""
    depth = len(encoder_layers)
    return {name: decay ** -(depth - i) for i, name in enumerate(encoder_layers)}


def labelled_data(preprocessor: Preprocessor, dataset: str = "imdb", *, validation_split: float = 0.1,
                  seed: int = 0, limit: int | None = None, with_test: bool = True) -> PreparedData:
    """Labelled train/validation/test reviews encoded with a fitted preprocessor.

    The same split as `rnnlab.encoding.prepare.prepare`: shuffle the training reviews with ``seed``
    and hold out the last ``validation_split`` of them; the test split is encoded as is (not
    read at all without ``with_test``).
    """
    train, test = load_splits(dataset, seed=seed, limit=limit, with_test=with_test)
    fit_rows, val_rows = split_validation(len(train), validation_split, seed, required=True)
    train = train.subset(np.concatenate([fit_rows, val_rows]))
    n_val = len(val_rows)
    x = preprocessor.transform(train.texts)
    x_test = preprocessor.transform(test.texts) if test is not None else None
    y = np.asarray(train.labels)
    info = {"train_examples": len(x) - n_val, "validation_examples": n_val,
            "test_examples": len(x_test) if x_test is not None else 0,
            "vocabulary_size": len(preprocessor.vocabulary), "seed": seed}
    return PreparedData(preprocessor, x[:-n_val], y[:-n_val], x[-n_val:], y[-n_val:], x_test,
                        np.asarray(test.labels) if test is not None else None, train.class_names, info)


class _BestOnValidation(keras.callbacks.Callback):
    """Keep the weights with the best validation accuracy across every stage; log each epoch."""

    def __init__(self):
        super().__init__()
        self.best, self.weights, self.where = -math.inf, None, None
        self.records: list[dict] = []
        self.stage, self.patience, self.wait = "", None, 0

    def on_epoch_end(self, epoch, logs=None):
        logs = {k: float(v) for k, v in (logs or {}).items()}
        self.records.append({"stage": self.stage, "epoch": len(self.records) + 1, **logs})
        if logs["val_accuracy"] > self.best:
            self.best, self.where, self.wait = logs["val_accuracy"], (self.stage, len(self.records)), 0
            self.weights = self.model.get_weights()
        elif self.patience is not None:
            self.wait += 1
            if self.wait >= self.patience:
                self.model.stop_training = True


def fine_tune(lm: LanguageModel, data: PreparedData, settings: FinetuneSettings | None = None, *, seed: int = 0,
              verbose: str | int = "auto", name: str = "lm-finetune") -> TrainResult:
    """Build the classifier, take over the encoder, train it stage by stage on ``data``.

    Each stage is one call of the engine's loop (:func:`rnnlab.training.engine.train_model`)
    with that stage's trainable layers and per-layer rates; one callback keeps the best
    validation epoch across all stages. Only the training and validation arrays are read;
    ``data.x_test`` is left alone. ``result.data_info`` holds the per-epoch ``records``, the
    ``best`` epoch and the ``stage_seconds``.
    """
    settings = settings or FinetuneSettings()
    if data.x_val is None or not len(data.x_val):
        raise InvalidInputError("Fine-tuning picks its epochs on a validation split: give data with x_val.")
    keras.utils.set_random_seed(seed)
    spec = classifier_spec(lm, settings, data.num_classes, name)
    model = spec.build(compile=False)
    encoder = transfer_encoder(lm, model)
    rates = layer_rates(encoder, settings.layer_rate_decay)
    n_lstm = len(encoder) - 1
    stages = [(f"head+top{k}" if k else "head", min(k, n_lstm), epochs)
              for k, epochs in enumerate(settings.unfreeze_epochs)]
    if settings.epochs:
        stages.append(("all", None, settings.epochs))
    tracker = _BestOnValidation()
    seconds: dict[str, float] = {}
    for index, (stage, top, epochs) in enumerate(stages):
        started = time.perf_counter()
        unfreeze(model, encoder, top)
        options = {"clipnorm": settings.clipnorm} if settings.clipnorm else {}
        optimizer = LayerRateAdam(rates, learning_rate=settings.stage_rate(index), **options)
        model.compile(optimizer=optimizer, loss=spec.loss_name, metrics=compile_metrics(spec))
        tracker.stage, tracker.wait = stage, 0
        tracker.patience = settings.patience if top is None else None
        stage_config = TrainingConfig(epochs=epochs, batch_size=settings.batch_size, seed=seed + index)
        train_model(model, data, stage_config, callbacks=[tracker], verbose=verbose)
        seconds[stage] = round(time.perf_counter() - started, 3)
    model.set_weights(tracker.weights)
    unfreeze(model, encoder, None)  # a saved model is fully trainable, like any other bundle
    best = {"validation_accuracy": tracker.best, "stage": tracker.where[0], "epoch": tracker.where[1]}
    keys = ("loss", "accuracy", "val_loss", "val_accuracy")
    history = {k: [r[k] for r in tracker.records if k in r] for k in keys}
    recipe = Recipe(padding=settings.padding, batch_size=settings.batch_size, epochs=len(tracker.records),
                    source=SOURCE)
    info = {**data.info, "records": tracker.records, "best": best, "stage_seconds": seconds}
    return TrainResult(model, spec, recipe, data.preprocessor, data.class_names, history, None,
                       sum(seconds.values()), seed, info)
