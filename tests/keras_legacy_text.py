"""Keras' legacy word tokenizer, kept here so the Keras-equivalence tests outlive its removal.

rnnlab's ``Tokenizer("keras")`` and ``Vocabulary`` promise the tokens and ids of Keras 1's
``text_to_word_sequence`` and ``Tokenizer``, which Keras 3 still ships, privately, as
``keras.src.legacy.preprocessing.text``. `text_to_word_sequence` and `Tokenizer` below copy the
parts the tests use (``fit_on_texts``, ``texts_to_sequences``, ``word_counts``, ``word_index``)
from that module as of Keras 3.15.1, quirks included: the OOV token takes id 1 even when it
is also a counted word (which then takes its later id), and ``num_words`` keeps ids below it.

`words` and `CheckedTokenizer` are what the tests compare rnnlab against: this copy, and, while
Keras still ships its module, Keras' own answer too, asserted to be the same.
"""

from __future__ import annotations

import collections

import rnnlab  # noqa: F401  (selects the Keras backend before Keras is imported)

try:
    from keras.src.legacy.preprocessing import text as keras_text
except ImportError:  # a Keras release without the legacy module: this copy is the reference alone
    keras_text = None

FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'


def text_to_word_sequence(text: str, filters: str = FILTERS, lower: bool = True, split: str = " ") -> list[str]:
    """Lower-case, turn every filter character into `split`, split on `split`, drop empty words."""
    if lower:
        text = text.lower()
    text = text.translate(str.maketrans({c: split for c in filters}))
    return [word for word in text.split(split) if word]


class Tokenizer:
    """Word counts and ids by descending count (ties: first seen first); id 0 is never given.

    Args:
        num_words: ids from this one up become the OOV id, or are dropped without an OOV token
            (default None: no limit).
        filters, lower, split: as for `text_to_word_sequence`.
        oov_token: given id 1 by `fit_on_texts` and to unknown words (default None: they are dropped).
    """

    def __init__(self, num_words=None, filters=FILTERS, lower=True, split=" ", oov_token=None):
        self.num_words, self.filters, self.lower, self.split = num_words, filters, lower, split
        self.oov_token = oov_token
        self.word_counts: collections.OrderedDict[str, int] = collections.OrderedDict()
        self.word_index: dict[str, int] = {}

    def _words(self, text) -> list[str]:
        if isinstance(text, list):  # already tokens: only lower-cased
            return [word.lower() for word in text] if self.lower else text
        return text_to_word_sequence(text, self.filters, self.lower, self.split)

    def fit_on_texts(self, texts) -> None:
        for text in texts:
            for word in self._words(text):
                self.word_counts[word] = self.word_counts.get(word, 0) + 1
        by_count = sorted(self.word_counts.items(), key=lambda item: item[1], reverse=True)  # stable: ties keep order
        vocabulary = ([] if self.oov_token is None else [self.oov_token]) + [word for word, _ in by_count]
        self.word_index = dict(zip(vocabulary, range(1, len(vocabulary) + 1)))

    def texts_to_sequences(self, texts) -> list[list[int]]:
        oov = self.word_index.get(self.oov_token)
        sequences = []
        for text in texts:
            ids = []
            for word in self._words(text):
                i = self.word_index.get(word)
                if i is None:
                    if self.oov_token is not None:
                        ids.append(oov)
                elif self.num_words and i >= self.num_words:
                    if oov is not None:
                        ids.append(oov)
                else:
                    ids.append(i)
            sequences.append(ids)
        return sequences


def words(text: str) -> list[str]:
    """`text_to_word_sequence(text)`, checked against Keras' own where Keras ships it."""
    ours = text_to_word_sequence(text)
    if keras_text is not None:
        assert ours == keras_text.text_to_word_sequence(text), f"the copy of text_to_word_sequence differs: {text!r}"
    return ours


class CheckedTokenizer(Tokenizer):
    """`Tokenizer`, with Keras' legacy one fitted alongside where Keras ships it: each answer must agree."""

    def __init__(self, num_words=None, oov_token=None):
        super().__init__(num_words=num_words, oov_token=oov_token)
        self.keras = keras_text.Tokenizer(num_words=num_words, oov_token=oov_token) if keras_text else None

    def fit_on_texts(self, texts) -> None:
        super().fit_on_texts(texts)
        if self.keras is not None:
            self.keras.fit_on_texts(texts)
            assert self.word_counts == self.keras.word_counts, "the copy of Tokenizer counts differently"
            assert self.word_index == self.keras.word_index, "the copy of Tokenizer numbers words differently"

    def texts_to_sequences(self, texts) -> list[list[int]]:
        ours = super().texts_to_sequences(texts)
        if self.keras is not None:
            assert ours == self.keras.texts_to_sequences(texts), "the copy of Tokenizer encodes differently"
        return ours
