"""The speed levers give the same results as the plain paths: padding, encoding, tokenizer
processes, on-disk caches, length bucketing, the batch predictor. No timing here: speed is
measured by `make bench`."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
from test_text_corpus import imdb_reviews

from rnnlab.encoding.bucketing import (
    BucketedBatches,
    assign_buckets,
    bucket_lengths,
    bucketed_batches,
    bucketed_outputs,
    cut,
    even_buckets,
    sequence_lengths,
)
from rnnlab.errors import InvalidInputError
from rnnlab.models import ModelSpec
from rnnlab.text import Preprocessor, pad, reference_nltk_tokens
from rnnlab.text.cache import EncodedCache, fit_encode, load_token_cache, save_token_cache
from rnnlab.text.treebank import TreebankStemmer, worker_count


@pytest.fixture(scope="module")
def reviews(imdb_archive):
    train, _ = imdb_reviews(imdb_archive, "train", 600)
    test, _ = imdb_reviews(imdb_archive, "test", 200)
    return train, test


# -- vectorised padding and encoding ------------------------------------------------------------


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
@pytest.mark.parametrize("maxlen", [None, 1, 7, 40])
def test_numpy_pad_equals_keras_pad_sequences(padding, truncating, maxlen):
    rng = np.random.default_rng(0)
    seqs = [rng.integers(1, 100, rng.integers(0, 30)).tolist() for _ in range(50)] + [[]]
    expected = keras.utils.pad_sequences(seqs, maxlen=maxlen, padding=padding, truncating=truncating,
                                         dtype="int32")
    got = pad(seqs, maxlen, padding=padding, truncating=truncating)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, expected)


def test_numpy_pad_keeps_float_values():
    out = pad([[0.5, 1.5], [2.5]], maxlen=3, dtype="float32")
    np.testing.assert_array_equal(out, [[0, 0.5, 1.5], [0, 0, 2.5]])


@pytest.mark.parametrize("mode", ["keras", "nltk"])
@pytest.mark.parametrize("oov_token", ["<oov>", None])
def test_fit_transform_and_encode_tokens_equal_the_plain_path(reviews, mode, oov_token):
    train, test = reviews
    settings = dict(mode=mode, vocab_size=500, maxlen=60, oov_token=oov_token)
    fitted = Preprocessor(**settings).fit(train)
    once = Preprocessor(**settings)
    np.testing.assert_array_equal(once.fit_transform(train), fitted.transform(train))
    assert once.to_json() == fitted.to_json()
    tokens = fitted.tokenizer.tokenize_many(test)
    by_tokens, by_text = fitted.encode_tokens(tokens), fitted.encode(test)
    for field in ("ids", "n_tokens", "n_oov", "truncated"):
        np.testing.assert_array_equal(getattr(by_tokens, field), getattr(by_text, field))
    assert by_tokens.tokens == by_text.tokens


def test_encode_counts_oov_among_fed_tokens_only():
    prep = Preprocessor(vocab_size=10, maxlen=3).fit(["good movie good plot"])
    enc = prep.encode(["zzz yyy good movie plot", "good"])
    assert enc.ids.tolist() == [[2, 3, 4], [0, 0, 2]]
    assert enc.n_oov.tolist() == [0, 0] and enc.truncated.tolist() == [True, False]
    assert enc.tokens[0] == ["good", "movie", "plot"]


# -- tokenizer processes ---------------------------------------------------------------------


@pytest.mark.slow
def test_forked_tokenizer_equals_the_reference(imdb_archive, tmp_path):
    # In a fresh interpreter: once JAX has started (as in this test session), forking is
    # refused and the path under test would not run.
    script = textwrap.dedent(f"""
        import json, sys
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from test_text_corpus import imdb_reviews
        from rnnlab.text import reference_nltk_tokens
        from rnnlab.text.treebank import TreebankStemmer, fork_is_safe
        texts, _ = imdb_reviews({str(imdb_archive)!r}, "train", 3000)
        forked, serial = TreebankStemmer(workers=3), TreebankStemmer(workers=1)
        out = forked.tokenize_many(texts)
        same = out == serial.tokenize_many(texts) == [reference_nltk_tokens(t) for t in texts]
        warm = forked.tokenize_many(texts[::-1]) == out[::-1]
        caches_cover = all(len(forked.export_caches()[k]) >= len(serial.export_caches()[k]) for k in ("stems", "first", "last"))
        print(json.dumps({{"safe": fork_is_safe(), "same": same, "warm": warm, "caches": caches_cover}}))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "RNNLAB_TOKENIZER_WORKERS": ""})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"safe": True, "same": True, "warm": True,
                                                               "caches": True}


