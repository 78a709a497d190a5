"""Pre-train an LSTM language model on unlabelled reviews, the first step of ULMFiT.

Howard & Ruder (2018) pre-train a language model, then fine-tune it as a classifier
(`rnnlab.training.finetune`). Here the model is Embedding -> stacked LSTMs -> next-token softmax,
trained on IMDB's train + unsup reviews (never the test split) read as one token stream cut
into fixed-length windows, targets shifted by one. The layers are named like the
classifiers `ModelSpec.build` makes (``embedding``, ``lstm_1``...), so the encoder's weights
copy across by name.

Example:
    >>> lm = pretrain(LMSettings(vocab_size=3000, units=[64], epochs=0.5, limit=2000))  # doctest: +SKIP
    >>> lm.perplexity, lm.save("runs/lm")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from itertools import chain, repeat
from pathlib import Path

import keras
import numpy as np
from keras import layers, ops

from rnnlab.configfile import from_fields
from rnnlab.data import load_imdb
from rnnlab.encoding.prepare import PreparedData
from rnnlab.errors import InvalidInputError, RnnlabError
from rnnlab.models.kernels import accelerate
from rnnlab.files import staged_folder, write_json
from rnnlab.text import Preprocessor
from rnnlab.training.config import TrainingConfig
from rnnlab.training.engine import train_model

WEIGHTS_FILE = "lm.weights.h5"
PREPROCESSING_FILE = "preprocessing.json"
SETTINGS_FILE = "lm.json"


@dataclass
class LMSettings:
    """Size and training of the language model.

    Args:
        vocab_size: ids of the vocabulary, padding and OOV included (default 30000); the
            softmax covers all of them.
        embedding_dim: embedding width (default 300).
        units: LSTM units, one entry per stacked layer, bottom first (default [1024, 512]).
        window: tokens per training window, the BPTT length (default 70).
        batch_size: windows per batch (default 64).
        epochs: passes over the stream (default 1); a fraction trains on that share of the
            windows, e.g. 0.3.
        learning_rate: Adam's rate (default 1e-3).
        clipnorm: gradient norm clipping, None for none (default 1.0).
        embedding_dropout: `SpatialDropout1D` rate after the embedding (default 0.05).
        dropout: input dropout of every LSTM layer (default 0.2).
        output_dropout: dropout before the softmax (default 0.2).
        num_sampled: 0 (default) trains with the full softmax; n > 0 with a sampled softmax
            of n negative ids per batch (see `NextTokenLoss`). Perplexity is always exact.
        holdout: share of the texts held out to measure perplexity (default 0.02).
        limit: use only this many texts (default None: all 75,000).
        seed: drives the text order, the windows and the initial weights (default 0).
    """

    vocab_size: int = 30000
    embedding_dim: int = 300
    units: list[int] = field(default_factory=lambda: [1024, 512])
    window: int = 70
    batch_size: int = 64
    epochs: float = 1.0
    learning_rate: float = 1e-3
    clipnorm: float | None = 1.0
    embedding_dropout: float = 0.05
    dropout: float = 0.2
    output_dropout: float = 0.2
    num_sampled: int = 0
    holdout: float = 0.02
    limit: int | None = None
    seed: int = 0

    def __post_init__(self):
        if isinstance(self.units, int) and not isinstance(self.units, bool):
            self.units = [self.units]
        self.units = list(self.units)
        self.check()

    def check(self) -> LMSettings:
        """Raise InvalidInputError naming the first bad field."""
        for name in ("vocab_size", "embedding_dim", "window", "batch_size"):
            _positive_int(name, getattr(self, name), minimum=3 if name == "vocab_size" else 1)
        if not 1 <= len(self.units) <= 3:
            raise InvalidInputError(f"units must list 1 to 3 LSTM layers, got {self.units!r}.")
        for width in self.units:
            _positive_int("units", width)
        if not isinstance(self.epochs, (int, float)) or isinstance(self.epochs, bool) or self.epochs <= 0:
            raise InvalidInputError(f"epochs must be a number > 0, got {self.epochs!r}.")
        if not self.learning_rate > 0:
            raise InvalidInputError(f"learning_rate must be > 0, got {self.learning_rate!r}.")
        if self.clipnorm is not None and not self.clipnorm > 0:
            raise InvalidInputError(f"clipnorm must be > 0 or None, got {self.clipnorm!r}.")
        for name in ("embedding_dropout", "dropout", "output_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise InvalidInputError(f"{name} must be in [0, 1), got {getattr(self, name)!r}.")
        if isinstance(self.num_sampled, bool) or not isinstance(self.num_sampled, int) \
                or not 0 <= self.num_sampled < self.vocab_size:
            raise InvalidInputError(
                f"num_sampled must be 0 (full softmax) or an integer below vocab_size, got {self.num_sampled!r}.")
        if not 0.0 < self.holdout < 0.5:
            raise InvalidInputError(f"holdout must be in (0, 0.5), got {self.holdout!r}.")
        if self.limit is not None:
            _positive_int("limit", self.limit, minimum=10)
        return self

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> LMSettings:
        return from_fields(cls, data, "language model setting")


def _positive_int(name: str, value, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InvalidInputError(f"{name} must be an integer >= {minimum}, got {value!r}.")


# ------------------------------------------------------------------------------ the model


@keras.saving.register_keras_serializable(package="rnnlab")
class NextTokenLoss(layers.Layer):
    """Softmax over the vocabulary that returns each position's negative log-likelihood.

    Keras has no sampled softmax, and a full softmax over 30,000 ids costs more than the
    LSTMs on a CPU. With ``num_sampled > 0`` training scores each target against
    ``num_sampled`` ids drawn once per batch from a log-uniform (Zipf) distribution, which
    fits ids ranked by frequency, with logits corrected by the log of each id's expected
    count and accidental hits of the target removed (Jean et al. 2015; TensorFlow's
    ``sampled_softmax_loss``). That estimate is biased, so evaluation and inference always
    use the exact softmax: a reported perplexity is a true one. Taking the targets as an
    input keeps the sampling inside the layer, so the same code runs on every backend.

    Args:
        vocab_size: number of ids.
        num_sampled: negative ids per training batch; 0 (default) for the full softmax.
        seed: seed of the sampler (default None).

    Example:
        >>> hidden, targets = keras.Input((None, 16)), keras.Input((None,), dtype="int32")
        >>> nll = NextTokenLoss(1000, num_sampled=64)([hidden, targets])  # (batch, steps)
    """

    def __init__(self, vocab_size: int, num_sampled: int = 0, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = int(vocab_size)
        self.num_sampled = int(num_sampled)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        width = int(input_shape[0][-1])
        # (vocab, width), the embedding layout: rows of the sampled ids are gathered directly.
        self.kernel = self.add_weight(name="kernel", shape=(self.vocab_size, width), initializer="glorot_uniform")
        self.bias = self.add_weight(name="bias", shape=(self.vocab_size,), initializer="zeros")

    def logits(self, hidden):
        return ops.einsum("btd,vd->btv", hidden, self.kernel) + self.bias

    def call(self, inputs, training=False):
        hidden, targets = inputs
        targets = ops.cast(targets, "int32")
        if training and self.num_sampled:
            return self._sampled_nll(hidden, targets)
        return ops.sparse_categorical_crossentropy(targets, self.logits(hidden), from_logits=True)

    def _sampled_nll(self, hidden, targets):
        log_range = math.log(self.vocab_size + 1.0)
        draws = keras.random.uniform((self.num_sampled,), seed=self.seed_generator)
        # Inverse CDF of P(k) = log((k + 2) / (k + 1)) / log(V + 1), k = 0..V-1.
        sampled = ops.clip(ops.cast(ops.floor(ops.exp(draws * log_range)), "int32") - 1, 0, self.vocab_size - 1)

        def log_expected(ids):
            ids = ops.cast(ids, hidden.dtype)
            return ops.log(self.num_sampled * ops.log((ids + 2.0) / (ids + 1.0)) / log_range)

        true_logit = ops.sum(hidden * ops.take(self.kernel, targets, axis=0), axis=-1) \
            + ops.take(self.bias, targets) - log_expected(targets)
        sampled_logits = ops.einsum("btd,sd->bts", hidden, ops.take(self.kernel, sampled, axis=0)) \
            + ops.take(self.bias, sampled) - log_expected(sampled)
        hit = ops.equal(sampled[None, None, :], targets[:, :, None])
        sampled_logits = ops.where(hit, ops.full_like(sampled_logits, -1e9), sampled_logits)
        logits = ops.concatenate([true_logit[:, :, None], sampled_logits], axis=-1)
        return ops.logsumexp(logits, axis=-1) - true_logit

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[1])

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "num_sampled": self.num_sampled,
                "seed": self.seed}


def mean_nll(y_true, y_pred):
    """The model's output already is the loss: average it over the window."""
    return ops.mean(y_pred, axis=-1)


