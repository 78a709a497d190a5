"""Same tokens as Keras: rnnlab's text pipeline against Keras' own on generated input.

Properties, with hypothesis shrinking any counterexample to a minimal text or id list:

* ``pad`` equals ``keras.utils.pad_sequences`` for any padding and truncating side, any
  ``maxlen``, ragged lists (empty ones included), NumPy rows and several dtypes;
* ``Tokenizer("keras")`` equals Keras' legacy ``text_to_word_sequence``;
* ``Vocabulary`` fitted on those tokens equals Keras' legacy ``Tokenizer`` (``word_index``
  and ``texts_to_sequences``) for any ``num_words`` and OOV token;

Keras' legacy tokenizer is private (``keras.src.legacy``): the tests compare against the copy
in keras_legacy_text.py, which checks itself against Keras' own on every example while Keras
ships it, and stands alone once it does not.
* ``Preprocessor`` (tokens, ids, padding in one object) equals ``texts_to_sequences`` +
  ``pad_sequences``.

The example-based tests of the same API (known strings, real reviews) live in
test_text_tokenize.py, test_text_vocab.py and test_text_sequences.py. Where rnnlab
deliberately differs from Keras (documented in rnnlab.text.tokenize and rnnlab.text.vocab),
the strategies leave those inputs out and say why.
"""

from __future__ import annotations

import os
import re
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import rnnlab  # noqa: F401  (selects the Keras backend before Keras is imported)
from keras.utils import pad_sequences  # after rnnlab: the backend is chosen
from keras_legacy_text import CheckedTokenizer, keras_text, words

from rnnlab.text import KERAS_FILTERS, Preprocessor, Tokenizer, Vocabulary, pad

pytestmark = pytest.mark.timeout(300)

# Hypothesis examples per property; RNNLAB_FUZZ_SCALE=20 runs twenty times as many.
EXAMPLES = {"pad": 300, "pad_arrays": 100, "words": 300, "vocabulary": 200, "preprocessor": 150}
SCALE = float(os.environ.get("RNNLAB_FUZZ_SCALE", "1"))


def examples(name: str):
    return settings(max_examples=max(1, round(EXAMPLES[name] * SCALE)), deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


# -- generated text -----------------------------------------------------------------------------

# Deliberate difference 1 (rnnlab.text.tokenize): any whitespace separates tokens, while Keras
# splits on " " only (after turning its filter characters, \t and \n among them, into spaces).
# A carriage return, a no-break space or U+3000 would stay glued to a Keras token, so the
# text leaves out every whitespace character but " ", "\t" and "\n".
OTHER_WHITESPACE = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace() and c not in " \t\n")
# Deliberate difference 2: HTML line breaks (<br />, <br/>, <br>, any case) become spaces in
# rnnlab, while Keras keeps a "br" token; texts holding one are filtered out below.
HTML_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)

CHARACTER = st.one_of(
    st.sampled_from(KERAS_FILTERS),  # every Keras filter character, \t and \n included
    st.sampled_from(" '"),  # the split character and the apostrophe Keras keeps
    st.sampled_from("abcXYZ019"),  # a small alphabet so that words repeat across texts
    st.sampled_from("éÉßẞİıΣσςǅﬁKÅ²٣"),  # case mappings that change length, titlecase, digits
    st.sampled_from(["<br />", "<BR>", "\ud800"]),  # HTML breaks (filtered out) and a lone surrogate
    st.characters(blacklist_characters=OTHER_WHITESPACE),  # any other code point
)
TEXT = st.lists(CHARACTER, max_size=40).map("".join).filter(lambda t: not HTML_BREAK.search(t))
WORDY_TEXT = st.lists(st.one_of(CHARACTER, st.sampled_from(["the ", "The ", "movie ", "don't ", "ÉTÉ "])),
                      max_size=30).map("".join).filter(lambda t: not HTML_BREAK.search(t))
TEXTS = st.lists(st.one_of(TEXT, WORDY_TEXT), max_size=8)

# Deliberate difference 3 (rnnlab.text.vocab): the OOV token is never counted as a word; Keras
# counts it and gives it a second id. Its default "<oov>" cannot be a Keras token ("<" and ">"
# are filters), nor can "OOV" (tokens are lower-case); other tokens must not appear in the
# training texts (checked with assume).
OOV_TOKEN = st.one_of(st.none(), st.sampled_from(["<oov>", "[UNK]", "OOV"]), st.text(min_size=1, max_size=4))


def num_words_for(oov_token):
    # Deliberate difference 4: num_words must leave room for padding (and the OOV id): rnnlab
    # refuses a smaller value, where Keras treats 0 as "no limit" and 1 as "every word is OOV".
    smallest = 2 if oov_token is not None else 1
    return st.one_of(st.none(), st.integers(smallest, 12), st.integers(13, 200))


# -- pad vs pad_sequences -----------------------------------------------------------------------

SIDE = st.sampled_from(["pre", "post"])
IDS = st.lists(st.integers(0, 2**31 - 1) | st.integers(0, 20), max_size=12)


def keras_pad(sequences, maxlen, padding, truncating, dtype="int32"):
    # rnnlab pads with 0 only (its pad() has no value argument: id 0 is padding everywhere),
    # so Keras is asked for value=0.
    return pad_sequences(sequences, maxlen=maxlen, dtype=dtype, padding=padding, truncating=truncating, value=0)


def assert_same_array(ours: np.ndarray, theirs: np.ndarray) -> None:
    assert ours.dtype == theirs.dtype, (ours.dtype, theirs.dtype)
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    np.testing.assert_array_equal(ours, theirs)


