"""From raw text to model input: tokens, vocabulary ids, padded sequences, length statistics.

The common path is one object::

    from rnnlab.text import Preprocessor
    prep = Preprocessor(mode="keras", vocab_size=10000, maxlen=200).fit(train_texts)
    x_train = prep.transform(train_texts)

and the pieces it is built from can be used alone: :class:`Tokenizer`,
:class:`Vocabulary`, :func:`pad`, :func:`length_stats`, :func:`plot_length_histogram`.
"""

from rnnlab.text.preprocess import Encoded, Preprocessor
from rnnlab.text.sequences import pad
from rnnlab.text.stats import length_stats, plot_length_histogram
from rnnlab.text.tokenize import (
    KERAS_FILTERS,
    TOKENIZER_MODES,
    Tokenizer,
    reference_nltk_tokens,
)
from rnnlab.text.vocab import Vocabulary


def __getattr__(name: str):
    # STOP_WORDS comes from scikit-learn, whose import takes about a second: load it on use.
    if name == "STOP_WORDS":
        from rnnlab.text.tokenize import stop_words

        return stop_words()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "KERAS_FILTERS",
    "STOP_WORDS",
    "TOKENIZER_MODES",
    "Encoded",
    "Preprocessor",
    "Tokenizer",
    "Vocabulary",
    "length_stats",
    "pad",
    "plot_length_histogram",
    "reference_nltk_tokens",
]
