"""Compile time and training time at each LLVM optimisation level XLA can generate CPU code with.

    .venv/bin/python benchmarks/xla_level.py                 # levels 3 (XLA's default), 1 and 0
    .venv/bin/python benchmarks/xla_level.py --levels 3 1 --rounds 2

The test suite compiles far more than it runs, so it sets ``--xla_backend_optimization_level=1``
(tests/conftest.py). This is the measurement behind that choice. Each level runs in a fresh
process with no compilation cache, interleaved over ``--rounds``, and reports:

- ``compile_s``: seconds in XLA compilation while a small masked BiLSTM and BiGRU are each
  built, fitted for one epoch (256 rows of 80 ids, 20% validation) and asked to predict;
- ``train_s`` and ``test_accuracy``: the textbook LSTM trained by ``rnnlab.training.engine.train``
  on 5,000 IMDB reviews for 4 epochs (needs the IMDB archive; ``--no-train`` skips it).

It prints one JSON object (figures per level, the load average before each round, versions).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

CHILD = r"""
import json, sys, tempfile, time
import numpy as np
import keras
from jax._src import compiler

spent = [0.0]
original = compiler.backend_compile_and_load

def timed(*args, **kwargs):
    started = time.perf_counter()
    try:
        return original(*args, **kwargs)
    finally:
        spent[0] += time.perf_counter() - started

compiler.backend_compile_and_load = timed
rng = np.random.default_rng(0)
x, y = rng.integers(1, 1000, (256, 80)), rng.integers(0, 2, 256)
for cell in (keras.layers.LSTM, keras.layers.GRU):
    model = keras.Sequential([keras.Input((80,)), keras.layers.Embedding(1000, 16, mask_zero=True),
                              keras.layers.Bidirectional(cell(8)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=1, batch_size=32, validation_split=0.2, verbose=0)
    model.predict(x, verbose=0)
found = {"compile_s": round(spent[0], 2)}
if sys.argv[1] == "train":
    from rnnlab.training.engine import train
    started = time.perf_counter()
    result = train("lstm", out=tempfile.mkdtemp(), limit=5000, epochs=4, seed=1, verbose=0)
    found.update(train_s=round(time.perf_counter() - started, 1), test_accuracy=result.test_accuracy)
print(json.dumps(found))
"""


def run_level(level: int, train: bool) -> dict:
    env = {**os.environ, "KERAS_BACKEND": "jax", "XLA_FLAGS": f"--xla_backend_optimization_level={level}"}
    env.pop("JAX_COMPILATION_CACHE_DIR", None)  # compile every time: that is what is measured
    done = subprocess.run([sys.executable, "-c", CHILD, "train" if train else "compile"], env=env,
                          capture_output=True, text=True, timeout=1800, cwd=tempfile.gettempdir())
    if done.returncode != 0:
        raise SystemExit(f"level {level} failed: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=int, nargs="+", default=[3, 1, 0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--no-train", action="store_true", help="only the compile-time part")
    args = parser.parse_args(argv)

    from importlib.metadata import version

    rounds = []
    for index in range(args.rounds):
        for level in args.levels:
            print(f"round {index + 1}, level {level}", file=sys.stderr, flush=True)
            load = os.getloadavg()[0]
            rounds.append({"round": index + 1, "level": level, "load_average": round(load, 2),
                           **run_level(level, not args.no_train)})
    print(json.dumps({"rounds": rounds, "versions": {name: version(name) for name in ("jax", "jaxlib", "keras")},
                      "cpus": os.cpu_count()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