def test_no_fork_once_jax_runs_and_workers_are_checked(monkeypatch):
    import jax.numpy as jnp

    jnp.zeros(1).block_until_ready()  # JAX's backend is up: forking could deadlock
    assert worker_count(100_000, 4) == 1
    monkeypatch.setenv("RNNLAB_TOKENIZER_WORKERS", "two")
    with pytest.raises(InvalidInputError, match="RNNLAB_TOKENIZER_WORKERS"):
        worker_count(100_000)
    with pytest.raises(InvalidInputError, match="workers"):
        worker_count(10, 0)


# -- caches on disk --------------------------------------------------------------------------


def test_token_cache_round_trip(reviews, tmp_path):
    train, test = reviews
    first = TreebankStemmer(workers=1)
    first.tokenize_many(train + ["\ue000 weird \u2028 text"])
    path = tmp_path / "tokens.npz"
    assert save_token_cache(path, first) == path
    assert save_token_cache(path, first) is None  # nothing new since the save
    second = TreebankStemmer(workers=1)
    assert load_token_cache(path, second)
    assert second.export_caches() == first.export_caches()
    assert second.tokenize_many(test) == [reference_nltk_tokens(t) for t in test]
    assert not load_token_cache(tmp_path / "missing.npz", TreebankStemmer())


