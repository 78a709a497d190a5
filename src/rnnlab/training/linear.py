"""Naive-Bayes-weighted logistic regression on word n-grams: the linear model rnnlab stacks with its RNNs.

`NBSVM` (Wang & Manning, 2012) works on any feature matrix; `NgramModel` puts it on raw texts
with hashed n-grams, so a trained model is a weight vector and a few settings: no vocabulary of
millions of n-grams to keep, nothing pickled. Saved as ``ngram.json`` (settings, class names)
and ``ngram.npz`` (weights, read with ``allow_pickle=False``).

The model's score for a text is a sum over the n-grams it contains (each counted once) of one
weight each, plus a bias: exactly what `NgramModel.contributions` lists to explain a prediction.

Example:
    >>> model = NgramModel(C=0.1).fit(["good fun", "great good", "bad dull", "awful bad"], [1, 1, 0, 0])
    >>> model.predict_proba(["good"]).argmax(axis=1)
    array([1])
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np

from rnnlab.errors import InvalidInputError, RnnlabError
from rnnlab.files import atomic_path, read_json, staged_folder, write_json

__all__ = ["NBSVM", "NgramModel", "TOKEN_PATTERN", "clean_text", "NGRAM_FILE", "NGRAM_WEIGHTS", "checked_classes",
           "nb_ratios", "read_settings", "read_words", "save_model_files", "token_ratios"]

NGRAM_FILE = "ngram.json"
NGRAM_WEIGHTS = "ngram.npz"
FORMAT = "rnnlab.ngram-nb-logistic"

# Words (with their contractions) plus "!" and "?": on the seed-0 IMDB validation split this
# beat scikit-learn's default pattern (2+ word characters, punctuation dropped) by 0.5-0.9
# points for both linear baselines, e.g. NBSVM 1-2 grams at C=1: 91.7% against 90.8%.
TOKEN_PATTERN = r"[a-z0-9]+(?:'[a-z]+)?|[!?]"


def clean_text(text: str) -> str:
    """Lower-case and drop IMDB's line breaks, which would otherwise become the token "br"."""
    return text.lower().replace("<br />", " ")


_WORDS = re.compile(TOKEN_PATTERN).findall


def read_words(text: str) -> list[str]:
    """The words the models of raw texts read in ``text``: `TOKEN_PATTERN` after `clean_text`."""
    return _WORDS(clean_text(text))


def logistic(C: float, n_classes: int):
    """scikit-learn's logistic regression, solved where it is fastest for n-gram features."""
    from sklearn.linear_model import LogisticRegression

    if n_classes == 2:
        # The dual problem has one variable per text, far fewer than the millions of n-grams.
        return LogisticRegression(C=C, solver="liblinear", dual=True, max_iter=1000)
    return LogisticRegression(C=C, max_iter=1000)