def build_language_model(settings: LMSettings, compile: bool = True) -> keras.Model:
    """Inputs ``tokens`` and ``targets`` (batch, steps) -> per-position NLL (compiled with Adam by default)."""
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    targets = keras.Input((None,), dtype="int32", name="targets")
    x = layers.Embedding(settings.vocab_size, settings.embedding_dim, name="embedding")(tokens)
    if settings.embedding_dropout:
        x = layers.SpatialDropout1D(settings.embedding_dropout, name="spatial_dropout")(x)
    for depth, width in enumerate(settings.units, start=1):
        x = layers.LSTM(width, return_sequences=True, dropout=settings.dropout, name=f"lstm_{depth}")(x)
    if settings.output_dropout:
        x = layers.Dropout(settings.output_dropout, name="output_dropout")(x)
    nll = NextTokenLoss(settings.vocab_size, settings.num_sampled, seed=settings.seed, name="next_token")([x, targets])
    model = accelerate(keras.Model([tokens, targets], nll, name="lstm_language_model"))
    if compile:
        compile_language_model(model, settings)
    return model


def compile_language_model(model: keras.Model, settings: LMSettings) -> keras.Model:
    options = {"clipnorm": settings.clipnorm} if settings.clipnorm else {}
    model.compile(optimizer=keras.optimizers.Adam(settings.learning_rate, **options), loss=mean_nll)
    return model