def test_encoded_cache_hit_skips_tokenizing_and_gives_identical_arrays(reviews, tmp_path, monkeypatch):
    train, test = reviews
    cache = EncodedCache(tmp_path / "enc")
    first = Preprocessor(vocab_size=800, maxlen=50)
    arrays = fit_encode(first, [train, test], fit_count=500, cache=cache)
    plain = Preprocessor(vocab_size=800, maxlen=50).fit(train[:500])
    np.testing.assert_array_equal(arrays[1].ids, plain.transform(test))
    assert len(list((tmp_path / "enc").glob("encoded-*.npz"))) == 1

    from rnnlab.text import tokenize

    def refuse(*args, **kwargs):
        raise AssertionError("tokenized although the cache holds the result")

    monkeypatch.setattr(tokenize.Tokenizer, "tokenize_many", refuse)
    second = Preprocessor(vocab_size=800, maxlen=50)
    again = fit_encode(second, [train, test], fit_count=500, cache=cache)
    assert second.to_json() == first.to_json()
    for a, b in zip(arrays, again):
        for field in ("ids", "n_tokens", "n_oov", "truncated"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    with pytest.raises(AssertionError, match="tokenized"):  # other settings, other texts: other keys
        fit_encode(Preprocessor(vocab_size=801, maxlen=50), [train, test], fit_count=500, cache=cache)
    with pytest.raises(AssertionError, match="tokenized"):
        fit_encode(Preprocessor(vocab_size=800, maxlen=50), [train, test[:-1]], fit_count=500, cache=cache)


def test_encoded_cache_survives_damage_and_keeps_the_newest(reviews, tmp_path):
    train, _ = reviews
    cache = EncodedCache(tmp_path, keep=2)
    for maxlen in (10, 20, 30):
        fit_encode(Preprocessor(maxlen=maxlen), [train[:50]], cache=cache)
    assert len(list(tmp_path.glob("encoded-*.npz"))) == 2
    key = cache.key(Preprocessor(maxlen=30), [train[:50]], 50)
    cache.file(key).write_bytes(b"not a zip file")
    (arrays,) = fit_encode(Preprocessor(maxlen=30), [train[:50]], cache=cache)
    np.testing.assert_array_equal(arrays.ids, Preprocessor(maxlen=30).fit_transform(train[:50]))


def test_prepare_with_cache_equals_prepare_without(imdb_archive, tmp_path, monkeypatch):
    from rnnlab.data import load_imdb
    from rnnlab.encoding.prepare import prepare

    monkeypatch.setenv("RNNLAB_CACHE_DIR", str(tmp_path))
    train, test = load_imdb("train").sample(400, seed=1), load_imdb("test").sample(100, seed=1)
    plain = prepare(train, test, mode="nltk", vocab_size=600, maxlen=40)
    for _ in range(2):  # a miss that writes, then a hit
        cached = prepare(train, test, mode="nltk", vocab_size=600, maxlen=40, cache=True)
        for name in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
            np.testing.assert_array_equal(getattr(cached, name), getattr(plain, name))
        assert cached.preprocessor.to_json() == plain.preprocessor.to_json()
    assert list((tmp_path / "encoded").glob("encoded-*.npz"))
    assert list(tmp_path.glob("nltk-tokens-*.npz"))


# -- length bucketing -------------------------------------------------------------------------


def test_bucket_lengths_and_assignment():
    lengths = np.array([3, 10, 50, 120, 200, 200, 199])
    buckets = bucket_lengths(lengths, maxlen=200, count=3)
    assert buckets[-1] == 200 and all(b % 8 == 0 for b in buckets[:-1])
    which = assign_buckets(lengths, buckets)
    chosen = np.asarray(buckets)[which]
    # each row fits, with one padding step left when it had one at maxlen
    assert (chosen >= np.minimum(lengths + 1, 200)).all()
    assert even_buckets(200, 4) == (56, 104, 152, 200)
    with pytest.raises(InvalidInputError):
        assign_buckets(lengths, (100, 50))


def test_bucketed_batches_cover_every_row_once_with_few_shapes():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 201, 1000)
    buckets = bucket_lengths(lengths, 200, 4)
    batches = bucketed_batches(lengths, buckets, 64, rng=np.random.default_rng(1))
    rows = np.concatenate([r for r, _ in batches])
    assert sorted(rows.tolist()) == list(range(1000))
    assert all((lengths[r] < length).all() or length == 200 for r, length in batches)
    shapes = {(len(r), length) for r, length in batches}
    assert len(shapes) <= len(buckets) + 1


def test_bucketed_sequence_cuts_padding_only():
    x = Preprocessor(vocab_size=50, maxlen=12).fit_transform(["a b c", "a b c d e f g", "a " * 20, "b"])
    data = BucketedBatches(x, np.arange(4), batch_size=2, buckets=(4, 8, 12), shuffle=False)
    for i in range(len(data)):
        xb, yb = data[i]
        full = x[yb]
        assert (full[:, : 12 - xb.shape[1]] == 0).all()  # what was cut is padding
        np.testing.assert_array_equal(full[:, 12 - xb.shape[1]:], xb)
    assert data.padded_steps < x.size
    np.testing.assert_array_equal(cut(x, 4, "post"), x[:, :4])
    assert sequence_lengths(x).tolist() == [3, 7, 12, 1]


def _random_ids(n=64, maxlen=40, seed=0):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, maxlen + 1, n)
    return pad([rng.integers(2, 300, k).tolist() for k in lengths], maxlen)


