"""Preprocessing: the textbook's pipeline as a per-review loop against rnnlab, same tokens, same ids.

The textbook's Amazon pipeline (lower-case, Treebank tokens, no stop words or punctuation,
Porter stems, then a Keras Tokenizer: fit, texts_to_sequences, pad_sequences) on the 25,000
IMDB training reviews and on the 1,000-review Amazon sample, vocabulary 10,000, maxlen 100;
and the keras-mode path (the IMDB chapter's Tokenizer on raw text) on all 50,000 labelled
reviews, vocabulary 8,000, maxlen 200.

rnnlab variants, each against the reference in the same round:

* ``cold``: nothing memoised, nothing on disk, one process (``RNNLAB_TOKENIZER_WORKERS=1``);
* ``cold, processes``: the same with the tokenizer's forked workers (one per core);
* ``warm token cache``: a new process' first call, the ``nltk`` pieces and stems of an
  earlier run on disk (loaded within the timing);
* ``warm encoded cache``: the encoded arrays of an earlier identical run on disk.

Before timing, the benchmark checks that rnnlab's tokens and padded ids equal the
reference's, review by review.
"""

from __future__ import annotations

import os
import tempfile
import time


from common import load_average, ratio, summary, table

NLTK_SETTINGS = {"vocab_size": 10_000, "maxlen": 100}
KERAS_SETTINGS = {"vocab_size": 8_000, "maxlen": 200}


def _timed(fn):
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def _pipeline():
    from rnnlab.text.treebank import shared_pipeline

    return shared_pipeline()


def _rnnlab_nltk(texts, workers: int):
    from rnnlab.text import Preprocessor

    pipeline = _pipeline()
    pipeline.clear()
    pipeline.workers = workers
    try:
        return Preprocessor(mode="nltk", oov_token="<oov>", **NLTK_SETTINGS).fit_transform(texts)
    finally:
        pipeline.workers = None


def _rnnlab_token_cache(texts, path):
    from rnnlab.text import Preprocessor
    from rnnlab.text.cache import load_token_cache

    pipeline = _pipeline()
    pipeline.clear()
    pipeline.workers = 1
    try:
        load_token_cache(path)
        return Preprocessor(mode="nltk", oov_token="<oov>", **NLTK_SETTINGS).fit_transform(texts)
    finally:
        pipeline.workers = None


def _rnnlab_encoded_cache(texts, mode: str, settings: dict, cache):
    from rnnlab.text import Preprocessor
    from rnnlab.text.cache import fit_encode

    _pipeline().clear()
    (encoded,) = fit_encode(Preprocessor(mode=mode, **settings), [texts], cache=cache)
    return encoded.ids


def check_nltk(texts) -> dict:
    """Tokens and ids of rnnlab against the reference, review by review (not timed)."""
    from peers import textbook
    from rnnlab.text import Tokenizer

    _, reference_tokens, reference_ids = textbook.encode_preprocessed(texts, NLTK_SETTINGS["vocab_size"],
                                                                      NLTK_SETTINGS["maxlen"])
    _pipeline().clear()
    tokens = Tokenizer("nltk").tokenize_many(texts)
    ids = _rnnlab_nltk(texts, workers=None)
    same_tokens = sum(a == b for a, b in zip(tokens, reference_tokens))
    same_ids = int((ids == reference_ids).all(axis=1).sum())
    if same_tokens != len(texts) or same_ids != len(texts):
        raise AssertionError(f"rnnlab differs from the reference: tokens equal for {same_tokens}, ids for "
                             f"{same_ids} of {len(texts)} reviews")
    return {"reviews": len(texts), "identical_tokens": same_tokens, "identical_ids": same_ids}


def bench_nltk(name: str, texts, rounds: int, parallel: bool = True) -> dict:
    from peers import textbook
    from rnnlab.text.cache import EncodedCache, save_token_cache

    check = check_nltk(texts)
    folder = tempfile.mkdtemp(prefix="rnnlab-bench-cache-")
    token_file = os.path.join(folder, "tokens.npz")
    encoded_cache = EncodedCache(folder)
    _rnnlab_nltk(texts, workers=1)
    save_token_cache(token_file)  # the earlier run whose caches the warm variants find
    _rnnlab_encoded_cache(texts, "nltk", NLTK_SETTINGS, encoded_cache)

    variants = {"cold": lambda: _rnnlab_nltk(texts, workers=1)}
    if parallel:
        variants["cold, processes"] = lambda: _rnnlab_nltk(texts, workers=None)
    variants["warm token cache"] = lambda: _rnnlab_token_cache(texts, token_file)
    variants["warm encoded cache"] = lambda: _rnnlab_encoded_cache(texts, "nltk", NLTK_SETTINGS, encoded_cache)
    reference = []
    times = {v: [] for v in variants}
    loads = []
    for _ in range(rounds):
        loads.append(load_average())
        reference.append(_timed(lambda: textbook.encode_preprocessed(texts, NLTK_SETTINGS["vocab_size"],
                                                                     NLTK_SETTINGS["maxlen"]))[0])
        for variant, fn in variants.items():
            times[variant].append(_timed(fn)[0])
    return _result(name, len(texts), "per-review NLTK loop + Keras Tokenizer", reference, times, loads, check)