# ------------------------------------------------------------------------------- the data


def lm_texts(limit: int | None = None, *, seed: int = 0, path=None) -> list[str]:
    """IMDB's train and unsup reviews, shuffled with ``seed``; the test split is never read.

    The labelled training reviews include those a classifier later validates on: the
    language model sees their words, never their labels, as in ULMFiT.
    """

    texts = load_imdb("train", path=path).texts + load_imdb("unsup", path=path).texts
    order = np.random.default_rng(seed).permutation(len(texts))
    if limit:
        order = order[:limit]
    return [texts[i] for i in order.tolist()]


def token_stream(preprocessor: Preprocessor, token_lists: list[list[str]]) -> np.ndarray:
    """All texts' ids end to end as one int32 array (unknown words -> the OOV id)."""
    vocabulary = preprocessor.vocabulary
    if vocabulary is None or vocabulary.oov_id is None:
        raise InvalidInputError("token_stream needs a fitted preprocessor with an OOV token.")
    get = vocabulary.word_index.get
    count = sum(map(len, token_lists))
    return np.fromiter(map(get, chain.from_iterable(token_lists), repeat(1)), dtype=np.int32, count=count)


def windows(stream: np.ndarray, window: int, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Cut ``stream[offset:]`` into rows of ``window`` ids and the same rows shifted by one."""
    n = (len(stream) - offset - 1) // window
    if n < 1:
        raise InvalidInputError(f"A stream of {len(stream)} tokens is too short for windows of {window}.")
    end = offset + n * window
    return stream[offset:end].reshape(n, window), stream[offset + 1:end + 1].reshape(n, window)


# --------------------------------------------------------------------------- the result


@dataclass
class LanguageModel:
    """A trained language model with the preprocessor whose ids it reads.

    ``metrics`` holds the perplexity on the held-out texts, the token counts and timings.
    """

    model: keras.Model
    preprocessor: Preprocessor
    settings: LMSettings
    metrics: dict = field(default_factory=dict)

    @property
    def perplexity(self) -> float | None:
        return self.metrics.get("perplexity")

    @property
    def encoder_layers(self) -> list[str]:
        """Names of the layers a classifier takes over: the embedding and the LSTMs."""
        return ["embedding"] + [f"lstm_{i}" for i in range(1, len(self.settings.units) + 1)]

    def evaluate_perplexity(self, stream: np.ndarray, batch_size: int | None = None) -> float:
        """exp(mean NLL) of each next token of ``stream`` given the window before it (exact softmax)."""
        x, y = windows(stream, self.settings.window)
        nll = self.model.predict([x, y], batch_size=batch_size or self.settings.batch_size, verbose=0)
        return float(np.exp(np.mean(np.asarray(nll, dtype=np.float64))))

    def save(self, out: str | Path) -> Path:
        """Write weights, preprocessing and settings to the folder ``out``, atomically."""
        out = Path(out)
        with staged_folder(out, marker=SETTINGS_FILE, what="a saved language model") as staging:
            self.model.save_weights(staging / WEIGHTS_FILE)
            self.preprocessor.save(staging / PREPROCESSING_FILE)
            write_json(staging / SETTINGS_FILE, {"settings": self.settings.to_dict(), "metrics": self.metrics},
                       indent=2)
        return out

    @classmethod
    def load(cls, path: str | Path) -> LanguageModel:
        """Rebuild the model from its settings and load the weights saved by :meth:`save`."""
        path = Path(path)
        missing = [name for name in (WEIGHTS_FILE, PREPROCESSING_FILE, SETTINGS_FILE) if not (path / name).exists()]
        if missing:
            raise RnnlabError(f"No saved language model at {path}: missing {', '.join(missing)}.")
        saved = json.loads((path / SETTINGS_FILE).read_text(encoding="utf-8"))
        settings = LMSettings.from_dict(saved["settings"])
        # Weights first, compile after: a compiled model would also look for optimizer state.
        model = build_language_model(settings, compile=False)
        model.load_weights(path / WEIGHTS_FILE)
        compile_language_model(model, settings)
        return cls(model, Preprocessor.load(path / PREPROCESSING_FILE), settings, saved.get("metrics", {}))


# --------------------------------------------------------------------------- training


def pretrain(settings: LMSettings | None = None, texts: list[str] | None = None, *, path=None,
             verbose: str | int = "auto") -> LanguageModel:
    """Fit the vocabulary and train the language model; report perplexity on held-out texts.

    Args:
        settings: model and training settings (default `LMSettings()`).
        texts: the corpus; default `lm_texts(settings.limit, seed=settings.seed, path=path)`.
        path: where the IMDB archive is, when ``texts`` is not given (default: located).
        verbose: Keras' ``fit`` verbosity; ``"auto"`` (the default) draws progress on stderr
            (see `rnnlab.progress`).

    The last ``holdout`` share of the (shuffled) texts is kept out of the vocabulary and the
    training stream. Each epoch starts the windows at a new random offset, so a window
    boundary does not always cut the same pair of tokens apart. Every window starts from a
    zero state (AWD-LSTM carries the state across windows instead): the windows can then be
    shuffled and batched freely, with no stateful layers to reset.
    """
    settings = (settings or LMSettings()).check()
    started = time.perf_counter()
    if texts is None:
        texts = lm_texts(settings.limit, seed=settings.seed, path=path)
    elif settings.limit:
        texts = texts[: settings.limit]
    n_holdout = max(1, int(round(len(texts) * settings.holdout)))
    if len(texts) - n_holdout < 1:
        raise InvalidInputError(f"{len(texts)} texts are too few to hold {n_holdout} out for perplexity.")
    preprocessor = Preprocessor(mode="keras", vocab_size=settings.vocab_size, maxlen=None)
    token_lists = preprocessor.tokenizer.tokenize_many(texts)
    preprocessor.fit_tokens(token_lists[:-n_holdout])
    train_stream = token_stream(preprocessor, token_lists[:-n_holdout])
    holdout_stream = token_stream(preprocessor, token_lists[-n_holdout:])
    del token_lists
    data_seconds = time.perf_counter() - started

    keras.utils.set_random_seed(settings.seed)
    model = build_language_model(settings)
    # Start the output at the unigram distribution. From a zero bias the quickest way down
    # the loss is to saturate the LSTMs into a constant state that encodes word frequency,
    # after which their gradients vanish and the model never learns context.
    counts = np.bincount(train_stream, minlength=settings.vocab_size).astype(np.float64) + 0.5
    output = model.get_layer("next_token")
    output.bias.assign(np.log(counts / counts.sum()).astype(output.bias.dtype))
    rng = np.random.default_rng(settings.seed)
    history: dict[str, list[float]] = {"loss": []}
    trained_tokens = 0
    train_started = time.perf_counter()
    remaining, passes = float(settings.epochs), 0
    while remaining > 1e-9:
        # Each pass cuts the stream into windows at a new offset; the engine's loop trains on them
        # (a final fractional pass on that share of them).
        x, y = windows(train_stream, settings.window, offset=int(rng.integers(settings.window)))
        share = min(1.0, remaining)
        one_pass = PreparedData(preprocessor, {"tokens": x, "targets": y}, y, None, None, None, None, ())
        config = TrainingConfig(epochs=share, batch_size=settings.batch_size, seed=settings.seed + passes)
        logs = train_model(model, one_pass, config, verbose=verbose)
        history["loss"] += logs["loss"]
        trained_tokens += max(1, int(round(len(x) * share))) * settings.window
        remaining, passes = remaining - 1.0, passes + 1
    train_seconds = time.perf_counter() - train_started

    lm = LanguageModel(model, preprocessor, settings)
    eval_started = time.perf_counter()
    perplexity = lm.evaluate_perplexity(holdout_stream)
    lm.metrics = {
        "perplexity": round(perplexity, 4),
        "uniform_perplexity": settings.vocab_size,
        "texts": len(texts),
        "holdout_texts": n_holdout,
        "train_tokens": int(len(train_stream)),
        "holdout_tokens": int(len(holdout_stream)),
        "trained_tokens": int(trained_tokens),
        "oov_share": round(float(np.mean(train_stream == 1)), 5),
        "params": int(model.count_params()),
        "history": history,
        "data_seconds": round(data_seconds, 3),
        "train_seconds": round(train_seconds, 3),
        "tokens_per_second": round(trained_tokens / max(train_seconds, 1e-9), 1),
        "eval_seconds": round(time.perf_counter() - eval_started, 3),
    }
    return lm
