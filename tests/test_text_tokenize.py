"""Tokenizer: Keras semantics on known strings and real reviews; nltk mode equals the reference loop."""

import random
import re

import pytest
from keras_legacy_text import words
from test_text_corpus import amazon_reviews, imdb_reviews

from rnnlab.errors import InvalidInputError, UnknownNameError
from rnnlab.text import KERAS_FILTERS, STOP_WORDS, Tokenizer, reference_nltk_tokens
from rnnlab.text import treebank
from rnnlab.text.treebank import TreebankStemmer

# -- keras mode -------------------------------------------------------------------------


def test_keras_mode_on_the_tutorial_example():
    text = "Don't watch this movie - poor acting<br /><br />OK!"
    assert Tokenizer().tokenize(text) == ["don't", "watch", "this", "movie", "poor", "acting", "ok"]


@pytest.mark.parametrize("text", ["a<br />b", "a<br/>b", "a<br>b", "a<BR />b", "a<Br   />b", "a<br\n/>b"])
def test_keras_mode_strips_every_html_break_spelling(text):
    assert Tokenizer("keras").tokenize(text) == ["a", "b"]


def test_keras_mode_filters_every_keras_filter_character_and_keeps_apostrophes():
    text = "x".join(KERAS_FILTERS) + " it's rock'n'roll"
    assert Tokenizer().tokenize(text) == ["x"] * (len(KERAS_FILTERS) - 1) + ["it's", "rock'n'roll"]


def test_keras_mode_splits_on_any_whitespace_and_keeps_non_ascii():
    assert Tokenizer().tokenize("Café\u00a0crème\r\nBRÛLÉE\tok") == ["café", "crème", "brûlée", "ok"]


def test_keras_mode_on_real_reviews_matches_keras_text_to_word_sequence(imdb_archive):
    texts, _ = imdb_reviews(imdb_archive, "train", 2000)
    tokens = Tokenizer("keras").tokenize_many(texts)
    filters = set(KERAS_FILTERS)
    for text, toks in zip(texts, tokens):
        assert toks, text
        assert not any(ch in filters or ch.isspace() for t in toks for ch in t)
        # Keras splits on " " only; with whitespace normalised first, the tokens agree.
        normalised = " ".join(re.sub(r"<br\s*/?>", " ", text, flags=re.I).split())
        assert toks == words(normalised)  # Keras' legacy text_to_word_sequence
    assert not any("<br" in t or t == "br" for toks in tokens for t in toks)


def test_keras_mode_many_equals_one_by_one(imdb_archive):
    # The batched path used for whole datasets (its speed is measured by `make bench`).
    texts, _ = imdb_reviews(imdb_archive, "train", 3000)
    tokenizer = Tokenizer()
    assert tokenizer.tokenize_many(texts) == [tokenizer.tokenize(t) for t in texts]


# -- nltk mode --------------------------------------------------------------------------


def test_nltk_mode_on_known_strings():
    tok = Tokenizer("nltk")
    assert tok.tokenize("The movies were not good.") == ["movi", "good"]
    assert tok.tokenize("Running movies<br />runs") == ["run", "movi", "run"]
    # Treebank splits contractions; "i", "it", "so" are stop words, "!" is punctuation.
    assert tok.tokenize("I can't believe it's so good!!!") == ["ca", "n't", "believ", "'s", "good"]
    assert tok.tokenize("the and of , . !") == []


def test_stop_words_are_scikit_learns_list():
    assert isinstance(STOP_WORDS, frozenset) and len(STOP_WORDS) == 318
    assert {"the", "and", "not", "movie"} & STOP_WORDS == {"the", "and", "not"}


def test_nltk_mode_equals_reference_on_real_imdb_reviews(imdb_archive):
    texts, _ = imdb_reviews(imdb_archive, "train", 2000)
    expected = [reference_nltk_tokens(t) for t in texts]
    pipeline = TreebankStemmer()  # fresh caches: the cold path
    assert pipeline.tokenize_many(texts) == expected
    assert pipeline.tokenize_many(texts[::-1]) == expected[::-1]  # warm caches
    assert Tokenizer("nltk").tokenize_many(texts) == expected  # the shared pipeline
    kept = {t for toks in expected for t in toks}
    assert {"movi", "film", "act"} <= kept
    assert not {"movies", "the", "and", "br", ",", ".", "!", "``", "''"} & kept


def test_nltk_mode_equals_reference_on_all_amazon_lines(amazon_file):
    texts, _ = amazon_reviews(amazon_file)
    assert TreebankStemmer().tokenize_many(texts) == [reference_nltk_tokens(t) for t in texts]


def test_nltk_mode_equals_reference_on_adversarial_strings(monkeypatch):
    # Quotes, contractions, brackets, periods and unusual whitespace at piece boundaries,
    # text starts and ends: where the piece-by-piece tokenization could go wrong.
    rng = random.Random(20240611)
    chars = list("abz09") + list("!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'") + [" ", " ", "\n", "\t", "é", "\xa0"]
    words = ["cannot", "gonna", "wanna", "gimme", "'tis", "'twas", "d'ye", "more'n", "don't", "it's",
             "we'll", "you're", "i'm", "<br />", "``", "''", "--", "...", "movies", "the", "1,000", "3:30"]
    texts = []
    for _ in range(3000):
        parts = []
        for _ in range(rng.randint(1, 10)):
            if rng.random() < 0.4:
                parts.append(rng.choice(words))
            else:
                parts.append("".join(rng.choice(chars) for _ in range(rng.randint(1, 5))))
            parts.append(rng.choice([" ", "", " ", "\n", "  "]))
        texts.append("".join(parts))
    monkeypatch.setattr(treebank, "_CHUNK", 700)  # several batch fills per call
    pipeline = TreebankStemmer()
    expected = [reference_nltk_tokens(t) for t in texts]
    assert pipeline.tokenize_many(texts) == expected
    assert pipeline.tokenize_many(texts) == expected


def test_nltk_fallback_for_unknown_rule_sets_is_exact(imdb_archive):
    texts, _ = imdb_reviews(imdb_archive, "test", 100)
    pipeline = TreebankStemmer()
    pipeline._by_pieces = False  # what a different NLTK rule set triggers
    assert pipeline.tokenize_many(texts) == [reference_nltk_tokens(t) for t in texts]


# -- API --------------------------------------------------------------------------------


def test_unknown_mode_suggests_the_close_name():
    with pytest.raises(UnknownNameError, match="Did you mean 'nltk'"):
        Tokenizer("nltks")


def test_config_round_trip():
    tok = Tokenizer("nltk")
    assert Tokenizer.from_config(tok.get_config()) == tok
    assert tok.get_config() == {"mode": "nltk"}


@pytest.mark.parametrize("mode", ["keras", "nltk"])
def test_bad_inputs_name_the_position(mode):
    tok = Tokenizer(mode)
    with pytest.raises(InvalidInputError, match="text 1 must be a str"):
        tok.tokenize_many(["fine", None])
    with pytest.raises(InvalidInputError, match="list of strings"):
        tok.tokenize_many("a single string")
    with pytest.raises(InvalidInputError):
        tok.tokenize(42)
    assert tok.tokenize_many([]) == []
    assert tok.tokenize_many(["", "   "]) == [[], []]
