"""Document vectors learnt from unlabelled texts, with a logistic regression on top: a stack member.

`DocVectorModel` trains paragraph vectors in their "distributed bag of words" form (PV-DBOW, Le &
Mikolov 2014) with gensim: each text gets a vector trained to predict the words and word
n-grams it contains, against sampled negatives. The texts it learns from need no labels, so the
training texts can be joined by any number of unlabelled ones (IMDB's 50,000 ``unsup`` reviews, a
user's file). A logistic regression then maps the labelled texts' vectors to their classes. A new
text's vector is inferred with the output weights fixed, so the model predicts texts it never saw.

It reads the same words as `rnnlab.training.linear.NgramModel` (its token pattern and cleaning)
and errs differently from it: on the seed-0 IMDB validation fold, blending NBSVM on 1-2 grams
with this model (1-2 grams, 100 dimensions, 15 epochs) scored 91.96% against 91.40% for NBSVM
alone (blend weights fitted on one half of the fold, scored on the other).

Inference is deterministic: each text's vector starts from a seed derived from its words (not
Python's per-process ``hash``), and negative sampling restarts from the model's seed for every
text, so a text gets the same vector in any process, whatever was predicted before it. Training
is deterministic with one worker (the default); more workers train faster, but gensim's threads
race on shared weights.

Saved as ``docvec.json`` (settings, class names, vocabulary with counts) and ``docvec.npz``
(output weights as float16, the regression's weights; read with ``allow_pickle=False``). The
model used for prediction is always built from those arrays, right after training as after
loading, so a saved model predicts exactly what the trained one did.

Example:
    >>> model = DocVectorModel(dim=16, epochs=5, min_count=1).fit(texts, labels)  # doctest: +SKIP
    >>> model.predict_proba(["a fine film"]).shape  # doctest: +SKIP
    (1, 2)
"""

from __future__ import annotations

import functools
import zlib
from pathlib import Path

import numpy as np

from rnnlab.errors import InvalidInputError, RnnlabError
from rnnlab.training.linear import TOKEN_PATTERN, checked_classes, read_settings, read_words, save_model_files

__all__ = ["DOCVEC_FILE", "DOCVEC_ARRAYS", "DocVectorModel", "gensim_tables"]

DOCVEC_FILE = "docvec.json"
DOCVEC_ARRAYS = "docvec.npz"
FORMAT = "rnnlab.doc-vectors"
ALPHA, MIN_ALPHA = 0.025, 0.0001  # gensim's default learning rates, for training and inference


def gensim_tables(counts: np.ndarray, sample: float, ns_exponent: float = 0.75) -> tuple[np.ndarray, np.ndarray]:
    """``(sample_int, cum_table)`` of a vocabulary's counts, as gensim's ``prepare_vocab`` and ``make_cum_table``
    compute them (``0 <= sample < 1``; counts in vocabulary order).

    ``sample_int[i]`` scales the chance that n-gram ``i`` is kept to 2**32 - 1; ``cum_table`` is the
    running share of ``count ** ns_exponent``, scaled to 2**31 - 1, that negative samples are drawn from.
    """
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    threshold = sample * total if sample else float(total)
    with np.errstate(divide="ignore"):
        kept = (np.sqrt(counts / threshold) + 1) * (threshold / counts)
    sample_int = (np.minimum(kept, 1.0) * (2 ** 32 - 1)).astype(np.uint32)
    cumulative = np.cumsum(counts.astype(np.float64) ** float(ns_exponent))  # summed in order, as gensim's loop does
    domain = 2 ** 31 - 1
    cum_table = np.round(cumulative / cumulative[-1] * domain).astype(np.uint32)
    return sample_int, cum_table


