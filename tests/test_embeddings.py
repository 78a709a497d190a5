"""Pre-trained word vectors on real IMDB words: file formats, coverage, word2vec, training from them."""

import gzip
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from rnnlab.errors import DataFormatError, DataNotFoundError, InvalidInputError
from rnnlab.models import ModelSpec
from rnnlab.models.inputs import EncoderSpec
from rnnlab.text import Preprocessor
from rnnlab.text.vectors import (FORMATS, detect_format, embedding_matrix, load_embedding_matrix, read_vectors,
                                 write_vectors)

DIM = 8


@pytest.fixture(scope="module")
def reviews(imdb_archive):
    from rnnlab.data import load_imdb

    return load_imdb("train").sample(1500, seed=1)


@pytest.fixture(scope="module")
def vocabulary(reviews):
    return Preprocessor(vocab_size=400).fit(reviews.texts).vocabulary


@pytest.fixture(scope="module")
def vectors(vocabulary, tmp_path_factory):
    """The same vectors in the three formats: every vocabulary word but every 7th, plus two others."""
    words = [w for w, i in vocabulary.word_index.items() if i >= 2 and i % 7]
    words += ["café", "zzqxj"]
    values = np.random.default_rng(0).normal(0.0, 0.4, size=(len(words), DIM)).astype(np.float32)
    folder = tmp_path_factory.mktemp("vectors")
    files = {fmt: write_vectors(folder / f"vectors.{fmt}", words, values, format=fmt) for fmt in FORMATS}
    return words, values, files


def test_three_formats_are_detected_and_read_alike(vectors, tmp_path):
    words, values, files = vectors
    for fmt, path in files.items():
        assert detect_format(path) == (fmt, DIM, None if fmt == "glove" else len(words))
        found = read_vectors(path)
        assert found.words == words and found.format == fmt
        np.testing.assert_array_equal(found.vectors, values)
    # gzip compressed files, and the word2vec files gensim writes (no newline after binary vectors).
    packed = tmp_path / "vectors.txt.gz"
    packed.write_bytes(gzip.compress(files["glove"].read_bytes()))
    np.testing.assert_array_equal(read_vectors(packed).vectors, values)
    from gensim.models import KeyedVectors

    kv = KeyedVectors.load_word2vec_format(str(files["word2vec-binary"]), binary=True)
    assert kv.index_to_key == words and np.array_equal(kv["café"], values[-2])
    for binary in (True, False):
        kv.save_word2vec_format(str(tmp_path / "gensim.vec"), binary=binary)
        found = read_vectors(tmp_path / "gensim.vec")
        assert found.format == ("word2vec-binary" if binary else "word2vec-text") and found.words == words
        np.testing.assert_array_equal(found.vectors, values)


def test_reads_only_the_words_asked_for(vectors):
    words, values, files = vectors
    wanted = {words[3], words[1], "café", "not-in-file"}
    for path in files.values():
        found = read_vectors(path, wanted)
        assert found.words == [words[1], words[3], "café"]  # file order
        np.testing.assert_array_equal(found["café"], values[-2])
        assert read_vectors(path, limit=5).words == words[:5]


def test_glove_words_with_spaces(tmp_path):
    # GloVe 840B holds a few "words" with spaces; they must not be taken for their first word.
    path = tmp_path / "odd.txt"
    path.write_text("the 0.1 0.2\nat name@domain.com 0.3 0.4\nat 0.5 0.6\n", encoding="utf-8")
    assert read_vectors(path).words == ["the", "at name@domain.com", "at"]
    found = read_vectors(path, {"at"})
    assert found.words == ["at"] and found["at"].tolist() == pytest.approx([0.5, 0.6])


