"""Vocabulary: Keras Tokenizer indexing, caps, OOV handling, JSON round trips."""

import json

import numpy as np
import pytest
from keras_legacy_text import CheckedTokenizer
from test_text_corpus import imdb_reviews

from rnnlab.errors import DataFormatError, InvalidInputError
from rnnlab.text import Tokenizer, Vocabulary


@pytest.fixture(scope="module")
def imdb_tokens(imdb_archive):
    train, _ = imdb_reviews(imdb_archive, "train", 2000)
    test, _ = imdb_reviews(imdb_archive, "test", 500)
    tok = Tokenizer("keras")
    return tok.tokenize_many(train), tok.tokenize_many(test)


def test_ids_follow_frequency_with_padding_and_oov_reserved():
    vocab = Vocabulary().fit([["b", "a", "c", "a"], ["c", "a", "d"]])
    # counts a: 3, c: 2, b: 1, d: 1; b and d tie, b was seen first
    assert vocab.word_index == {"<oov>": 1, "a": 2, "c": 3, "b": 4, "d": 5}
    assert vocab.index_word[1] == "<oov>" and 0 not in vocab.index_word
    assert len(vocab) == 6
    assert vocab.encode([["a", "zzz", "d"]]) == [[2, 1, 5]]


def test_ties_keep_first_seen_order():
    vocab = Vocabulary(oov_token=None).fit([["x", "y"], ["z", "y", "x", "w"]])
    assert list(vocab.word_index) == ["x", "y", "z", "w"]  # x, y: 2 each; z, w: 1 each
    assert vocab.word_index["x"] == 1


def test_num_words_cap_is_exact(imdb_tokens):
    train, test = imdb_tokens
    vocab = Vocabulary(num_words=500).fit(train)
    assert len(vocab) == 500
    assert len(vocab.word_index) == 499  # oov + 498 words: ids 1..499
    assert max(vocab.word_index.values()) == 499
    ids = vocab.encode(test)
    assert max(max(seq) for seq in ids) == 499 and min(min(seq) for seq in ids) == 1
    assert [len(s) for s in ids] == [len(t) for t in test]  # with an OOV token nothing is dropped
    assert vocab.n_distinct > 10_000 and vocab.n_tokens == sum(map(len, train))


@pytest.mark.parametrize("oov_token", ["<oov>", None])
def test_matches_keras_tokenizer_on_real_reviews(imdb_tokens, oov_token):
    train, test = imdb_tokens
    keras_tok = CheckedTokenizer(num_words=1000, oov_token=oov_token)  # Keras' legacy Tokenizer
    keras_tok.fit_on_texts(train)
    vocab = Vocabulary(num_words=1000, oov_token=oov_token).fit(train)
    assert vocab.word_index == {w: i for w, i in keras_tok.word_index.items() if i < 1000}
    assert vocab.encode(test) == keras_tok.texts_to_sequences(test)
    assert vocab.encode(train[:200]) == keras_tok.texts_to_sequences(train[:200])


def test_without_oov_token_unknown_words_are_dropped():
    vocab = Vocabulary(num_words=3, oov_token=None).fit([["a", "a", "b", "b", "c"]])
    assert vocab.word_index == {"a": 1, "b": 2}
    assert vocab.encode([["c", "a", "zzz", "b"], ["zzz"]]) == [[1, 2], []]


def test_all_oov_text_encodes_to_ones_and_decodes(imdb_tokens):
    train, _ = imdb_tokens
    vocab = Vocabulary(num_words=2000).fit(train)
    assert vocab.encode([["qwxz", "zzyzx", "blorp"]]) == [[1, 1, 1]]
    assert vocab.decode([0, 0, 1, vocab.word_index["movie"]]) == ["<oov>", "movie"]
    assert vocab.decode(np.array([0, vocab.word_index["the"]])) == ["the"]
    with pytest.raises(InvalidInputError, match="not in the vocabulary"):
        vocab.decode([2000])


def test_json_round_trip_gives_identical_encodings_on_unseen_text(imdb_tokens, tmp_path):
    train, test = imdb_tokens
    for vocab in (Vocabulary(num_words=3000).fit(train), Vocabulary(oov_token=None).fit(train)):
        path = tmp_path / "vocab.json"
        vocab.save(path)
        loaded = Vocabulary.load(path)
        assert loaded.encode(test) == vocab.encode(test)
        assert loaded.word_index == vocab.word_index and len(loaded) == len(vocab)
        through_text = Vocabulary.from_json(json.loads(json.dumps(vocab.to_json())))
        assert through_text.encode(test) == vocab.encode(test)
    assert [p.name for p in tmp_path.iterdir()] == ["vocab.json"]  # no temporary files left


def test_saved_vocabulary_keeps_only_the_kept_words(imdb_tokens):
    train, _ = imdb_tokens
    data = Vocabulary(num_words=100).fit(train).to_json()
    assert len(data["words"]) == 98 and len(data["counts"]) == 98
    assert data["counts"] == sorted(data["counts"], reverse=True)


def test_encoding_many_equals_one_by_one(imdb_tokens):
    # The batched path used for whole datasets (its speed is measured by `make bench`).
    train, _ = imdb_tokens
    vocab = Vocabulary(num_words=10_000).fit(train)
    together = vocab.encode(train)
    assert [list(x) for x in together] == [list(vocab.encode([t])[0]) for t in train]


def test_errors():
    with pytest.raises(InvalidInputError, match="not fitted"):
        Vocabulary().encode([["a"]])
    with pytest.raises(InvalidInputError, match="num_words"):
        Vocabulary(num_words=1).fit([["a"]])
    with pytest.raises(InvalidInputError, match="is a str"):
        Vocabulary().fit(["a text, not tokens"])
    with pytest.raises(DataFormatError):
        Vocabulary.from_json({"format": "something else"})
