"""Encoded data shared by every run that asks for the same preprocessing and split.

Encoding IMDB takes seconds and a sweep trains dozens of models on the same few splits, so
a process encodes each distinct (preprocessing, split) once and hands the same arrays to
every run that needs them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import numpy as np

from rnnlab.data import TextDataset
from rnnlab.encoding.prepare import load_splits, prepare
from rnnlab.encoding.split import split_validation
from rnnlab.errors import RnnlabError
from rnnlab.experiments.recipes.baseline import SplitTexts


@dataclass(frozen=True)
class DataRequest:
    """Everything that decides the arrays a run trains and is tested on."""

    dataset: str
    limit: int | None
    sample_seed: int
    tokenizer: str
    vocab_size: int | None
    maxlen: int | None
    padding: str
    truncating: str
    validation_split: float
    length_rule: str
    split_seed: int
    source: tuple = ()  # the recipe's source options (columns, test file), as sorted pairs

    @classmethod
    def for_run(cls, spec, recipe, *, limit: int | None, sample_seed: int, split_seed: int) -> "DataRequest":
        source = tuple(sorted((k, json.dumps(v, sort_keys=True)) for k, v in recipe.source_options().items()))
        return cls(str(recipe.dataset), limit, sample_seed, recipe.tokenizer, spec.vocab_size, spec.maxlen,
                   recipe.padding, recipe.truncating, float(recipe.validation_split), recipe.length_rule,
                   split_seed, source)

    def source_options(self) -> dict:
        return {k: json.loads(v) for k, v in self.source}

    @property
    def key(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    def describe(self) -> dict:
        return asdict(self)



class DataCache:
    """Raw datasets and prepared splits, kept for the life of the process.

    Example:

    >>> cache = DataCache()  # doctest: +SKIP
    >>> data = cache.prepared(request)  # encodes
    >>> cache.prepared(request) is data  # reuses
    True
    """

    def __init__(self):
        self._raw: dict[tuple, tuple[TextDataset, TextDataset]] = {}
        self._prepared: dict[str, object] = {}
        self.encodings = 0

    def raw(self, request: DataRequest) -> tuple[TextDataset, TextDataset]:
        # The subsample is drawn with the experiment's seed, not the run's: every run of a
        # --limit sweep sees the same examples, and only their split and order change.
        key = (request.dataset, request.limit, request.sample_seed, request.source)
        if key not in self._raw:
            self._raw[key] = load_splits(request.dataset, seed=request.sample_seed, limit=request.limit,
                                         **request.source_options())
        return self._raw[key]

    def prepared(self, request: DataRequest):
        if request.key not in self._prepared:
            train, test = self.raw(request)
            self._prepared[request.key] = prepare(
                train, test, mode=request.tokenizer, vocab_size=request.vocab_size, maxlen=request.maxlen,
                padding=request.padding, truncating=request.truncating, validation_split=request.validation_split,
                length_rule=request.length_rule, seed=request.split_seed)
            self.encodings += 1
        return self._prepared[request.key]

    def split_texts(self, request: DataRequest) -> SplitTexts:
        """The training texts (validation part excluded) and test texts of a prepared split."""
        data = self.prepared(request)
        train, test = self.raw(request)
        # Same steps as `prepare`: shuffle with the split seed, apply the length rule, keep
        # the leading rows for training. The arrays are compared below, so a change in
        # `prepare` shows up as an error here rather than as a baseline on other examples.
        shuffled = train.subset(np.concatenate(split_validation(len(train), request.validation_split, request.split_seed)))
        train_ids, train_keep = self._kept(data.preprocessor, shuffled, request)
        n_train = len(data.x_train)
        train_rows = np.flatnonzero(train_keep)[:n_train]
        test_ids, test_keep = self._kept(data.preprocessor, test, request)
        if not (np.array_equal(train_ids[train_rows], data.x_train) and np.array_equal(test_ids[test_keep], data.x_test)):
            raise RnnlabError("The baseline could not find the texts of the prepared split; "
                              "rnnlab.encoding.prepare and rnnlab.experiments.sweeps.datasets disagree.")
        return SplitTexts([shuffled.texts[i] for i in train_rows], shuffled.labels[train_rows],
                          [test.texts[i] for i in np.flatnonzero(test_keep)], test.labels[test_keep],
                          data.class_names)

    @staticmethod
    def _kept(preprocessor, dataset: TextDataset, request: DataRequest):
        encoded = preprocessor.encode(dataset.texts)
        keep = np.ones(len(dataset), dtype=bool)
        if request.length_rule == "filter" and request.maxlen:
            keep = ~np.asarray(encoded.truncated) & (np.asarray(encoded.n_tokens) < request.maxlen)
        return encoded.ids, keep