def test_embedding_matrix_and_coverage(vocabulary, vectors, reviews):
    words, values, files = vectors
    matrix, coverage = load_embedding_matrix(files["word2vec-binary"], vocabulary, dim=DIM, seed=3)
    assert matrix.shape == (len(vocabulary), DIM) and matrix.dtype == np.float32
    assert not matrix[0].any()  # padding
    row = {w: values[k] for k, w in enumerate(words)}
    present = [(w, i) for w, i in vocabulary.word_index.items() if w in row]
    for word, i in present:
        np.testing.assert_array_equal(matrix[i], row[word])
    absent = [i for w, i in vocabulary.word_index.items() if w not in row]
    assert absent[0] == 1 and len(absent) == len(vocabulary) - 2 - len(present) + 1
    assert all(matrix[i].any() for i in absent)  # OOV and words without a vector: random, not zeros
    assert 0.2 < matrix[absent].std() < 0.6  # scaled like the vectors found (std 0.4)

    assert coverage.words == len(vocabulary) - 2 and coverage.words_found == len(present)
    assert coverage.word_share == pytest.approx(len(present) / coverage.words, abs=1e-6)
    # Token share, counted from the reviews themselves: tokens whose word has a vector / all tokens.
    tokens = [t for tokens in Preprocessor().tokenizer.tokenize_many(reviews.texts) for t in tokens]
    known = {w for w, _ in present}
    assert coverage.tokens == len(tokens)
    assert coverage.tokens_found == sum(t in known for t in tokens)
    assert 0.5 < coverage.token_share < 1.0
    assert coverage.missing[0] == vocabulary.index_word[7]  # the most frequent word left out
    assert json.loads(json.dumps(coverage.to_dict()))["words_found"] == len(present)

    again, _ = embedding_matrix(vocabulary, read_vectors(files["glove"]), seed=3)
    np.testing.assert_array_equal(again, matrix)  # same seed, same rows, whatever the format
    other, _ = embedding_matrix(vocabulary, read_vectors(files["glove"]), seed=4)
    assert not np.array_equal(other[absent], matrix[absent])


