"""ONNX exports against rnnlab's own JAX path: are their probabilities the same, and which is faster?

For each textbook model (and a masked max-pooled GRU and a BiGRU with attention), a bundle is trained
on 2,000 IMDB reviews for one epoch (speed depends on the architecture, not on how well it learnt),
exported with `rnnlab.inference.export.export_bundle`, and both are read side by side in one
process:

* equality: the export's reader (token ids in plain Python, onnxruntime) against `Bundle.predict_proba`
  on ``--texts`` IMDB test reviews: the token ids must be equal, and the largest probability difference
  is reported;
* speed, at batch 1 and 32, the median of ``--calls`` calls, interleaved: texts to probabilities
  (`Bundle.predict_proba`: tokenize, rnnlab's compiled forward pass with its recurrent kernels, length
  buckets for masked models, temperature) against the reader's ``probabilities`` (its own tokenizer,
  onnxruntime on the full padded length); and the model alone on the same ids (the compiled JAX
  function against ``InferenceSession.run``).

    .venv/bin/python benchmarks/onnx_speed.py [--out runs/onnx_speed.json] [--texts 1000] [--calls 50]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np


def median_ms(fn, calls: int) -> float:
    fn()  # compiled, warmed
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return round(1000 * statistics.median(times), 3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/onnx_speed.json")
    parser.add_argument("--texts", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--folder", default="runs/onnx_speed")
    args = parser.parse_args()
    import rnnlab  # noqa: F401  (the Keras backend first)
    from rnnlab.encoding.prepare import load_splits, prepare
    from rnnlab.inference.bundle import Bundle
    from rnnlab.inference.export import export_bundle
    from rnnlab.inference.onnx_reader import Reader
    from rnnlab.models import ModelSpec, get
    from rnnlab.training import TrainingConfig
    from rnnlab.training.engine import fit

    train, test = load_splits("imdb", seed=0, limit=2_000)
    texts = load_splits("imdb", seed=0)[1].sample(args.texts, seed=1).texts
    models = {name: get(name).spec for name in ("rnn", "lstm", "gru", "bilstm", "stacked-lstm")}
    models["gru-max-masked"] = ModelSpec(name="gru-max", cell="gru", units=32, mask_zero=True, pooling="max",
                                         embedding_dim=64, optimizer="adam")
    models["bigru-attention"] = ModelSpec(name="bigru-attention", cell="gru", units=32, bidirectional=True,
                                          mask_zero=True, pooling="attention", embedding_dim=64, optimizer="adam")
    rows, folder = {}, Path(args.folder)
    for name, spec in models.items():
        data = prepare(train, test, vocab_size=spec.vocab_size, maxlen=spec.maxlen, validation_split=0.2, seed=0)
        fit(spec, data, TrainingConfig(epochs=1, batch_size=64), verbose=0).save(folder / name)
        started = time.perf_counter()
        written = export_bundle(folder / name, folder / f"{name}-onnx")
        export_seconds = round(time.perf_counter() - started, 1)
        bundle, reader = Bundle.load(folder / name), Reader(folder / f"{name}-onnx")
        ids_equal = bool(np.array_equal(np.asarray(reader.ids(texts)), bundle.preprocessor.transform(texts)))
        difference = float(np.abs(reader.probabilities(texts) - bundle.predict_proba(texts)).max())
        row = {"params": bundle.model.count_params(), "export_seconds": export_seconds, "bytes": written["bytes"],
               "ids_equal": ids_equal, "largest_difference": difference, "texts": len(texts)}
        session = reader._session
        for batch in (1, 32):
            some = texts[:batch]
            ids = bundle.preprocessor.transform(some)
            row[f"batch_{batch}"] = {
                "rnnlab_texts_ms": median_ms(lambda: bundle.predict_proba(some), args.calls),
                "onnx_texts_ms": median_ms(lambda: reader.probabilities(some), args.calls),
                "rnnlab_model_ms": median_ms(lambda: bundle.predictor.forward(ids), args.calls),
                "onnx_model_ms": median_ms(lambda: session.run(None, {reader.spec["input"]: ids.astype("int32")}),
                                           args.calls),
            }
        rows[name] = row
        print(name, json.dumps(row), flush=True)
    report = {"rows": rows, "load_average": os.getloadavg(), "calls": args.calls,
              "command": f"benchmarks/onnx_speed.py --texts {args.texts} --calls {args.calls}"}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2))
    print("| model | ids equal | largest diff. | b1 rnnlab ms | b1 ONNX ms | b32 rnnlab ms | b32 ONNX ms | "
          "b1 model: JAX / ORT ms | b32 model: JAX / ORT ms |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in rows.items():
        b1, b32 = r["batch_1"], r["batch_32"]
        print(f"| {name} | {'yes' if r['ids_equal'] else 'NO'} | {r['largest_difference']:.1e} | "
              f"{b1['rnnlab_texts_ms']} | {b1['onnx_texts_ms']} | {b32['rnnlab_texts_ms']} | {b32['onnx_texts_ms']} | "
              f"{b1['rnnlab_model_ms']} / {b1['onnx_model_ms']} | {b32['rnnlab_model_ms']} / {b32['onnx_model_ms']} |")
    print(json.dumps({"load_average": report["load_average"]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
