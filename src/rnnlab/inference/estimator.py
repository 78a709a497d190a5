"""`TextClassifier`: a recurrent text classifier as a scikit-learn estimator.

``fit(texts, labels)``, ``predict``, ``predict_proba``, ``score``, ``get_params`` /
``set_params``: it works in ``sklearn.pipeline``, ``cross_val_score`` and ``GridSearchCV``
like any classifier taking raw strings (as ``TfidfVectorizer`` does). Labels may be of any
type; ``classes_`` holds them sorted, and ``predict`` returns them. Several labels a text are
given as scikit-learn gives them (an ``(n, k)`` 0/1 indicator array, e.g. from
``MultiLabelBinarizer``): one sigmoid per label, a threshold per label tuned on the validation
texts, and ``predict`` returns indicator rows. Texts may be a list, a numpy array, a pandas
Series or a one-column DataFrame. Training goes through the
one engine (:func:`rnnlab.training.fit`), prediction through the one :class:`Predictor`, and
``save`` writes the same bundle ``rnnlab predict`` and ``rnnlab serve`` read.

Example:
    >>> from sklearn.model_selection import GridSearchCV  # doctest: +SKIP
    >>> search = GridSearchCV(TextClassifier(epochs=3), {"units": [16, 32]}, cv=3)  # doctest: +SKIP
    >>> search.fit(texts, labels).best_params_  # doctest: +SKIP
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from rnnlab.data import TextDataset
from rnnlab.data.profile import covering_length
from rnnlab.encoding.inputs import inputs_for
from rnnlab.encoding.prepare import prepare
from rnnlab.errors import InvalidInputError, unknown_name
from rnnlab.inference.bundle import Bundle
from rnnlab.inference.predictor import Predictor
from rnnlab.models import ModelSpec, get
from rnnlab.training import EarlyStopping, TrainingConfig
from rnnlab.training.engine import add_unlabelled
from rnnlab.training.engine import fit as fit_engine
from rnnlab.training.metrics import decide, label_sets

# Architectures by name besides the named tutorial models (`rnnlab models`).
PRESETS = {
    "bigru-attention": {"cell": "gru", "bidirectional": True, "pooling": "attention"},
    "bigru-max": {"cell": "gru", "bidirectional": True, "pooling": "max"},
    "bilstm-max": {"cell": "lstm", "bidirectional": True, "pooling": "max"},
    "gru-max": {"cell": "gru", "pooling": "max"},
}
ESTIMATOR_NOTE = "estimator"


class TextClassifier(ClassifierMixin, BaseEstimator):
    """A recurrent classifier of raw texts with the scikit-learn estimator interface.

    Args:
        model: a preset (``"bigru-attention"``, ``"bigru-max"``, ``"bilstm-max"``,
            ``"gru-max"``) whose layers take ``units``, ``embedding_dim`` and ``dropout``
            below, or a named tutorial model (``"lstm"``, ``"bilstm"``..., its own layers).
            Defaults to ``"bigru-attention"``.
        units: recurrent units (per direction). Defaults to 32.
        embedding_dim: embedding width. Defaults to 64.
        dropout: dropout on the recurrent layers' inputs. Defaults to 0.3.
        vocab_size: vocabulary ids, padding and OOV included. Defaults to 20000.
        maxlen: tokens read per text; None covers 90% of the training texts (32 to 800).
        epochs: the most epochs trained. Defaults to 5.
        batch_size: Defaults to 32.
        learning_rate: Adam's peak rate, decayed by a cosine. Defaults to 0.003.
        validation_split: share of the training texts held out to keep the best epoch
            (early stopping on their accuracy, patience 2); 0 trains on all of them for
            ``epochs``. Defaults to 0.1.
        tokenizer: ``"keras"`` or ``"nltk"``. Defaults to ``"keras"``.
        adversarial, virtual_adversarial, entropy: weights of the extra loss terms
            (`rnnlab.training.TrainingConfig`; JAX backend). The last two need no labels and also
            read the ``unlabelled`` texts given to ``fit``. Default 0 each.
        perturbation: the adversarial moves' size, a share of each text's embedding norm.
            Defaults to 0.05.
        random_state: seed of the split, the weights and the batch order. Defaults to 0.
        verbose: Keras verbosity (0 silent). Defaults to 0.

    Attributes (after ``fit``):
        classes_: the labels seen, sorted. result_: the engine's
        :class:`rnnlab.training.TrainResult` (history, spec, preprocessing).
    """

    def __init__(self, model: str = "bigru-attention", *, units: int = 32, embedding_dim: int = 64,
                 dropout: float = 0.3, vocab_size: int = 20_000, maxlen: int | None = None, epochs: int = 5,
                 batch_size: int = 32, learning_rate: float = 0.003, validation_split: float = 0.1,
                 tokenizer: str = "keras", adversarial: float = 0.0, virtual_adversarial: float = 0.0,
                 entropy: float = 0.0, perturbation: float = 0.05, random_state: int = 0, verbose: int = 0):
        self.model = model
        self.units = units
        self.embedding_dim = embedding_dim
        self.dropout = dropout
        self.vocab_size = vocab_size
        self.maxlen = maxlen
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.validation_split = validation_split
        self.tokenizer = tokenizer
        self.adversarial = adversarial
        self.virtual_adversarial = virtual_adversarial
        self.entropy = entropy
        self.perturbation = perturbation
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.non_deterministic = False
        return tags

    # ------------------------------------------------------------------ training
    def fit(self, X, y, unlabelled=None) -> "TextClassifier":
        """Train on texts ``X`` (strings) with labels ``y`` (any type, two or more classes; or an ``(n, k)`` 0/1
        indicator array for several labels a text). ``unlabelled``: more texts without labels (a list or
        Series, ``"imdb"`` or a file, as `rnnlab.data.load_unlabelled` reads) for the virtual adversarial
        and entropy terms."""
        texts = _texts(X)
        labels = np.asarray(y)
        if labels.ndim == 2 and len(labels) == len(texts):  # label sets as indicator rows
            if labels.shape[1] < 2 or not np.isin(labels, (0, 1)).all():
                raise InvalidInputError(f"A 2-D y is one 0/1 column per label (two or more labels); got shape "
                                        f"{labels.shape} with values {np.unique(labels)[:5].tolist()}.")
            classes, ids = np.arange(labels.shape[1]), labels
        elif labels.ndim != 1 or len(labels) != len(texts):
            raise InvalidInputError(f"y must hold one label per text (or one 0/1 row per text): {len(texts)} texts, "
                                    f"labels of shape {labels.shape}.")
        else:
            classes, ids = np.unique(labels, return_inverse=True)
        if len(classes) < 2:
            raise InvalidInputError(f"y holds one class only ({classes[0]!r}); a classifier needs two or more.")
        self.classes_ = classes
        return self._fit_dataset(TextDataset(texts, ids, tuple(str(c) for c in classes), name="fit"),
                                 {"classes": classes.tolist()}, unlabelled)

    def _fit_dataset(self, dataset: TextDataset, note: dict, unlabelled=None):
        """Train on ``dataset`` through the one engine; ``note`` goes into the bundle's estimator entry."""
        texts = dataset.texts
        maxlen = self.maxlen or covering_length(texts)
        data = prepare(dataset, None, mode=self.tokenizer, vocab_size=self.vocab_size, maxlen=maxlen,
                       validation_split=self.validation_split, seed=self.random_state)
        if unlabelled is not None:
            data = add_unlabelled(data, unlabelled)
        spec = self._spec(maxlen, max(2, dataset.num_classes))  # a regression's head is set by the engine
        # Label sets and numbers: the validation loss (the macro-F1 at 0.5 stays 0 while every probability is
        # below one half; a regression has no accuracy).
        stopping = None if data.x_val is None else EarlyStopping("val_loss", "min", 2) \
            if dataset.multi_label or dataset.numeric else EarlyStopping("val_accuracy", "max", 2)
        config = TrainingConfig(epochs=self.epochs, batch_size=self.batch_size, optimizer="adam",
                                learning_rate=self.learning_rate, schedule="cosine", early_stopping=stopping,
                                adversarial=self.adversarial, virtual_adversarial=self.virtual_adversarial,
                                entropy=self.entropy, perturbation=self.perturbation, seed=self.random_state)
        result = fit_engine(spec, data, config, verbose=self.verbose)
        result.notes[ESTIMATOR_NOTE] = {"params": self.get_params(), **note}
        self.result_ = result
        self.__dict__.pop("predictor_", None)
        return self

    def _spec(self, maxlen: int, num_classes: int) -> ModelSpec:
        if self.model in PRESETS:
            return ModelSpec.from_dict({
                "name": self.model, "vocab_size": self.vocab_size, "maxlen": maxlen, "mask_zero": True,
                "embedding_dim": self.embedding_dim, "units": self.units, "dropout": self.dropout,
                "num_classes": num_classes, **PRESETS[self.model]})
        try:
            named = get(self.model)
        except Exception:
            raise unknown_name("model", self.model, (*PRESETS, "or a name from `rnnlab models`")) from None
        return named.spec.replace(vocab_size=self.vocab_size, maxlen=maxlen, num_classes=num_classes)

    # ---------------------------------------------------------------- prediction
    @functools.cached_property
    def predictor_(self) -> Predictor:
        check_is_fitted(self, "result_")
        r = self.result_
        return Predictor(r.model, inputs_for(r.preprocessor), r.class_names, spec=r.spec, thresholds=r.thresholds,
                         temperature=r.temperature, decision_threshold=r.decision_threshold)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, one column per ``classes_`` entry."""
        check_is_fitted(self, "result_")
        return self.predictor_.predict_proba(_texts(X))

    def predict(self, X) -> np.ndarray:
        """The most probable label of each text, as in ``y``; for label sets, 0/1 indicator rows."""
        probabilities = self.predict_proba(X)
        if self.predictor_.thresholds is not None:
            return label_sets(probabilities, self.predictor_.thresholds).astype(np.int64)
        return self.classes_[decide(probabilities, self.predictor_.decision_threshold)]

    # -------------------------------------------------------------------- bundles
    def save(self, path: str | Path) -> Path:
        """Write the fitted model as a bundle (``rnnlab predict``, ``rnnlab serve`` and ``load`` read it)."""
        check_is_fitted(self, "result_")
        return self.result_.save(path)

    @classmethod
    def load(cls, path: str | Path) -> "TextClassifier":
        """A fitted estimator from a bundle written by ``save`` (or by ``rnnlab train``: labels are then the class names)."""
        bundle = Bundle.load(path)
        if bundle.spec is not None and bundle.spec.regression:
            raise InvalidInputError(f"{path} holds a regression model (it predicts numbers); load it with "
                                    "TextRegressor.load.")
        if bundle.kind != "text":
            raise InvalidInputError(f"{path} reads {bundle.kind}, not texts; a TextClassifier classifies texts.")
        note = bundle.metrics.get(ESTIMATOR_NOTE) or {}
        params = {k: v for k, v in (note.get("params") or {}).items() if k in cls._get_param_names()}
        estimator = cls(**params)
        classes = note.get("classes") or list(bundle.class_names)
        estimator.classes_ = np.asarray(classes)
        estimator.predictor_ = bundle.predictor
        estimator.result_ = _Loaded(bundle)
        return estimator


class TextRegressor(RegressorMixin, TextClassifier):
    """A recurrent model predicting a number from raw texts (a rating, a score), as a scikit-learn regressor.

    The same arguments and presets as :class:`TextClassifier`; ``fit(texts, numbers)`` trains a regression
    head (one linear unit scaled to the targets, mean squared error) through the one engine; ``predict``
    returns numbers and ``score`` is R^2. ``save`` writes a bundle that ``rnnlab predict`` and ``rnnlab
    serve`` read, its predictions numbers.

    Example:
        >>> model = TextRegressor(epochs=3).fit(reviews, stars)  # doctest: +SKIP
        >>> model.predict(["A fine film."])  # doctest: +SKIP
        array([7.9])
    """

    def fit(self, X, y) -> "TextRegressor":
        """Train on texts ``X`` (strings) with numbers ``y`` (one finite number per text, two or more values)."""
        texts = _texts(X)
        try:
            values = np.asarray(y, dtype="float64")
        except (TypeError, ValueError):
            raise InvalidInputError("y must hold one number per text; a TextRegressor predicts numbers (use "
                                    "TextClassifier for classes).") from None
        if values.ndim != 1 or len(values) != len(texts):
            raise InvalidInputError(f"y must hold one number per text: {len(texts)} texts, y of shape {values.shape}.")
        if len(np.unique(values)) < 2:
            raise InvalidInputError("y holds a single value; a regression needs two or more.")
        return self._fit_dataset(TextDataset(texts, values.astype(np.float32), ("target",), name="fit"), {})

    def predict_proba(self, X):
        raise InvalidInputError("A TextRegressor predicts numbers, not class probabilities: call predict.")

    def predict(self, X) -> np.ndarray:
        """The predicted number of each text."""
        check_is_fitted(self, "result_")
        return self.predictor_.predict_values(_texts(X))

    @classmethod
    def load(cls, path: str | Path) -> "TextRegressor":
        """A fitted regressor from a bundle of a regression model (``save``, or ``rnnlab train`` on numbers)."""
        bundle = Bundle.load(path)
        if not bundle.spec.regression:
            raise InvalidInputError(f"{path} holds a classifier; load it with TextClassifier.load.")
        if bundle.kind != "text":
            raise InvalidInputError(f"{path} reads {bundle.kind}, not texts; a TextRegressor reads texts.")
        note = bundle.metrics.get(ESTIMATOR_NOTE) or {}
        estimator = cls(**{k: v for k, v in (note.get("params") or {}).items() if k in cls._get_param_names()})
        estimator.predictor_ = bundle.predictor
        estimator.result_ = _Loaded(bundle)
        return estimator


class _Loaded:
    """What a loaded estimator keeps of its bundle in place of a training result."""

    def __init__(self, bundle: Bundle):
        self.bundle = bundle
        self.model, self.spec, self.class_names = bundle.model, bundle.spec, bundle.class_names
        self.preprocessor = bundle.preprocessor
        self.history = bundle.metrics.get("history") or {}

    def save(self, path):
        raise InvalidInputError(f"This estimator was loaded from {self.bundle.path}; copy that folder instead of "
                                "saving it again.")


def _texts(X) -> list[str]:
    if isinstance(X, str):
        raise InvalidInputError("X must be a list of texts, not one string; wrap it in a list.")
    if hasattr(X, "columns") and hasattr(X, "iloc"):  # a pandas DataFrame: its one column of texts
        if len(X.columns) != 1:
            raise InvalidInputError(f"X is a table of {len(X.columns)} columns ({', '.join(map(str, X.columns))}); "
                                    "a TextClassifier reads one column of texts: pass df['text'].")
        X = X.iloc[:, 0]
    texts = X.tolist() if hasattr(X, "tolist") else list(X)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise InvalidInputError(f"X[{i}] is {type(text).__name__}, not text; a TextClassifier takes strings.")
    return texts