def test_errors_name_the_file_and_the_fix(vocabulary, vectors, tmp_path):
    words, values, files = vectors
    with pytest.raises(DataNotFoundError, match="does not exist"):
        read_vectors(tmp_path / "missing.txt")
    cases = {
        "empty.txt": (b"", "is empty"),
        "blank.txt": (b"\n\n", "is empty"),
        "short.txt": (b"the 0.1 0.2 0.3\nmovie 0.1 0.2\n", r"line 2: 2 values after the word 'movie', expected 3"),
        "long.txt": (b"the 0.1 0.2\nmovie 0.1 0.2 0.3\n", r"line 2: 3 values after the word 'movie', expected 2"),
        "latin1.txt": ("the 0.1 0.2\ncaf\xe9 0.1 0.2\n".encode("latin-1"), "line 2: not valid UTF-8"),
        "nan.txt": (b"the 0.1 0.2\nmovie 0.1 abc\n", "not a number"),
        "header.txt": (b"3 2\nthe 0.1 0.2\nmovie 0.3 0.4\n", "ends after 2 of the 3 vectors"),
        "extra.txt": (b"1 2\nthe 0.1 0.2\nmovie 0.3 0.4\n", "more vectors than the 1"),
        "garbage.txt": (b"<html><body>Not found</body></html>\n", "neither a word2vec header"),
        "binary.bin": (files["word2vec-binary"].read_bytes()[:-20], "truncated"),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(DataFormatError, match=message):
            read_vectors(tmp_path / name)
    with pytest.raises(InvalidInputError, match=f"holds {DIM}-dimensional vectors, but the embedding needs 50"):
        load_embedding_matrix(files["glove"], vocabulary, dim=50)
    unrelated = write_vectors(tmp_path / "unrelated.txt", ["qqq", "xxzz"], np.ones((2, DIM)), format="glove")
    with pytest.raises(InvalidInputError, match="None of the 398 vocabulary words"):
        load_embedding_matrix(unrelated, vocabulary)


def test_word2vec_trains_on_keras_tokens_and_caches(imdb_archive, monkeypatch):
    from rnnlab.text import word2vec

    options = dict(dim=12, epochs=1, limit=2000)
    path = word2vec.train_word2vec(**options)  # one thread: deterministic (tests/test_reproducible.py)
    assert path.parent == word2vec.word2vec_path(dim=12).parent and path.parent.parent == _cache_dir()
    found = read_vectors(path)
    assert detect_format(path) == ("word2vec-binary", 12, len(found))
    assert {"movie", "film", "don't", "good"} <= set(found.words)  # "keras" tokens: lower-case, apostrophes kept
    assert found.words[0] == "the" and np.isfinite(found.vectors).all()
    cosine = found["movie"] @ found["film"] / np.linalg.norm(found["movie"]) / np.linalg.norm(found["film"])
    assert cosine > 0.5

    def no_training(*args, **kwargs):
        raise AssertionError("trained again")

    monkeypatch.setattr(word2vec, "_train", no_training)
    assert word2vec.train_word2vec(**options) == path  # cache hit
    assert word2vec.word2vec_path(dim=12, epochs=2, limit=2000) != path
    assert word2vec.word2vec_path(**options, deterministic=False) != path  # several threads: cached apart
    with pytest.raises(InvalidInputError, match="window must be a positive integer"):
        word2vec.train_word2vec(window=0)


def _cache_dir():
    from rnnlab.data.locate import cache_dir

    return cache_dir()


def test_spec_field_round_trips_and_is_checked(tmp_path):
    spec = ModelSpec(pretrained_embeddings="glove.6B.100d.txt", embedding_dim=100)
    assert ModelSpec.from_json(spec.to_json()) == spec
    assert ModelSpec.from_dict(spec.to_dict()).pretrained_embeddings == "glove.6B.100d.txt"
    assert ModelSpec().pretrained_embeddings is None
    for bad in ("", "  ", 3):
        with pytest.raises(InvalidInputError, match="pretrained_embeddings must be"):
            ModelSpec(pretrained_embeddings=bad)
    with pytest.raises(InvalidInputError, match="cannot be combined with embedding_matrix"):
        ModelSpec(pretrained_embeddings="word2vec-imdb", embedding_matrix="m.npy")
    with pytest.raises(InvalidInputError, match="numeric input"):
        ModelSpec(pretrained_embeddings="word2vec-imdb", features=3)


def test_training_starts_from_the_vectors_and_bundles_keep_them(vectors, tmp_path):
    from rnnlab.inference.bundle import Bundle
    from rnnlab.training.engine import train

    private = tmp_path / "glove.txt"
    private.write_bytes(vectors[2]["glove"].read_bytes())
    spec = ModelSpec(name="frozen", vocab_size=1000, maxlen=40, embedding_dim=DIM, cell="simple", units=4,
                     embedding_trainable=False, pretrained_embeddings=str(private))
    result = train(spec, limit=2000, epochs=1, verbose=0, out=tmp_path / "bundle")
    expected, coverage = load_embedding_matrix(private, result.preprocessor.vocabulary, seed=0)
    weights = result.model.get_layer("embedding").get_weights()[0]
    np.testing.assert_array_equal(weights, expected)  # frozen: still exactly the matrix after training
    info = result.metrics()["data"]["embeddings"]
    assert info["source"] == str(private) and info["trainable"] is False and info["format"] == "glove"
    assert info["words_found"] == coverage.words_found > 0 and 0 < info["token_share"] < 1
    saved = json.loads((tmp_path / "bundle" / "metrics.json").read_text())["data"]["embeddings"]
    assert saved["words_found"] == coverage.words_found

    private.unlink()  # a bundle holds the weights: loading it never reads the vectors again
    bundle = Bundle.load(tmp_path / "bundle")
    assert bundle.spec.pretrained_embeddings == str(private)
    np.testing.assert_array_equal(bundle.model.get_layer("embedding").get_weights()[0], expected)
    assert bundle.predict(["A wonderful film."])[0].label in ("neg", "pos")


def test_word2vec_imdb_name_and_fine_tuning(vectors, monkeypatch, tmp_path):
    from rnnlab.text import word2vec
    from rnnlab.training.engine import train

    calls = []

    def small(dim, **_):
        calls.append(dim)
        return vectors[2]["word2vec-text"]

    monkeypatch.setattr(word2vec, "train_word2vec", small)  # the name resolves to the cached word2vec
    spec = ModelSpec(vocab_size=1000, maxlen=40, embedding_dim=DIM, cell="simple", units=4,
                     pretrained_embeddings="word2vec-imdb")
    result = train(spec, limit=2000, epochs=1, verbose=0)
    assert calls == [DIM] and result.data_info["embeddings"]["source"] == "word2vec-imdb"
    start, _ = load_embedding_matrix(vectors[2]["word2vec-text"], result.preprocessor.vocabulary)
    tuned = result.model.get_layer("embedding").get_weights()[0]
    assert not np.array_equal(tuned, start)  # fine-tuned
    assert np.abs(tuned - start).max() < 0.5  # but from the vectors, not from a random start


def test_every_encoder_of_a_multi_input_model_gets_the_vectors(vocabulary, vectors):
    from rnnlab.training.engine import _start_from_pretrained

    spec = ModelSpec(vocab_size=len(vocabulary), embedding_dim=DIM, units=4, pretrained_embeddings=str(
        vectors[2]["glove"]), inputs=[EncoderSpec("title", maxlen=10), EncoderSpec("body", maxlen=30)])
    model = spec.build(compile=False)
    prep = Preprocessor(vocab_size=len(vocabulary))
    prep.vocabulary = vocabulary
    info = _start_from_pretrained(model, spec, prep, seed=0)
    matrix, _ = load_embedding_matrix(vectors[2]["glove"], vocabulary)
    for name in ("title_embedding", "body_embedding"):
        np.testing.assert_array_equal(model.get_layer(name).get_weights()[0], matrix)
    assert info["words_found"] > 0

    stemmed = Preprocessor(mode="nltk", vocab_size=len(vocabulary))
    stemmed.vocabulary = vocabulary
    with pytest.raises(InvalidInputError, match="'keras' tokens"):
        _start_from_pretrained(model, spec.replace(pretrained_embeddings="word2vec-imdb"), stemmed, seed=0)


def test_cli_coverage_train_and_errors(vectors, tmp_path, imdb_archive):
    from rnnlab.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["embeddings", "coverage", str(vectors[2]["glove"]), "--limit", "300", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["reviews"] == 300 and report["dim"] == DIM and 0 < report["word_share"] < 1
    assert report["tokens_found"] <= report["tokens"]

    from rnnlab.text.word2vec import word2vec_path

    out = tmp_path / "w2v.bin"
    cached = word2vec_path(dim=12, epochs=1, limit=2000).is_file()  # trained by the word2vec test above
    result = runner.invoke(app, ["embeddings", "train", "--dim", "12", "--epochs", "1", "--limit", "2000",
                                 "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["dim"] == 12 and report["words"] > 1000 and report["cached"] is cached
    assert out.read_bytes() == open(report["path"], "rb").read()

    bad = tmp_path / "bad.txt"
    bad.write_text("movie 0.1 0.2\nthe 0.3\n", encoding="utf-8")
    for target, message in ((tmp_path / "nope.txt", "does not exist"), (bad, "line 2: 1 value after")):
        run = subprocess.run([sys.executable, "-m", "rnnlab.cli", "embeddings", "coverage", str(target),
                              "--limit", "50"],
                             capture_output=True, text=True, env=dict(os.environ), timeout=120)
        assert run.returncode == 2 and message in run.stderr and "Traceback" not in run.stderr
