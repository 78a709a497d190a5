"""Split raw review text into tokens, the way the classic tutorials do.

Two modes:

``"keras"``
    The classic Keras ``Tokenizer`` / ``text_to_word_sequence`` semantics used by the
    IMDB tutorials: HTML line breaks (``<br />``, ``<br/>``, ``<br>``, any case) become
    spaces, the text is lower-cased, every character of :data:`KERAS_FILTERS` becomes a
    space and the text is split on whitespace. Apostrophes are not filtered, so
    ``"don't"`` stays one token. One deliberate difference: Keras splits on ``" "`` only,
    so a carriage return or a no-break space would stay glued to a word; here any
    whitespace separates tokens.

``"nltk"``
    The textbook's Amazon pipeline: strip HTML line breaks, lower-case, Penn Treebank
    word tokenization (``nltk.tokenize.TreebankWordTokenizer``, which needs no
    downloaded data), drop stop words and punctuation-only tokens (no letter or digit),
    Porter-stem the rest (``nltk.stem.PorterStemmer``). :func:`reference_nltk_tokens`
    is that pipeline written as the plain per-token loop; it is the definition, and the
    fast path in :mod:`rnnlab.text.treebank` returns exactly the same tokens.

Stop words: :data:`STOP_WORDS` is scikit-learn's ``ENGLISH_STOP_WORDS`` (318 words). It
replaces NLTK's ``stopwords`` corpus, which is a separate download: with scikit-learn's
list the pipeline works offline, in CI and in a fresh container, and always gives the
same tokens. The two lists overlap but are not equal (scikit-learn's also drops words
such as ``"amount"`` or ``"bill"``, NLTK's drops ``"don"`` or ``"ll"``), so token counts
differ slightly from a tutorial run with the NLTK list.
"""

from __future__ import annotations

from collections.abc import Iterable

from rnnlab.errors import InvalidInputError, unknown_name
from rnnlab.text.treebank import shared_pipeline
from rnnlab.text.words import (  # noqa: F401  (re-exported: the tokenizer's public pieces)
    KERAS_FILTERS,
    _check_texts,
    _nltk_tools,
    is_punctuation,
    keras_tokens,
    reference_nltk_tokens,
    stop_words,
    strip_html_breaks,
)

TOKENIZER_MODES = ("keras", "nltk")


def __getattr__(name: str):
    # STOP_WORDS is a module attribute computed on first access (PEP 562), so importing
    # rnnlab.text does not import scikit-learn.
    if name == "STOP_WORDS":
        return stop_words()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Tokenizer:
    """Turn raw text into lists of tokens, in ``"keras"`` or ``"nltk"`` mode.

    Args:
        mode: ``"keras"`` (default) for the Keras ``Tokenizer`` semantics of the IMDB
            tutorials, ``"nltk"`` for Treebank tokens without stop words, Porter-stemmed.

    Example:
        >>> Tokenizer().tokenize("Don't watch this movie - poor acting<br /><br />OK!")
        ["don't", 'watch', 'this', 'movie', 'poor', 'acting', 'ok']
        >>> Tokenizer("nltk").tokenize("The movies were not good.")
        ['movi', 'good']
    """

    def __init__(self, mode: str = "keras"):
        if mode not in TOKENIZER_MODES:
            raise unknown_name("tokenizer mode", mode, TOKENIZER_MODES)
        self.mode = mode

    def tokenize(self, text: str) -> list[str]:
        """Tokens of one text."""
        if not isinstance(text, str):
            raise InvalidInputError(f"text must be a str, got {type(text).__name__}.")
        if self.mode == "keras":
            return keras_tokens(text)
        return self.tokenize_many([text])[0]

    def tokenize_many(self, texts: Iterable[str]) -> list[list[str]]:
        """Tokens of each text; the fast path for whole datasets."""
        texts = _check_texts(texts)
        if self.mode == "keras":
            return [keras_tokens(text) for text in texts]
        return shared_pipeline().tokenize_many(texts)

    def get_config(self) -> dict:
        return {"mode": self.mode}

    @classmethod
    def from_config(cls, config: dict) -> Tokenizer:
        return cls(**config)

    def __repr__(self) -> str:
        return f"Tokenizer(mode={self.mode!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Tokenizer) and other.mode == self.mode

    def __hash__(self) -> int:
        return hash(("Tokenizer", self.mode))