class DocVectorModel:
    """PV-DBOW document vectors over words and n-grams, then a logistic regression.

    Args:
        ngram_range: shortest and longest word n-gram each vector predicts (default ``(1, 2)``).
        dim: vector size (default 100).
        epochs: passes over the texts in training, and over one text when inferring its vector
            (default 15; 5 scored 83.6% on the IMDB validation fold, 15 scored 90.0-90.6%).
        min_count: n-grams seen fewer times in the texts are ignored (default 5; it bounds the
            saved output weights: 164k IMDB 1-2 grams at 5, 451k at 2).
        sample: frequent n-grams are down-sampled above this share of the texts' n-grams
            (default 1e-4; also about three times faster than none).
        negative: negative samples per predicted n-gram (default 5).
        C: inverse regularisation strength of the logistic regression (default 1.0).
        workers: training threads (default 1: the same model bit for bit on every run).
        seed: seed of the vectors and of negative sampling (default 0).
        class_names: the label of each class, in label-id order (default ``"0"``, ``"1"``...).

    Labels given as an ``(n, k)`` matrix of 0/1 (several labels a text) fit one logistic
    regression per label; ``predict_proba`` then gives each label's own probability.
    """

    def __init__(self, ngram_range=(1, 2), dim: int = 100, epochs: int = 15, min_count: int = 5,
                 sample: float = 1e-4, negative: int = 5, C: float = 1.0, workers: int = 1, seed: int = 0,
                 class_names=None):
        ngram_range = tuple(int(n) for n in ngram_range)
        if len(ngram_range) != 2 or not 1 <= ngram_range[0] <= ngram_range[1] <= 3:
            raise InvalidInputError(f"Document vectors: ngram_range must be [low, high] with 1 <= low <= high <= 3, "
                                    f"got {list(ngram_range)}.")
        for name, value, low in (("dim", dim, 2), ("epochs", epochs, 1), ("min_count", min_count, 1),
                                 ("negative", negative, 1), ("workers", workers, 1), ("seed", seed, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise InvalidInputError(f"Document vectors: {name} must be an integer >= {low}, got {value!r}.")
        if not 0 <= float(sample) < 1:
            raise InvalidInputError(f"Document vectors: sample must be in [0, 1), got {sample!r}.")
        if not float(C) > 0:
            raise InvalidInputError(f"Document vectors: C must be > 0, got {C!r}.")
        self.ngram_range, self.dim, self.epochs, self.min_count = ngram_range, dim, epochs, min_count
        self.sample, self.negative, self.C = float(sample), negative, float(C)
        self.workers, self.seed = workers, seed
        self.class_names = tuple(class_names) if class_names is not None else None
        self.multi_label = False
        # The learnt state: the vocabulary (in the trained model's order) with counts, the output
        # weights of each vocabulary entry, and the regression's weights (one row per binary model,
        # or per class for several classes).
        self.words = self.counts = self.output = self.coef = self.intercept = None

    # --- reading texts ---------------------------------------------------------------------------

    def tokens(self, text: str) -> list[str]:
        """The words the model reads in ``text`` (the n-gram model's, `rnnlab.training.linear.read_words`)."""
        return read_words(text)

    def grams(self, text: str, interned: dict | None = None) -> list[str]:
        """The words and word n-grams of ``text`` in the model's range (n-grams joined by ``_``)."""
        words = self.tokens(text)
        low, high = self.ngram_range
        found = list(words) if low == 1 else []
        for n in range(max(low, 2), high + 1):
            found.extend("_".join(words[i:i + n]) for i in range(len(words) - n + 1))
        if interned is not None:  # one string object per distinct n-gram, for large corpora
            found = [interned.setdefault(g, g) for g in found]
        return found

    # --- training --------------------------------------------------------------------------------

    def fit(self, texts, labels, unlabelled=()) -> "DocVectorModel":
        """Learn vectors of ``texts`` and ``unlabelled`` texts, then the regression on ``texts``' labels."""
        from gensim.models.doc2vec import Doc2Vec, TaggedDocument

        texts, labels = list(texts), np.asarray(labels)
        if len(texts) != len(labels):
            raise InvalidInputError(f"{len(texts)} texts but {len(labels)} labels.")
        self.multi_label, self.class_names = checked_classes(labels, self.class_names, "the document-vector model")
        interned: dict = {}
        documents = [TaggedDocument(self.grams(str(text), interned), [i])
                     for i, text in enumerate([*texts, *unlabelled])]
        if not any(doc.words for doc in documents[:len(texts)]):
            raise InvalidInputError("No training text holds a word the document vectors read (lower-case letters "
                                    "and digits, ! and ?); check the text column.")
        trained = Doc2Vec(dm=0, vector_size=self.dim, negative=self.negative, hs=0, min_count=self.min_count,
                          sample=self.sample, epochs=self.epochs, workers=self.workers, seed=self.seed,
                          alpha=ALPHA, min_alpha=MIN_ALPHA)
        trained.build_vocab(documents)
        if not len(trained.wv):
            raise InvalidInputError(f"Document vectors: no n-gram occurs {self.min_count} times in the texts; "
                                    "lower min_count or give more texts.")
        trained.train(documents, total_examples=len(documents), epochs=self.epochs)
        del documents, interned
        self.words = list(trained.wv.index_to_key)
        self.counts = np.asarray(trained.wv.expandos["count"], dtype=np.int64)  # in index order
        self.output = trained.syn1neg.astype(np.float16)
        vectors = np.asarray(trained.dv.vectors[:len(texts)], dtype=np.float64)
        del trained
        self.__dict__.pop("_inference", None)
        self._fit_regression(vectors, labels)
        return self

    def _fit_regression(self, vectors: np.ndarray, labels: np.ndarray) -> None:
        from sklearn.linear_model import LogisticRegression

        def fitted(target):
            found = LogisticRegression(C=self.C, max_iter=2000).fit(vectors, target)
            return found.coef_, found.intercept_

        if self.multi_label:
            parts = [fitted(labels[:, j]) for j in range(labels.shape[1])]
            coef, intercept = np.concatenate([c for c, _ in parts]), np.concatenate([b for _, b in parts])
        else:
            coef, intercept = fitted(labels)
        self.coef, self.intercept = coef.astype(np.float64), intercept.astype(np.float64)

    # --- prediction ------------------------------------------------------------------------------

    @functools.cached_property
    def _inference(self):
        """A gensim model holding only what inference reads, built from the saved arrays.

        This is the model gensim's ``build_vocab_from_freq`` makes of the saved counts, with the output
        weights placed at each n-gram's index, built without gensim's per-word loops (8 s for IMDB's
        380,000 n-grams, here about 1 s): the tables gensim derives from the counts (each n-gram's
        chance to be kept under down-sampling, the cumulative table negative samples are drawn
        from) are computed by `gensim_tables`. `tests/test_doc_vectors.py` checks both against gensim.
        """
        from gensim.models.doc2vec import Doc2Vec

        self._check_fitted()
        model = Doc2Vec(dm=0, vector_size=self.dim, negative=self.negative, hs=0, min_count=1, sample=self.sample,
                        epochs=self.epochs, workers=1, seed=self.seed, alpha=ALPHA, min_alpha=MIN_ALPHA)
        # The order gensim gives a vocabulary it is handed with counts: most frequent first, ties in
        # reverse order (its `sort_by_descending_frequency`). Every figure in the docs was measured so.
        order = np.lexsort((-np.arange(len(self.counts)), -self.counts))
        counts = self.counts[order]
        sample_int, cum_table = gensim_tables(counts, self.sample)
        model.wv.index_to_key = [self.words[i] for i in order]
        model.wv.key_to_index = {word: i for i, word in enumerate(model.wv.index_to_key)}
        model.wv.expandos = {"count": counts, "sample_int": sample_int}
        model.wv.vectors_lockf = np.ones(1, dtype=np.float32)  # word vectors are neither read nor learnt
        model.cum_table = cum_table
        model.syn1neg = np.ascontiguousarray(self.output[order], dtype=np.float32)
        return model

    def vectors(self, texts) -> np.ndarray:
        """Each text's inferred document vector ``(len(texts), dim)``.

        gensim's ``infer_vector`` does what this does, with one difference: it starts each vector
        from Python's ``hash`` of the text, which changes from process to process (hash
        randomisation), so the same bundle would predict a little differently in every process.
        Here the start comes from a CRC-32 of the n-grams and the model's seed, and negative
        sampling restarts from the seed for every text: the same text gets the same vector in
        any process, whatever was inferred before it.
        """
        from gensim.models.doc2vec_inner import train_document_dbow

        model = self._inference
        found = np.empty((len(texts), self.dim), dtype=np.float64)
        step = (ALPHA - MIN_ALPHA) / max(self.epochs - 1, 1)
        work, lockf = np.zeros(self.dim, dtype=np.float32), np.ones(1, dtype=np.float32)
        for i, text in enumerate(texts):
            grams = self.grams(str(text))
            start = np.random.Generator(np.random.SFC64([zlib.crc32(" ".join(grams).encode()), self.seed]))
            vector = ((start.random(self.dim) - 0.5) / self.dim).astype(np.float32).reshape(1, self.dim)
            model.random = np.random.RandomState(self.seed)
            alpha = ALPHA
            for _ in range(self.epochs):
                train_document_dbow(model, grams, [0], alpha, work, learn_words=False, learn_hidden=False,
                                    doctag_vectors=vector, doctags_lockf=lockf)
                alpha -= step
            found[i] = vector[0]
        return found

    def scores(self, vectors: np.ndarray) -> np.ndarray:
        """The regression's linear scores ``(n, rows)`` of document vectors."""
        self._check_fitted()
        return vectors @ self.coef.T + self.intercept

    def predict_proba(self, texts) -> np.ndarray:
        """Class probabilities ``(len(texts), num_classes)``; for several labels a text, each label's own."""
        scores = self.scores(self.vectors(list(texts)))
        if self.multi_label:
            return 1.0 / (1.0 + np.exp(-scores))
        if len(self.class_names) == 2:
            positive = 1.0 / (1.0 + np.exp(-scores[:, 0]))
            return np.column_stack([1.0 - positive, positive])
        exp = np.exp(scores - scores.max(axis=1, keepdims=True))
        return exp / exp.sum(axis=1, keepdims=True)

    @property
    def rows(self) -> int:
        """How many rows the regression holds: one for two classes, else one per class or label."""
        return 1 if len(self.class_names) == 2 and not self.multi_label else len(self.class_names)

    @property
    def params(self) -> int:
        """Learnt numbers kept: the output weights and the regression's."""
        self._check_fitted()
        return int(self.output.size + self.coef.size + self.intercept.size)

    # --- saving ----------------------------------------------------------------------------------

    def to_json(self) -> dict:
        return {"format": FORMAT, "ngram_range": list(self.ngram_range), "dim": self.dim, "epochs": self.epochs,
                "min_count": self.min_count, "sample": self.sample, "negative": self.negative, "C": self.C,
                "workers": self.workers, "seed": self.seed, "class_names": list(self.class_names),
                "multi_label": self.multi_label, "token_pattern": TOKEN_PATTERN,
                "preprocessor": "lower-case, '<br />' removed", "words": self.words,
                "counts": self.counts.tolist()}

    def save(self, out) -> Path:
        """Write ``docvec.json`` and ``docvec.npz`` into the folder ``out`` (replacing an older model)."""
        self._check_fitted()
        return save_model_files(out, (DOCVEC_FILE, self.to_json()), DOCVEC_ARRAYS, "an rnnlab document-vector model",
                                output=self.output, coef=self.coef, intercept=self.intercept)

    @classmethod
    def load(cls, path) -> "DocVectorModel":
        path = Path(path)
        settings = read_settings(path / DOCVEC_FILE, FORMAT, "document-vector model")
        try:
            model = cls(settings["ngram_range"], settings["dim"], settings["epochs"], settings["min_count"],
                        settings["sample"], settings["negative"], settings["C"], settings["workers"],
                        settings["seed"], settings["class_names"])
            model.multi_label = bool(settings.get("multi_label", False))
            model.words = [str(w) for w in settings["words"]]
            model.counts = np.asarray(settings["counts"], dtype=np.int64)
            with np.load(path / DOCVEC_ARRAYS, allow_pickle=False) as arrays:
                model.output = arrays["output"].astype(np.float16)
                model.coef = arrays["coef"].astype(np.float64)
                model.intercept = arrays["intercept"].astype(np.float64)
        except (KeyError, TypeError, ValueError, OSError, InvalidInputError) as exc:
            raise RnnlabError(f"Cannot load the document-vector model in {path}: {exc}. The files are damaged; "
                              "retrain it.") from exc
        vocabulary = len(model.words)
        if (model.counts.shape != (vocabulary,) or model.output.shape != (vocabulary, model.dim)
                or model.coef.shape != (model.rows, model.dim) or model.intercept.shape != (model.rows,)
                or not vocabulary or len(set(model.words)) != vocabulary or np.any(model.counts < 1)):
            raise RnnlabError(f"{path} holds a vocabulary of {vocabulary:,}, output weights of shape "
                              f"{model.output.shape} and regression weights of shape {model.coef.shape}, which do "
                              f"not fit a model of {model.dim} dimensions and {model.rows} rows; the files are "
                              "damaged: retrain the model.")
        return model

    def _check_fitted(self) -> None:
        if self.output is None:
            raise RnnlabError("This document-vector model is not fitted yet: call fit(texts, labels) first.")