def bench_keras(texts, rounds: int) -> dict:
    from keras.utils import pad_sequences
    from keras_preprocessing.text import Tokenizer as KerasTokenizer

    from rnnlab.text import Preprocessor
    from rnnlab.text.cache import EncodedCache

    def reference_run(inputs):
        tokenizer = KerasTokenizer(num_words=KERAS_SETTINGS["vocab_size"], oov_token="<oov>")
        tokenizer.fit_on_texts(inputs)
        return pad_sequences(tokenizer.texts_to_sequences(inputs), maxlen=KERAS_SETTINGS["maxlen"])

    def rnnlab_run():
        return Preprocessor(mode="keras", **KERAS_SETTINGS).fit_transform(texts)

    # Same ids once the HTML line breaks, which rnnlab's keras mode removes, are gone from the
    # reference's input too (Keras would index "br" as a word).
    from rnnlab.text.tokenize import strip_html_breaks

    expected = reference_run([strip_html_breaks(t) for t in texts])
    ids = rnnlab_run()
    differing = int((ids != expected).any(axis=1).sum())
    check = {"reviews": len(texts), "identical_ids_after_removing_html_breaks": len(texts) - differing,
             "note": "rnnlab splits on any whitespace (e.g. a no-break space), Keras on spaces only"}
    folder = tempfile.mkdtemp(prefix="rnnlab-bench-cache-")
    encoded_cache = EncodedCache(folder)
    _rnnlab_encoded_cache(texts, "keras", KERAS_SETTINGS, encoded_cache)
    variants = {"cold": rnnlab_run,
                "warm encoded cache": lambda: _rnnlab_encoded_cache(texts, "keras", KERAS_SETTINGS, encoded_cache)}
    reference, times, loads = [], {v: [] for v in variants}, []
    for _ in range(rounds):
        loads.append(load_average())
        reference.append(_timed(lambda: reference_run(texts))[0])
        for variant, fn in variants.items():
            times[variant].append(_timed(fn)[0])
    return _result("IMDB train+test, keras mode", len(texts), "Keras Tokenizer on raw text", reference, times,
                   loads, check)


def _result(name, n, reference_name, reference, times, loads, check) -> dict:
    return {"dataset": name, "reviews": n, "reference": reference_name, "reference_seconds": summary(reference),
            "rnnlab_seconds": {v: summary(t) for v, t in times.items()},
            "speedup": {v: ratio(reference, t) for v, t in times.items()},
            "load": summary(loads, 2), "check": check}


def run(config: dict) -> dict:
    from rnnlab.data import load_amazon, load_imdb

    rounds = config.get("rounds", 3)
    train = load_imdb("train")
    test = load_imdb("test")
    imdb = train.texts if not config.get("quick") else train.texts[:3000]
    results = [bench_nltk("IMDB train, nltk mode", imdb, rounds),
               bench_nltk("Amazon sample, nltk mode", load_amazon().texts, max(rounds, 5), parallel=False)]
    labelled = train.texts + test.texts if not config.get("quick") else imdb
    results.append(bench_keras(labelled, rounds))
    rows = []
    for r in results:
        ref = r["reference_seconds"]["median"]
        rows.append([r["dataset"], r["reviews"], "reference (" + r["reference"] + ")", ref, r["reviews"] / ref, "1.0"])
        for variant, seconds in r["rnnlab_seconds"].items():
            s = seconds["median"]
            rows.append(["", "", f"rnnlab, {variant}", s, r["reviews"] / s, f"{r['speedup'][variant]['median']:.1f}x"])
    loads = [v for r in results for v in r["load"]["runs"]]
    text = table("Preprocessing (median of interleaved rounds; speedup = median of per-round ratios)",
                 ["dataset", "reviews", "pipeline", "seconds", "reviews/s", "speedup"], rows,
                 note=f"load average during the rounds: {min(loads):.2f}-{max(loads):.2f}; "
                      f"tokens and ids checked identical to the reference before timing")
    return {"results": results, "tables": [text], "goal": _goal(results)}


def _goal(results) -> dict:
    imdb = results[0]["speedup"]
    return {"target": ">= 20x on the 25,000 IMDB training reviews",
            **{variant: {"speedup": r["median"], "met": r["median"] >= 20} for variant, r in imdb.items()}}


if __name__ == "__main__":
    import json

    print(json.dumps(run({"rounds": 1, "quick": True})["goal"], indent=1))
