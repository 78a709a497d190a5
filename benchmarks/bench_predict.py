"""Prediction from raw text: all 25,000 IMDB test reviews, and one review at a time.

The model is the textbook LSTM trained by rnnlab with the textbook's ``preprocess`` (nltk
mode: Treebank tokens, stop words, Porter stems; vocabulary 8,000, maxlen 200), saved as a
bundle; the textbook side loads the same weights into Keras on TensorFlow and the same
vocabulary into a Keras Tokenizer. Sides, interleaved in each round:

* ``textbook loop``: the chapter's prediction of a new review, one review at a time:
  ``preprocess``, ``texts_to_sequences``, ``pad_sequences``, ``model.predict`` (timed on the
  first ``--loop-reviews`` reviews: at tens of milliseconds per review, all 25,000 would
  take a quarter of an hour per round);
* ``textbook batched``: the loop's preprocessing for every review, then one
  ``model.predict`` over all of them (what a careful reader of the chapter would write);
* ``rnnlab Bundle.predict_proba``: the bundle API (`model.predict`, padded to maxlen);
* ``rnnlab BatchPredictor``: one tokenization pass, the compiled forward pass;
* ``rnnlab BatchPredictor, buckets``: the same with batches cut to 4 length buckets.

rnnlab's token caches are emptied before each timing: every run reads the reviews as new
text. Single-review latency is the textbook loop's per-review time against
`BatchPredictor.predict_proba([review])`.
"""

from __future__ import annotations

import json

import numpy as np

from common import WORK, load_average, ratio, summary, table

BUNDLE = WORK / "predict-lstm-nltk"
RNNLAB_VARIANTS = {"rnnlab Bundle.predict_proba": "bundle", "rnnlab BatchPredictor": "compiled",
                   "rnnlab BatchPredictor, buckets": "buckets"}


def test_texts(quick: bool) -> str:
    path = WORK / ("test-texts-quick.json" if quick else "test-texts.json")
    if not path.exists():
        from rnnlab.data import load_imdb

        texts = load_imdb("test").texts
        if quick:
            texts = load_imdb("test").sample(2000, seed=0).texts
        WORK.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(texts), encoding="utf-8")
    return str(path)


def run(config: dict) -> dict:
    workers, log = config["workers"], config["log"]
    quick = config.get("quick", False)
    rounds = config.get("rounds", 3)
    loop_reviews = config.get("loop_reviews", 100 if quick else 500)
    if not (BUNDLE / "model.keras").exists():
        log("  training the bundle to predict with (textbook LSTM, nltk mode, 5,000 reviews, 2 epochs)")
        workers("rnnlab").call("make_bundle", out=str(BUNDLE), model="lstm", tokenizer="nltk", limit=5000, epochs=2)
    texts = test_texts(quick)
    n = len(json.loads(open(texts, encoding="utf-8").read()))
    rates = {side: [] for side in ["textbook loop", "textbook batched", *RNNLAB_VARIANTS]}
    setup, loop_times, loads = {}, [], []
    saved = {side: WORK / f"probs-{k}.npy" for k, side in enumerate(rates)}
    for r in range(rounds):
        loads.append(load_average())
        reply = workers("textbook-tf").call("predict_loop", bundle=str(BUNDLE), texts=texts, count=loop_reviews)
        rates["textbook loop"].append(len(reply["seconds"]) / sum(reply["seconds"]))
        loop_times += reply["seconds"]
        loop_probs = np.asarray(reply["probabilities"])
        reply = workers("textbook-tf").call("predict_batched", bundle=str(BUNDLE), texts=texts,
                                            save=str(saved["textbook batched"]))
        rates["textbook batched"].append(reply["reviews"] / reply["seconds"])
        for side, variant in RNNLAB_VARIANTS.items():
            reply = workers("rnnlab").call("predict", bundle=str(BUNDLE), texts=texts, variant=variant,
                                           save=str(saved[side]))
            rates[side].append(reply["reviews"] / reply["seconds"])
            setup.setdefault(side, reply["setup_seconds"])
        log(f"  round {r + 1}: " + ", ".join(f"{s} {v[-1]:.0f}/s" for s, v in rates.items()))
    latency = workers("rnnlab").call("latency", bundle=str(BUNDLE), texts=texts, count=300)["seconds"]
    probs = {side: np.load(path) for side, path in saved.items() if path.exists()}
    reference = probs["textbook batched"]
    agreement = {side: {"max_abs_difference": float(np.abs(p - reference).max()),
                        "same_label": float(((p > 0.5) == (reference > 0.5)).mean())}
                 for side, p in probs.items() if side != "textbook batched"}
    agreement["textbook loop (first reviews)"] = {
        "max_abs_difference": float(np.abs(loop_probs - reference[:len(loop_probs)]).max())}
    results = {side: {"reviews_per_s": summary(v, 1),
                      "vs_textbook_loop": ratio(v, rates["textbook loop"]),
                      "vs_textbook_batched": ratio(v, rates["textbook batched"])} for side, v in rates.items()}
    latency_ms = {"rnnlab BatchPredictor, buckets": _percentiles(latency),
                  "textbook loop": _percentiles(loop_times)}
    rows = [[side, r["reviews_per_s"]["median"], f"{r['vs_textbook_loop']['median']:.1f}x",
             f"{r['vs_textbook_batched']['median']:.2f}x", _agree(agreement.get(side))] for side, r in results.items()]
    text = table(f"Prediction from raw text ({n:,} IMDB test reviews; textbook loop on the first {loop_reviews}; "
                 f"median of {rounds} rounds)", ["side", "reviews/s", "vs loop", "vs batched", "max |dp| / same label"],
                 rows, note=f"load average during the rounds: {min(loads):.2f}-{max(loads):.2f}; "
                            f"one-off setup (load + compile) of the rnnlab predictors: "
                            + ", ".join(f"{s.removeprefix('rnnlab ')} {v:.1f} s" for s, v in setup.items()))
    lat_rows = [[side, p["p50"], p["p95"], p["p99"]] for side, p in latency_ms.items()]
    ratio_p50 = latency_ms["textbook loop"]["p50"] / latency_ms["rnnlab BatchPredictor, buckets"]["p50"]
    text2 = table("Single-review latency (ms)", ["side", "p50", "p95", "p99"], lat_rows,
                  note=f"rnnlab p50 is {ratio_p50:.1f}x lower (300 reviews, after a warm-up; the textbook's "
                       f"from the loop above)")
    return {"reviews": n, "loop_reviews": loop_reviews, "results": results, "latency_ms": latency_ms,
            "latency_p50_ratio": round(ratio_p50, 2), "agreement": agreement, "setup_seconds": setup,
            "load": summary(loads, 2), "tables": [text, text2]}


def _percentiles(seconds) -> dict:
    ms = np.asarray(seconds) * 1000
    return {"n": int(len(ms)), "p50": float(np.percentile(ms, 50)), "p95": float(np.percentile(ms, 95)),
            "p99": float(np.percentile(ms, 99))}


def _agree(item) -> str:
    if not item:
        return "reference"
    same = item.get("same_label")
    return f"{item['max_abs_difference']:.1e}" + ("" if same is None else f" / {same:.2%}")
