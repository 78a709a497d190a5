"""keras.datasets.imdb format: export real reviews, read them back, compare with Keras' own loader."""

import collections
import importlib

import numpy as np
import pytest
from test_text_corpus import imdb_reviews

from rnnlab.errors import DataFormatError, DataNotFoundError, InvalidInputError
from rnnlab.text import Tokenizer
from rnnlab.text.keras_format import export_keras_imdb, load_keras_imdb, load_keras_word_index


@pytest.fixture(scope="module")
def exported(imdb_archive, tmp_path_factory):
    train, y_train = imdb_reviews(imdb_archive, "train", 400)
    test, y_test = imdb_reviews(imdb_archive, "test", 200)
    folder = tmp_path_factory.mktemp("keras-imdb")
    npz, index = export_keras_imdb(train, y_train, test, y_test, folder / "imdb.npz",
                                   folder / "imdb_word_index.json")
    return {"npz": npz, "index": index, "train": (train, y_train), "test": (test, y_test)}


def _keras_permutation(n_train, n_test, seed=113):
    rng = np.random.RandomState(seed)
    first = np.arange(n_train)
    rng.shuffle(first)
    second = np.arange(n_test)
    rng.shuffle(second)
    return first, second


def test_word_index_ranks_training_words_by_frequency(exported):
    word_index = load_keras_word_index(exported["index"])
    train_tokens = Tokenizer().tokenize_many(exported["train"][0])
    counts = collections.Counter(t for toks in train_tokens for t in toks)
    assert sorted(word_index.values()) == list(range(1, len(counts) + 1))
    assert set(word_index) == set(counts)
    ranked = sorted(word_index, key=word_index.get)
    assert [counts[w] for w in ranked] == sorted(counts.values(), reverse=True)
    assert ranked[0] == "the"


def test_round_trip_decodes_to_the_keras_mode_tokens(exported):
    word_index = load_keras_word_index(exported["index"])
    index_from = 3
    keep_all = len(word_index) + index_from + 1  # num_words=None would turn the last word into OOV
    (x_train, y_train), (x_test, y_test) = load_keras_imdb(exported["npz"], num_words=keep_all)
    words = {i + index_from: w for w, i in word_index.items()}
    order_train, order_test = _keras_permutation(400, 200)
    tok = Tokenizer("keras")
    train, labels = exported["train"]
    for k, i in enumerate(order_train):
        assert x_train[k][0] == 1  # start_char
        assert [words[w] for w in x_train[k][1:]] == tok.tokenize(train[i])
    assert y_train.tolist() == [labels[i] for i in order_train]
    test, labels = exported["test"]
    for k, i in enumerate(order_test):
        # words never seen in training are left out, as in Keras' file
        assert [words[w] for w in x_test[k][1:]] == [t for t in tok.tokenize(test[i]) if t in word_index]
    assert y_test.tolist() == [labels[i] for i in order_test]
    assert x_train.dtype == object and x_train.ndim == 1


@pytest.mark.parametrize("kwargs", [
    {},
    {"num_words": 500},
    {"num_words": 1000, "skip_top": 20},
    {"maxlen": 150},
    {"num_words": 300, "maxlen": 200, "seed": 7},
    {"start_char": None, "oov_char": None, "index_from": 0, "num_words": 400},
])
def test_same_arrays_as_keras_load_data(exported, monkeypatch, kwargs):
    from keras.datasets import imdb

    # Keras' loader insists on downloading into its cache; hand it our file instead.
    module = importlib.import_module(imdb.load_data.__module__)
    monkeypatch.setattr(module, "get_file", lambda *args, **kw: str(exported["npz"]))
    (kx_train, ky_train), (kx_test, ky_test) = imdb.load_data(**kwargs)
    (x_train, y_train), (x_test, y_test) = load_keras_imdb(exported["npz"], **kwargs)
    assert [list(x) for x in x_train] == [list(x) for x in kx_train]
    assert [list(x) for x in x_test] == [list(x) for x in kx_test]
    np.testing.assert_array_equal(y_train, ky_train)
    np.testing.assert_array_equal(y_test, ky_test)
    if kwargs.get("num_words"):
        assert max(max(x) for x in x_train if len(x)) < kwargs["num_words"]
    if kwargs.get("maxlen"):
        assert max(len(x) for x in x_train) < kwargs["maxlen"] and len(x_train) < 400


def test_skip_top_and_num_words_become_oov_char(exported):
    (x_train, _), _ = load_keras_imdb(exported["npz"], num_words=100, skip_top=10)
    values = {w for x in x_train for w in x}
    assert 2 in values and max(values) == 99
    assert not values & set(range(3, 10))  # the 7 most frequent words after the offset are skipped


def test_bad_files_and_arguments(exported, tmp_path):
    with pytest.raises(DataNotFoundError):
        load_keras_imdb(tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(DataFormatError):
        load_keras_imdb(tmp_path / "junk.npz")
    # An object array whose pickle needs anything but numpy arrays is refused.
    hostile = np.empty(1, dtype=object)
    hostile[0] = collections.OrderedDict(a=1)
    np.savez(tmp_path / "hostile.npz", x_train=hostile, y_train=np.zeros(1),
             x_test=hostile, y_test=np.zeros(1))
    with pytest.raises(DataFormatError, match="refusing"):
        load_keras_imdb(tmp_path / "hostile.npz")
    with pytest.raises(InvalidInputError, match="maxlen"):
        load_keras_imdb(exported["npz"], maxlen=2)
    with pytest.raises(InvalidInputError, match="one label per text"):
        export_keras_imdb(["a"], [0, 1], ["b"], [1], tmp_path / "x.npz", tmp_path / "x.json")
    (tmp_path / "index.json").write_text('["not", "a", "dict"]')
    with pytest.raises(DataFormatError):
        load_keras_word_index(tmp_path / "index.json")