@pytest.mark.parametrize("options", [
    {"pooling": "last"}, {"pooling": "max"}, {"pooling": "avg"},
    {"pooling": "max", "bidirectional": True, "cell": "gru"}, {"pooling": "last", "depth": 2},
])
def test_masked_models_predict_the_same_at_any_bucket_length(options):
    spec = ModelSpec(vocab_size=300, maxlen=None, embedding_dim=8, units=6, mask_zero=True, **options)
    keras.utils.set_random_seed(0)
    model = spec.build(compile=False)
    ids = _random_ids()
    full = np.asarray(model.predict(ids, verbose=0))
    bucketed = bucketed_outputs(lambda b: np.asarray(model.predict(b, verbose=0)), ids, (8, 16, 24, 40), 16)
    np.testing.assert_allclose(bucketed, full, rtol=1e-5, atol=1e-6)


def test_unmasked_prepadded_last_state_models_predict_nearly_the_same():
    # Without a mask the padding steps run the cell; with pre-padding their effect on the
    # state fades over the review, so the outputs agree closely but not exactly.
    spec = ModelSpec(vocab_size=300, maxlen=None, embedding_dim=8, units=6, cell="lstm")
    keras.utils.set_random_seed(0)
    model = spec.build(compile=False)
    ids = _random_ids(maxlen=80)
    full = np.asarray(model.predict(ids, verbose=0))
    bucketed = bucketed_outputs(lambda b: np.asarray(model.predict(b, verbose=0)), ids, (24, 48, 80), 16)
    np.testing.assert_allclose(bucketed, full, atol=1e-3)


def test_fit_with_buckets_trains_a_model_that_takes_maxlen(imdb_archive):
    from rnnlab.encoding.prepare import load_splits, prepare
    from rnnlab.training.engine import config_from_recipe, fit, resolve

    spec, recipe = resolve(ModelSpec(vocab_size=1000, maxlen=80, mask_zero=True, cell="gru", units=8,
                                     pooling="max", optimizer="adam"), epochs=1, batch_size=32)
    train, test = load_splits("imdb", limit=300, seed=0)
    data = prepare(train, test, vocab_size=1000, maxlen=80)
    result = fit(spec, data, config_from_recipe(recipe, buckets=3), recipe=recipe, verbose=0)
    assert result.test["examples"] == 300 and len(result.history["loss"]) == 1
    assert result.spec.maxlen == 80
    with pytest.raises(InvalidInputError, match="bucketing"):
        fit(ModelSpec(vocab_size=1000, maxlen=80, architecture="cell-loop", cell="simple"), data,
            config_from_recipe(recipe, buckets=3), verbose=0)


def test_batch_predictor_equals_bundle_predictions(lstm_bundle):
    from rnnlab.inference import BatchPredictor
    from rnnlab.inference.bundle import Bundle

    _, out = lstm_bundle
    bundle = Bundle.load(out)
    texts = imdb_reviews_for_prediction()
    expected = bundle.predict_proba(texts)
    auto = BatchPredictor(bundle, batch_size=64)
    assert auto.buckets is None  # the textbook LSTM has no mask: no bucketing unless asked
    np.testing.assert_allclose(auto.predict_proba(texts), expected, rtol=1e-5, atol=1e-6)
    # Forced on an unmasked model, bucketing changes the outputs (how much is reported by the
    # prediction benchmark): only its mechanics are checked here.
    bucketed = BatchPredictor(bundle, buckets=4, batch_size=64)
    assert bucketed.buckets == (56, 104, 152, 200)
    probs = bucketed.predict_proba(texts)
    assert probs.shape == expected.shape and np.allclose(probs.sum(axis=1), 1.0)
    assert auto.predict_labels(texts[:2]) == [bundle.class_names[i] for i in expected[:2].argmax(axis=1)]


def imdb_reviews_for_prediction():
    base = ["An excellent movie! The acting was wonderful.", "Dull, slow and badly acted. Avoid.",
            "I expected more from this director; some good scenes, too many slow ones."]
    return [" ".join(base[i % 3] for _ in range(1 + i % 40)) for i in range(150)]
