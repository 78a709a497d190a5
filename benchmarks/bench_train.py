"""Training throughput: the five textbook models, rnnlab against the textbook's code and PyTorch.

Every side trains the same architecture (vocabulary 8,000, maxlen 200, batch 128) on the
same 5,000 IMDB training reviews, encoded once, for two epochs; the figure is the second
epoch's samples per second (steady state) and the first epoch's extra time is reported as
compile time. Sides, interleaved model by model in each round:

* ``rnnlab``: `rnnlab.training.engine.fit` with its defaults (Keras on JAX);
* ``rnnlab, buckets``: the same with 4 length buckets (`fit(..., buckets=4)`);
* ``rnnlab, Keras layers``: rnnlab without its recurrent kernels (``RNNLAB_RECURRENT_KERNEL=keras``):
  the same engine on Keras' own recurrent layers, so the kernels' part is the ratio to it;
* ``textbook, Keras-TF`` / ``textbook, Keras-JAX``: the textbook's Sequential code;
* ``PyTorch``: nn.RNN / nn.LSTM / nn.GRU with the same sizes (`peers/pytorch.py`);
* thread settings, for the LSTM and the GRU: rnnlab with XLA's CPU thread pool off
  (``XLA_FLAGS``), PyTorch with one intra-op thread.
"""

from __future__ import annotations

import numpy as np

from common import WORK, load_average, peak_gflops, ratio, summary, table

MODELS = ("rnn", "lstm", "gru", "bilstm", "stacked-lstm")
XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
SIDES = {
    # name: (worker key, extra arguments, models or None for all)
    "rnnlab": ("rnnlab", {}, None),
    "rnnlab, buckets": ("rnnlab", {"buckets": 4}, None),
    "rnnlab, Keras layers": ("rnnlab-keras", {}, None),
    "textbook, Keras-TF": ("textbook-tf", {}, None),
    "textbook, Keras-JAX": ("textbook-jax", {}, None),
    "PyTorch": ("torch", {}, None),
    "rnnlab, XLA one thread": ("rnnlab-1thread", {}, ("lstm", "gru")),
    "PyTorch, one thread": ("torch", {"threads": 1}, ("lstm", "gru")),
}
PEERS = ("textbook, Keras-TF", "textbook, Keras-JAX", "PyTorch")


def training_flops(model: str) -> float:
    """FLOPs of one training sample's recurrent matrix products (see the module's note)."""
    from rnnlab.models import get

    spec = get(model).spec
    gates = {"simple": 1, "lstm": 4, "gru": 3}[spec.cell]
    directions = 2 if spec.bidirectional else 1
    total, features = 0.0, spec.embedding_dim
    for units in spec.layer_units:
        total += directions * 3 * 2 * spec.maxlen * (features + units) * gates * units
        features = units * directions
    return total


def encoded_subset(n: int = 5000) -> str:
    """The first ``n`` of a seeded sample of IMDB training reviews, encoded the textbook's way."""
    path = WORK / f"train-{n}.npz"
    if not path.exists():
        from rnnlab.data import load_imdb
        from rnnlab.text import Preprocessor

        train = load_imdb("train").sample(n, seed=0)
        x = Preprocessor(vocab_size=8000, maxlen=200).fit_transform(train.texts)
        WORK.mkdir(parents=True, exist_ok=True)
        np.savez(path, x=x, y=train.labels)
    return str(path)


def run(config: dict) -> dict:
    workers = config["workers"]
    rounds = config.get("rounds", 3)
    models = config.get("models") or (MODELS if not config.get("quick") else ("lstm",))
    samples = 1000 if config.get("quick") else 5000
    data = encoded_subset(samples)
    for key in {w for w, _, _ in SIDES.values()}:
        workers(key)  # start every process (and its imports) before the first round
    per_side = {(side, m): {"rate": [], "compile": [], "params": None} for side in SIDES for m in models}
    loads = []
    for r in range(rounds):
        for model in models:
            loads.append(load_average())
            for side, (key, extra, only) in SIDES.items():
                if only and model not in only:
                    continue
                reply = workers(key).call("throughput", model=model, data=data, epochs=2, batch_size=128, **extra)
                first, second = reply["epoch_seconds"][:2]
                entry = per_side[side, model]
                entry["rate"].append(reply["samples"] / second)
                entry["compile"].append(max(0.0, first - second))
                entry["params"] = reply["params"]
                config["log"](f"  round {r + 1} {model:<13} {side:<24} {reply['samples'] / second:8.0f} samples/s")
    results = []
    rows = []
    peak = peak_gflops()
    for model in models:
        base = per_side["rnnlab", model]
        flops = training_flops(model)
        for side, (_, _, only) in SIDES.items():
            entry = per_side[side, model]
            if not entry["rate"]:
                continue
            item = {"model": model, "side": side, "params": entry["params"],
                    "samples_per_s": summary(entry["rate"], 1), "compile_s": summary(entry["compile"], 2)}
            gflops = item["samples_per_s"]["median"] * flops / 1e9
            item["recurrent_gflops"] = round(gflops, 2)
            item["share_of_peak"] = round(gflops / peak, 4) if peak else None
            if side.startswith("rnnlab"):
                item["ratio_vs"] = {peer: ratio(entry["rate"], per_side[peer, model]["rate"])
                                    for peer in (*PEERS, "rnnlab, Keras layers") if per_side[peer, model]["rate"]}
                if side != "rnnlab":
                    item["ratio_vs"]["rnnlab"] = ratio(entry["rate"], base["rate"])
            results.append(item)
            vs = item.get("ratio_vs", {})
            rows.append([model if side == "rnnlab" else "", side, entry["params"], item["samples_per_s"]["median"],
                         item["compile_s"]["median"], f"{gflops:.1f}", f"{100 * gflops / peak:.1f}" if peak else "",
                         _x(vs.get("textbook, Keras-TF")), _x(vs.get("textbook, Keras-JAX")), _x(vs.get("PyTorch")),
                         _x(vs.get("rnnlab, Keras layers")) if side != "rnnlab, Keras layers" else ""])
    text = table(f"Training throughput ({samples:,} IMDB reviews, maxlen 200, batch 128; second-epoch samples/s, "
                 f"median of {rounds} rounds)",
                 ["model", "side", "params", "samples/s", "compile s", "GFLOP/s", "% peak", "vs TF", "vs JAX",
                  "vs torch", "vs Keras layers"], rows,
                 note=f"load average during the rounds: {min(loads):.2f}-{max(loads):.2f}; "
                      "ratios are medians of per-round ratios (rnnlab rows only)")
    return {"samples": samples, "results": results, "load": summary(loads, 2), "tables": [text]}


def _x(r) -> str:
    return "" if r is None else f"{r['median']:.2f}x"
