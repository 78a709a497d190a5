"""The word-level rules both tokenizer modes are built from: filters, HTML breaks, stop words.

Kept apart from :mod:`rnnlab.text.tokenize` so that the fast nltk-mode pipeline
(:mod:`rnnlab.text.treebank`) and the tokenizer can both use them without importing each other.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from rnnlab.errors import InvalidInputError

#: The default ``filters`` argument of Keras' ``Tokenizer`` and ``text_to_word_sequence``.
KERAS_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'

_HTML_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
# bytes.translate is several times faster than str.translate on large texts. It is exact
# on UTF-8: every filter character is ASCII, and a multi-byte UTF-8 sequence never
# contains an ASCII byte, so no other character can be hit.
_KERAS_TABLE = bytes.maketrans(KERAS_FILTERS.encode(), b" " * len(KERAS_FILTERS))


def strip_html_breaks(text: str) -> str:
    """Replace HTML line breaks (``<br />``, ``<br/>``, ``<br>``, any case) by spaces."""
    return _HTML_BREAK.sub(" ", text) if "<" in text else text


def keras_tokens(text: str) -> list[str]:
    """Tokens of ``text`` in ``"keras"`` mode (see the module docstring)."""
    lowered = strip_html_breaks(text).lower()
    # "surrogatepass" keeps lone surrogates (left by undecodable bytes) as they are.
    filtered = lowered.encode("utf-8", "surrogatepass").translate(_KERAS_TABLE)
    return filtered.decode("utf-8", "surrogatepass").split()


@functools.cache
def stop_words() -> frozenset[str]:
    """scikit-learn's English stop words (loaded on first use: importing it takes ~1 s)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


def is_punctuation(token: str) -> bool:
    """True for a token with no letter and no digit (``","``, ``"--"``, ``"``"``, ``"..."``)."""
    return not any(ch.isalnum() for ch in token)


@functools.cache
def _nltk_tools():
    from nltk.stem import PorterStemmer
    from nltk.tokenize import TreebankWordTokenizer

    return TreebankWordTokenizer(), PorterStemmer()


def reference_nltk_tokens(text: str) -> list[str]:
    """``"nltk"`` mode written as the plain loop over tokens: the definition of the mode.

    Slow (every token is stemmed, every time); the :class:`Tokenizer` gives identical
    results much faster. Kept for tests and benchmarks.
    """
    treebank, stemmer = _nltk_tools()
    stop = stop_words()
    return [
        stemmer.stem(token)
        for token in treebank.tokenize(strip_html_breaks(text).lower())
        if token not in stop and not is_punctuation(token)
    ]


def _check_texts(texts) -> list[str]:
    if isinstance(texts, str) or not isinstance(texts, Iterable):
        raise InvalidInputError(
            f"texts must be a list of strings, got {type(texts).__name__}."
        )
    texts = texts if isinstance(texts, list) else list(texts)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise InvalidInputError(f"text {i} must be a str, got {type(text).__name__}.")
    return texts