@examples("pad")
@given(sequences=st.lists(IDS, max_size=8), maxlen=st.none() | st.integers(1, 50), padding=SIDE, truncating=SIDE,
       dtype=st.sampled_from(["int32", "int64", "float32"]))
def test_pad_equals_keras_pad_sequences(sequences, maxlen, padding, truncating, dtype):
    # Keras cannot pad an empty list to "the longest sequence" (np.max of nothing); rnnlab
    # returns a (0, 0) array there, checked in test_text_sequences.py.
    assume(sequences or maxlen is not None)
    expected = keras_pad(sequences, maxlen, padding, truncating, dtype)
    assert_same_array(pad(sequences, maxlen, padding, truncating, dtype=dtype), expected)


@examples("pad_arrays")
@given(sequences=st.lists(IDS, min_size=1, max_size=6), maxlen=st.none() | st.integers(1, 50), padding=SIDE,
       truncating=SIDE, kind=st.sampled_from(["arrays", "tuples", "matrix", "numpy maxlen"]))
def test_pad_of_arrays_and_tuples_equals_keras(sequences, maxlen, padding, truncating, kind):
    """The inputs that do not take pad's fast path for lists of lists."""
    if kind == "arrays":
        given_sequences = [np.asarray(s, dtype=np.int64) for s in sequences]
    elif kind == "tuples":
        given_sequences = [tuple(s) for s in sequences]
    elif kind == "matrix":  # a 2-D id array: one row per sequence
        width = len(sequences[0])
        given_sequences = np.asarray([(s + [0] * width)[:width] for s in sequences], dtype=np.int64)
        sequences = given_sequences.tolist()
    else:
        given_sequences = sequences
        maxlen = None if maxlen is None else np.int64(maxlen)
    expected = keras_pad(sequences, maxlen, padding, truncating)
    assert_same_array(pad(given_sequences, maxlen, padding, truncating), expected)


# -- tokens -------------------------------------------------------------------------------------


@examples("words")
@given(text=st.one_of(TEXT, WORDY_TEXT))
def test_keras_mode_tokens_equal_text_to_word_sequence(text):
    expected = words(text)
    assert Tokenizer("keras").tokenize(text) == expected
    assert Tokenizer("keras").tokenize_many([text, text]) == [expected, expected]


# -- vocabulary ---------------------------------------------------------------------------------


@st.composite
def vocabulary_settings(draw):
    oov_token = draw(OOV_TOKEN)
    return draw(num_words_for(oov_token)), oov_token


def keras_tokenizer(train, num_words, oov_token):
    tokenizer = CheckedTokenizer(num_words=num_words, oov_token=oov_token)
    tokenizer.fit_on_texts(train)
    return tokenizer


@examples("vocabulary")
@given(train=TEXTS, test=TEXTS, settings_=vocabulary_settings())
def test_vocabulary_equals_keras_tokenizer(train, test, settings_):
    num_words, oov_token = settings_
    tokenizer = Tokenizer("keras")
    train_tokens = tokenizer.tokenize_many(train)
    assume(oov_token is None or all(oov_token not in tokens for tokens in train_tokens))  # difference 3
    theirs = keras_tokenizer(train, num_words, oov_token)
    ours = Vocabulary(num_words=num_words, oov_token=oov_token).fit(train_tokens)

    # rnnlab keeps only the words under num_words; their ids are Keras' ids.
    kept = {w: i for w, i in theirs.word_index.items() if num_words is None or i < num_words}
    assert ours.word_index == kept
    assert ours.encode(tokenizer.tokenize_many(test)) == theirs.texts_to_sequences(test)
    assert ours.encode(train_tokens) == theirs.texts_to_sequences(train)
    assert len(ours) == (num_words if num_words is not None else len(theirs.word_index) + 1)


@examples("preprocessor")
@given(train=TEXTS, test=st.lists(st.one_of(TEXT, WORDY_TEXT).filter(lambda t: t.strip()), min_size=1, max_size=6),
       settings_=vocabulary_settings(), maxlen=st.none() | st.integers(1, 12), padding=SIDE, truncating=SIDE)
def test_preprocessor_equals_keras_texts_to_sequences_then_pad_sequences(train, test, settings_, maxlen, padding,
                                                                         truncating):
    num_words, oov_token = settings_
    assume(oov_token is None or all(oov_token not in t for t in Tokenizer("keras").tokenize_many(train)))
    theirs = keras_tokenizer(train, num_words, oov_token)
    expected = keras_pad(theirs.texts_to_sequences(test), maxlen, padding, truncating)
    prep = Preprocessor(mode="keras", vocab_size=num_words, maxlen=maxlen, padding=padding, truncating=truncating,
                        oov_token=oov_token).fit(train)
    encoded = prep.encode(test)
    assert_same_array(encoded.ids, expected)
    assert encoded.n_tokens.tolist() == [int(np.count_nonzero(row)) for row in expected]


def test_copy_of_the_legacy_tokenizer_keeps_its_quirks():
    """Known answers of Keras' legacy tokenizer (checked against Keras' own while it ships it)."""
    assert words("Don't  watch\tTHIS-movie!") == ["don't", "watch", "this", "movie"]
    tokenizer = keras_tokenizer(["b a b", "c oov", "oov oov"], 4, "oov")
    # The OOV token is given id 1, then, counted as a word too, the id of its count, which
    # word_index keeps: id 1 is nobody's, and unknown words and words past num_words get 2.
    assert tokenizer.word_index == {"oov": 2, "b": 3, "a": 4, "c": 5}
    assert tokenizer.texts_to_sequences(["b zzz a oov", ["B", "c"]]) == [[3, 2, 2, 2], [3, 2]]
    assert keras_text is None or tokenizer.keras is not None  # the comparison with Keras' own ran
