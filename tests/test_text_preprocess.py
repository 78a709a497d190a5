"""Preprocessor: fit/transform on real reviews, encode details, save/load round trip, input errors."""

import json

import numpy as np
import pytest
from test_text_corpus import amazon_reviews, imdb_reviews

from rnnlab.errors import DataFormatError, InvalidInputError, UnknownNameError
from rnnlab.text import Preprocessor, Tokenizer, Vocabulary, pad


@pytest.fixture(scope="module")
def imdb(imdb_archive):
    train, _ = imdb_reviews(imdb_archive, "train", 2000)
    unseen, _ = imdb_reviews(imdb_archive, "test", 300)
    return train, unseen


@pytest.mark.parametrize("mode", ["keras", "nltk"])
def test_fit_transform_save_load_round_trip_on_unseen_texts(imdb, tmp_path, mode):
    train, unseen = imdb
    prep = Preprocessor(mode=mode, vocab_size=2000, maxlen=120).fit(train)
    x = prep.transform(unseen)
    assert x.shape == (300, 120) and x.dtype == np.int32
    assert 0 <= x.min() and x.max() < 2000
    assert (x[:, -1] > 0).all()  # pre-padding: every review ends at the last column

    path = tmp_path / "bundle" / "preprocessing.json"
    prep.save(path)
    loaded = Preprocessor.load(path)
    np.testing.assert_array_equal(loaded.transform(unseen), x)
    assert loaded.to_json() == prep.to_json()
    assert json.loads(path.read_text())["mode"] == mode
    assert [p.name for p in path.parent.iterdir()] == ["preprocessing.json"]


def test_transform_is_tokenizer_vocabulary_and_pad_composed(imdb):
    train, unseen = imdb
    prep = Preprocessor(vocab_size=1000, maxlen=50, padding="post", truncating="post").fit(train)
    tokens = Tokenizer("keras").tokenize_many(train)
    vocab = Vocabulary(num_words=1000).fit(tokens)
    expected = pad(vocab.encode(Tokenizer().tokenize_many(unseen)), 50, padding="post", truncating="post")
    np.testing.assert_array_equal(prep.transform(unseen), expected)
    np.testing.assert_array_equal(prep.fit_transform(train), prep.transform(train))


def test_encode_reports_tokens_truncation_and_oov(imdb):
    train, _ = imdb
    prep = Preprocessor(vocab_size=500, maxlen=20).fit(train)
    texts = ["A truly great movie, with a zzzqx twist and plenty of blorpish charm!", " ".join(["good"] * 30)]
    enc = prep.encode(texts)
    assert enc.ids.shape == (2, 20) and len(enc) == 2
    first = Tokenizer().tokenize(texts[0])
    assert enc.tokens[0] == first and enc.n_tokens[0] == len(first) and not enc.truncated[0]
    assert enc.n_oov[0] == sum(prep.vocabulary.word_index.get(w, 1) == 1 for w in first) >= 2
    assert (enc.ids[0, -len(first):] > 0).all() and (enc.ids[0, : 20 - len(first)] == 0).all()
    assert enc.truncated[1] and enc.n_tokens[1] == 20 and enc.tokens[1] == ["good"] * 20


def test_all_oov_text_encodes_to_ones():
    prep = Preprocessor(vocab_size=50, maxlen=6).fit(["the movie was good", "the plot was bad"])
    enc = prep.encode(["Zzyzx qwerty blorp!"])
    assert enc.ids.tolist() == [[0, 0, 0, 1, 1, 1]]
    assert enc.n_oov.tolist() == [3] and enc.n_tokens.tolist() == [3]


def test_without_oov_token_unknown_words_are_dropped_and_counted():
    prep = Preprocessor(vocab_size=None, maxlen=4, oov_token=None).fit(["good movie", "bad movie"])
    enc = prep.encode(["a good xyz movie"])
    index = prep.vocabulary.word_index
    assert enc.ids.tolist() == [[0, 0, index["good"], index["movie"]]]
    assert enc.tokens == [["good", "movie"]] and enc.n_oov.tolist() == [2] and enc.n_tokens.tolist() == [2]


def test_maxlen_none_pads_to_the_longest_and_truncating_post(amazon_file):
    texts, _ = amazon_reviews(amazon_file)
    prep = Preprocessor(mode="nltk", vocab_size=3000, maxlen=None).fit(texts[:800])
    x = prep.transform(texts[800:])
    lengths = [len(t) for t in Tokenizer("nltk").tokenize_many(texts[800:])]
    assert x.shape == (200, max(lengths))
    post = Preprocessor(vocab_size=3000, maxlen=10, truncating="post").fit(texts[:800]).encode(texts[800:801])
    assert post.tokens[0] == Tokenizer().tokenize(texts[800])[:10]


@pytest.mark.parametrize("bad, message", [
    ("a single string", "list of strings"),
    (None, "list of strings"),
    (["fine", None], "text 1 must be a str"),
    (["fine", b"bytes"], "text 1 must be a str"),
    (["fine", "also fine", ""], "text 2 is empty"),
    (["   \n\t"], "text 0 is empty"),
])
def test_bad_inputs_are_rejected_with_the_position(bad, message):
    prep = Preprocessor(vocab_size=100, maxlen=5).fit(["some training text"])
    with pytest.raises(InvalidInputError, match=message):
        prep.transform(bad)
    with pytest.raises(InvalidInputError, match=message):
        prep.encode(bad)


def test_unfitted_and_bad_settings():
    with pytest.raises(InvalidInputError, match="not fitted"):
        Preprocessor().transform(["a text"])
    with pytest.raises(InvalidInputError, match="not fitted"):
        Preprocessor().save("never-written.json")
    with pytest.raises(UnknownNameError, match="Did you mean 'keras'"):
        Preprocessor(mode="kears").fit(["a text"])
    with pytest.raises(InvalidInputError, match="maxlen"):
        Preprocessor(maxlen=0).fit(["a text"])
    with pytest.raises(InvalidInputError, match="padding"):
        Preprocessor(padding="both").fit(["a text"])
    with pytest.raises(InvalidInputError, match="num_words"):
        Preprocessor(vocab_size=1).fit(["a text"])


def test_loading_damaged_files(tmp_path):
    prep = Preprocessor(vocab_size=100, maxlen=5).fit(["some training text"])
    data = prep.to_json()
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(DataFormatError, match="not valid JSON"):
        Preprocessor.load(tmp_path / "bad.json")
    with pytest.raises(DataFormatError, match="format"):
        Preprocessor.from_json({**data, "format": "other"})
    with pytest.raises(DataFormatError, match="maxlen"):
        Preprocessor.from_json({**data, "maxlen": -1})
    with pytest.raises(DataFormatError):
        Preprocessor.from_json({k: v for k, v in data.items() if k != "vocabulary"})