def nb_ratios(X, target: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """Naive-Bayes log-count ratio of each feature of a binary matrix: ``log((p/|p|1)/(q/|q|1))``.

    ``p`` (``q``) is ``alpha`` plus the count of rows with ``target`` 1 (0) holding the feature.
    The norms run over the features some row holds: columns no row holds (most of a hashed
    feature space) would otherwise add ``alpha`` each and change every ratio, so a hashed model
    would smooth far more than the same model on a vocabulary of the seen n-grams.
    """
    target = np.asarray(target).astype(bool)
    counts_p = np.asarray(X[target].sum(axis=0), dtype=np.float64).ravel()
    counts_q = np.asarray(X[~target].sum(axis=0), dtype=np.float64).ravel()
    p, q = alpha + counts_p, alpha + counts_q
    seen = (counts_p + counts_q) > 0
    return np.log((p / p[seen].sum()) / (q / q[seen].sum()))


def token_ratios(ids: np.ndarray, labels: np.ndarray, vocab_size: int, num_classes: int,
                 alpha: float = 1.0) -> np.ndarray:
    """Each token id's naive-Bayes ratios from padded id rows: ``(vocab_size, 1)`` for two classes, else one
    column per class against the rest. Id 0 (padding) gets zeros; a token is counted once per row.

    Example:
        >>> token_ratios(np.array([[2, 3, 0], [4, 3, 0]]), np.array([1, 0]), 5, 2)[:, 0].astype(float).round(2).tolist()
        [0.0, 0.0, 0.69, 0.0, -0.69]
    """
    from scipy import sparse

    ids = np.asarray(ids)
    rows = np.repeat(np.arange(len(ids)), ids.shape[1])
    cols = ids.reshape(-1)
    keep = (cols > 0) & (cols < vocab_size)
    X = sparse.csr_matrix((np.ones(int(keep.sum())), (rows[keep], cols[keep])), shape=(len(ids), vocab_size))
    X.data[:] = 1.0  # duplicates were summed
    labels = np.asarray(labels).reshape(-1)
    positives = [1] if num_classes == 2 else range(num_classes)
    ratios = np.stack([nb_ratios(X, labels == c, alpha) for c in positives], axis=1)
    ratios[0] = 0.0
    return ratios.astype(np.float32)


class NBSVM:
    """Logistic regression on naive-Bayes-scaled binary features (Wang & Manning, 2012).

    Each feature is weighted by its log-count ratio between the classes, so the linear model
    starts from the naive Bayes evidence and only has to correct it; on long reviews this beats
    both plain naive Bayes and plain logistic regression. More than two classes are handled
    one-vs-rest, each class with its own ratios.

    Args:
        C: inverse regularisation strength of the logistic regression (default 1.0).
        alpha: smoothing count added to every feature (default 1.0, as in the paper).

    Example:
        >>> from sklearn.feature_extraction.text import CountVectorizer
        >>> vec = CountVectorizer(binary=True)
        >>> x = vec.fit_transform(["good fun", "great good", "bad dull", "awful bad"])
        >>> NBSVM(C=1.0).fit(x, [1, 1, 0, 0]).predict(vec.transform(["good"]))
        array([1])
    """

    def __init__(self, C: float = 1.0, alpha: float = 1.0):
        self.C = C
        self.alpha = alpha

    def fit(self, X, y) -> "NBSVM":
        y = np.asarray(y)
        X = _binarize(X)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise InvalidInputError(f"NBSVM needs at least two classes in y; got {self.classes_.tolist()}.")
        # Two classes need one model; k > 2 classes one per class against the rest.
        positives = self.classes_[1:] if len(self.classes_) == 2 else self.classes_
        self.ratios_, self.models_ = [], []
        for positive in positives:
            target = (y == positive).astype(int)
            ratio = nb_ratios(X, target, self.alpha)
            self.ratios_.append(ratio)
            self.models_.append(logistic(self.C, 2).fit(X.multiply(ratio).tocsr(), target))
        return self

    @property
    def weights_(self) -> tuple[np.ndarray, np.ndarray]:
        """``(weights (k, features), biases (k,))``: ratio times coefficient, one row per fitted model."""
        weights = np.stack([r * m.coef_[0] for r, m in zip(self.ratios_, self.models_)])
        return weights, np.array([m.intercept_[0] for m in self.models_])

    def predict_proba(self, X) -> np.ndarray:
        X = _binarize(X)
        scores = np.column_stack([m.predict_proba(X.multiply(r).tocsr())[:, 1]
                                  for r, m in zip(self.ratios_, self.models_)])
        return _probabilities(scores, len(self.classes_))

    def predict(self, X) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def checked_classes(labels: np.ndarray, class_names, model: str) -> tuple[bool, tuple[str, ...]]:
    """``(multi_label, class names)`` of training labels: class ids, or an ``(n, k)`` 0/1 matrix of label sets.

    Class names default to ``"0"``, ``"1"``...; a class (or label) no text holds, or a label every
    text holds, is refused in one line naming ``model``.
    """
    multi_label = labels.ndim == 2
    n_classes = labels.shape[1] if multi_label else int(labels.max()) + 1 if len(labels) else 0
    names = tuple(class_names) if class_names is not None else tuple(str(i) for i in range(max(n_classes, 2)))
    if multi_label:
        if labels.shape[1] != len(names):
            raise InvalidInputError(f"labels have {labels.shape[1]} columns but there are {len(names)} class names.")
        held = labels.sum(axis=0)
        missing = np.flatnonzero((held == 0) | (held == len(labels))).tolist()
    else:
        missing = sorted(set(range(len(names))) - set(np.unique(labels).tolist()))
    if missing:
        what = "label(s) held by no training text or by all" if multi_label else "class(es)"
        raise InvalidInputError(f"No training example of {what} {[names[i] for i in missing]}; {model} needs every "
                                "class.")
    return multi_label, names


def save_model_files(out, settings: tuple[str, dict], arrays_name: str, what: str, **arrays) -> Path:
    """Write a model of raw texts into the folder ``out`` in one step: ``settings`` as ``(file name, dict)``
    (JSON) and ``arrays`` into ``arrays_name`` (a compressed npz, read back with ``allow_pickle=False``)."""
    out = Path(out)
    name, values = settings
    with staged_folder(out, marker=name, what=what) as staging:
        write_json(staging / name, values, indent=2)
        with atomic_path(staging / arrays_name) as tmp, open(tmp, "wb") as handle:
            np.savez_compressed(handle, **arrays)
    return out


def read_settings(path: Path, form: str, what: str) -> dict:
    """The settings file of a model of raw texts, after checking its format tag and its token pattern."""
    settings = read_json(path, f"{what[0].upper()}{what[1:]} settings")
    if not isinstance(settings, dict) or settings.get("format") != form:
        raise RnnlabError(f"{path} is not an rnnlab {what}; retrain it.")
    if settings.get("token_pattern") != TOKEN_PATTERN:
        raise RnnlabError(f"{path} was made with another tokenizer; retrain it with this version.")
    return settings


def _binarize(X):
    from scipy import sparse

    X = sparse.csr_matrix(X, dtype=np.float64)
    X.data = (X.data > 0).astype(np.float64)
    return X


def _probabilities(scores: np.ndarray, n_classes: int) -> np.ndarray:
    """Per-model positive-class probabilities -> class probabilities (binary, or one-vs-rest normalised)."""
    if n_classes == 2:
        return np.column_stack([1.0 - scores[:, 0], scores[:, 0]])
    return scores / scores.sum(axis=1, keepdims=True)


class NgramModel:
    """NBSVM on hashed, binarized word n-grams of raw texts.

    Args:
        ngram_range: shortest and longest n-gram (default ``(1, 2)``: on the IMDB validation
            split, 1-2 grams scored 91.4% against 91.0-91.2% for 1-3 grams).
        C: inverse regularisation strength (default 0.1).
        n_features: hash buckets (default 2**26, about 67M). IMDB's training reviews hold about
            1.4M distinct 1-2 grams: at 2**22 buckets one in three shares its bucket, and on 2,550
            reviews of the 3,000-review CSV (split seed 1) 1-3 grams at 2**22 scored 88.1% on
            validation against 89.4% for the same model on exact n-gram columns; at 2**26 the
            two agree on every row. Only the buckets training texts fill hold a weight (a sparse
            matrix), so the size costs no memory.
        class_names: the label of each class, in label-id order (default ``"0"``, ``"1"``...).

    Labels given as an ``(n, k)`` matrix of 0/1 (several labels a text) fit one binary model per
    label, each with its own naive-Bayes ratios; ``predict_proba`` then gives each label's own
    probability (rows do not sum to one) and ``multi_label`` is True.
    """

    def __init__(self, ngram_range=(1, 2), C: float = 0.1, n_features: int = 2 ** 26, class_names=None):
        ngram_range = tuple(int(n) for n in ngram_range)
        if len(ngram_range) != 2 or not 1 <= ngram_range[0] <= ngram_range[1] <= 5:
            raise InvalidInputError(f"ngram_range must be [low, high] with 1 <= low <= high <= 5, got "
                                    f"{list(ngram_range)}.")
        if not C > 0:
            raise InvalidInputError(f"C must be > 0, got {C!r}.")
        if not 2 ** 10 <= int(n_features) <= 2 ** 26:
            raise InvalidInputError(f"n_features must be between 2**10 and 2**26, got {n_features!r}.")
        self.ngram_range = ngram_range
        self.C = float(C)
        self.n_features = int(n_features)
        self.class_names = tuple(class_names) if class_names is not None else None
        self.multi_label = False  # several labels a text: one model per label (set by fit or load)
        # The weights: ``columns`` (sorted bucket ids some training text fills) and ``values``
        # ``(k, len(columns))``, one row per fitted model; every other bucket weighs 0.
        self.columns = self.values = self.biases = None

    @functools.cached_property
    def vectorizer(self):
        from sklearn.feature_extraction.text import HashingVectorizer

        return HashingVectorizer(ngram_range=self.ngram_range, n_features=self.n_features, preprocessor=clean_text,
                                 token_pattern=TOKEN_PATTERN, binary=True, norm=None, alternate_sign=False,
                                 dtype=np.float32)

    def features(self, texts):
        """The binary n-gram matrix ``(len(texts), n_features)``, sparse."""
        return self.vectorizer.transform(list(texts)).tocsr()

    def fit(self, texts, labels) -> "NgramModel":
        labels = np.asarray(labels)
        if len(texts) != len(labels):
            raise InvalidInputError(f"{len(texts)} texts but {len(labels)} labels.")
        self.multi_label, self.class_names = checked_classes(labels, self.class_names, "the n-gram model")
        X = self.features(texts)
        # Only the buckets some training text fills can get a weight: fit on those columns alone
        # (a dense ratio vector over 2**26 buckets would take half a gigabyte).
        columns = np.unique(X.indices)
        if not len(columns):
            raise InvalidInputError("No training text holds a word the n-gram model reads (lower-case letters and "
                                    "digits, ! and ?); check the text column.")
        X = self._restricted(X, columns)
        if self.multi_label:  # one binary model per label, stacked as the rows of one-vs-rest models are
            fitted = [NBSVM(C=self.C).fit(X, labels[:, j]).weights_ for j in range(labels.shape[1])]
            weights, biases = np.concatenate([w for w, _ in fitted]), np.concatenate([b for _, b in fitted])
        else:
            weights, biases = NBSVM(C=self.C).fit(X, labels).weights_
        self.columns, self.values = columns.astype(np.int64), weights.astype(np.float32)
        self.biases = biases.astype(np.float64)
        return self

    @property
    def nonzero(self) -> int:
        """How many n-gram weights the model holds (its parameters, besides one bias per model)."""
        self._check_fitted()
        return int(np.count_nonzero(self.values))

    @property
    def params(self) -> int:
        """Learnt numbers kept: the non-zero n-gram weights and one bias per model."""
        return self.nonzero + len(self.biases)

    @staticmethod
    def _restricted(X, columns: np.ndarray):
        """``X`` (sparse, every bucket) on ``columns`` only: entries in other buckets are dropped."""
        from scipy import sparse

        X = X.tocsr()
        at = np.searchsorted(columns, X.indices)
        inside = at < len(columns)
        inside[inside] = columns[at[inside]] == X.indices[inside]
        kept = sparse.csr_matrix((np.where(inside, X.data, 0), np.where(inside, at, 0), X.indptr),
                                 shape=(X.shape[0], len(columns)))
        kept.eliminate_zeros()
        return kept

    def _weights_of(self, buckets: np.ndarray, row: int) -> np.ndarray:
        """The weights of model ``row`` for each of ``buckets`` (0 for a bucket no training text filled)."""
        at = np.searchsorted(self.columns, buckets)
        found = (at < len(self.columns)) & (self.columns[np.minimum(at, len(self.columns) - 1)] == buckets)
        return np.where(found, self.values[row, np.minimum(at, len(self.columns) - 1)], 0.0)

    def scores(self, X) -> np.ndarray:
        """Linear scores ``(n, k)`` of a feature matrix: one column per fitted model."""
        self._check_fitted()
        return np.asarray(self._restricted(X, self.columns) @ self.values.T, dtype=np.float64) + self.biases

    def predict_proba(self, texts) -> np.ndarray:
        """Class probabilities ``(len(texts), num_classes)``; for several labels a text, each label's own."""
        scores = 1.0 / (1.0 + np.exp(-self.scores(self.features(texts))))
        return scores if self.multi_label else _probabilities(scores, len(self.class_names))

    @property
    def rows(self) -> int:
        """How many binary models the weights hold: one for two classes, else one per class or label."""
        return 1 if len(self.class_names) == 2 and not self.multi_label else len(self.class_names)

    def contributions(self, text: str, top: int = 8, target: int | None = None) -> list[tuple[str, float]]:
        """The n-grams of ``text`` that move its score most, as ``(n-gram, weight)``, largest |weight| first.

        For two classes a positive weight speaks for the second class; with more classes (or labels)
        the weights are those of class ``target``, by default the text's most probable one.
        """
        self._check_fitted()
        analyzer = self.vectorizer.build_analyzer()
        grams = list(dict.fromkeys(analyzer(text)))
        if not grams:
            return []
        row = 0 if self.rows == 1 else int(self.predict_proba([text])[0].argmax()) if target is None else target
        ids = self._buckets(grams)
        weights = self._weights_of(ids, row)
        order = np.argsort(-np.abs(weights), kind="stable")[:top]
        return [(grams[i], round(float(weights[i]), 4)) for i in order]

    def tokens(self, text: str) -> list[str]:
        """The words the model reads in ``text`` (its token pattern, after cleaning)."""
        return read_words(text)

    def word_weights(self, words: list[str], target: int = 1) -> list[float]:
        """Each word's own (unigram) weight towards class ``target`` (0 where the model has no unigrams)."""
        self._check_fitted()
        if not words or self.ngram_range[0] > 1:
            return [0.0] * len(words)
        row = 0 if self.rows == 1 else target
        sign = -1.0 if self.rows == 1 and target == 0 else 1.0
        ids = self._buckets(words)
        return [round(sign * float(w), 4) for w in self._weights_of(ids, row)]

    def _buckets(self, grams: list[str]) -> np.ndarray:
        from sklearn.feature_extraction import FeatureHasher

        # The hasher HashingVectorizer applies to the analyzer's n-grams: one bucket per n-gram, in order.
        return FeatureHasher(self.n_features, input_type="string", alternate_sign=False).transform(
            [[g] for g in grams]).indices

    def to_json(self) -> dict:
        return {"format": FORMAT, "ngram_range": list(self.ngram_range), "C": self.C, "n_features": self.n_features,
                "class_names": list(self.class_names), "multi_label": self.multi_label, "token_pattern": TOKEN_PATTERN,
                "preprocessor": "lower-case, '<br />' removed", "binary": True}

    def save(self, out) -> Path:
        """Write ``ngram.json`` and ``ngram.npz`` into the folder ``out`` (replacing an older model)."""
        self._check_fitted()
        return save_model_files(out, (NGRAM_FILE, self.to_json()), NGRAM_WEIGHTS, "an rnnlab n-gram model",
                                columns=self.columns, values=self.values, biases=self.biases)

    @classmethod
    def load(cls, path) -> "NgramModel":
        path = Path(path)
        settings = read_settings(path / NGRAM_FILE, FORMAT, "n-gram model")
        try:
            model = cls(settings["ngram_range"], settings["C"], settings["n_features"], settings["class_names"])
            model.multi_label = bool(settings.get("multi_label", False))
            with np.load(path / NGRAM_WEIGHTS, allow_pickle=False) as arrays:
                if "weights" in arrays:  # written dense before version 0.7
                    dense = arrays["weights"].astype(np.float32)
                    model.columns = np.flatnonzero(np.any(dense != 0, axis=0)).astype(np.int64)
                    model.values = dense[:, model.columns]
                else:
                    model.columns = arrays["columns"].astype(np.int64)
                    model.values = arrays["values"].astype(np.float32)
                model.biases = arrays["biases"].astype(np.float64)
        except (KeyError, TypeError, ValueError, OSError) as exc:
            raise RnnlabError(f"Cannot load the n-gram model in {path}: {exc}. The files are damaged; retrain it.") \
                from exc
        models = model.rows
        columns = model.columns
        if (model.values.shape != (models, len(columns)) or model.biases.shape != (models,) or columns.ndim != 1
                or (len(columns) and (columns[0] < 0 or columns[-1] >= model.n_features
                                      or np.any(np.diff(columns) <= 0)))):
            raise RnnlabError(f"{path / NGRAM_WEIGHTS} holds weights of shape {model.values.shape} over "
                              f"{len(columns)} buckets, expected {models} rows of increasing buckets below "
                              f"{model.n_features}; the file is damaged: retrain the model.")
        return model

    def _check_fitted(self) -> None:
        if self.values is None:
            raise RnnlabError("This n-gram model is not fitted yet: call fit(texts, labels) first.")

