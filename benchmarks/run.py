"""Run the benchmarks: one table per benchmark, one JSON file per day in benchmarks/results/.

    python benchmarks/run.py                      # all of them (what `make bench` runs)
    python benchmarks/run.py --bench preprocess   # one (`make bench BENCH=preprocess`)
    python benchmarks/run.py --quick              # small inputs, one round: checks the harness

Benchmarks: preprocess, train, predict, time_to_accuracy. Run from the benchmark environment
(.venv-bench, made by `make bench`), which adds TensorFlow and keras-preprocessing for the
textbook's code; rnnlab's own side runs in the project environment (.venv) in a worker
process. Each figure is the median of ``--rounds`` interleaved rounds; every run records the
machine, the versions and the load average, and running one benchmark updates its section of
the day's file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, WORK, Worker, load_average, machine, versions, wait_for_quiet  # noqa: E402

BENCHMARKS = ("preprocess", "train", "predict", "time_to_accuracy")
RESULTS = ROOT / "benchmarks" / "results"
RNNLAB_PYTHON = ROOT / ".venv" / "bin" / "python"
XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
WORKERS = {
    # key: (module, environment, python: None = this one)
    "rnnlab": ("rnnlab_worker", {}, RNNLAB_PYTHON),
    "rnnlab-1thread": ("rnnlab_worker", {"XLA_FLAGS": XLA_ONE_THREAD}, RNNLAB_PYTHON),
    "rnnlab-keras": ("rnnlab_worker", {"RNNLAB_RECURRENT_KERNEL": "keras"}, RNNLAB_PYTHON),
    "textbook-tf": ("peers.textbook_worker", {"KERAS_BACKEND": "tensorflow"}, None),
    "textbook-jax": ("peers.textbook_worker", {"KERAS_BACKEND": "jax"}, None),
    "torch": ("peers.torch_worker", {}, None),
}


class Workers:
    """Worker processes started on first use, kept for the whole run."""

    def __init__(self):
        self.started: dict[str, Worker] = {}

    def __call__(self, key: str) -> Worker:
        if key not in self.started:
            module, env, python = WORKERS[key]
            if python is not None and not Path(python).exists():
                raise SystemExit(f"{python} is missing: run `make install-dev` (or `make bench`) first")
            self.started[key] = Worker(module, env=env, python=str(python) if python else None, name=key)
        return self.started[key]

    def info(self) -> dict:
        return {key: worker.call("info") for key, worker in self.started.items()}

    def close(self) -> None:
        for worker in self.started.values():
            worker.close()


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bench", default="", help=f"comma-separated subset of: {', '.join(BENCHMARKS)}")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per figure (default 3)")
    parser.add_argument("--quick", action="store_true", help="small inputs and one round: a smoke test")
    parser.add_argument("--max-load", type=float, default=1.5,
                        help="wait before each benchmark until the load average is at most this (default 1.5)")
    parser.add_argument("--max-wait", type=float, default=0.0,
                        help="seconds to wait for that at most (default 0: start at once, the load is recorded)")
    parser.add_argument("--out", type=Path, help="JSON file (default benchmarks/results/<date>.json)")
    args = parser.parse_args(argv)
    chosen = [b.strip().replace("-", "_") for b in args.bench.split(",") if b.strip()] or list(BENCHMARKS)
    unknown = [b for b in chosen if b not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    if not os.environ.get("RNNLAB_DATA_DIR"):
        parser.error("set RNNLAB_DATA_DIR to the folder holding aclImdb_v1.tar.gz (the Makefile does)")
    rounds = 1 if args.quick else args.rounds
    out = args.out or RESULTS / (time.strftime("%Y-%m-%d") + ("-quick" if args.quick else "") + ".json")
    WORK.mkdir(parents=True, exist_ok=True)
    report = json.loads(out.read_text()) if out.exists() else {}
    report.update({"updated": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine(),
                   "versions_bench_env": versions(), "quick": args.quick, "rounds": rounds})
    report.setdefault("benchmarks", {})
    workers = Workers()
    tables = []
    try:
        for name in chosen:
            load = wait_for_quiet(args.max_load, args.max_wait, log) if args.max_wait else load_average()
            log(f"{name}: starting (load average {load})")
            started = time.time()
            module = __import__(f"bench_{name}")
            result = module.run({"workers": workers, "rounds": rounds, "quick": args.quick, "log": log})
            result.update({"started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
                           "wall_seconds": round(time.time() - started, 1), "load_before": load,
                           "load_after": load_average()})
            report["benchmarks"][name] = result
            tables += result["tables"]
            print("\n" + "\n\n".join(result["tables"]) + "\n", flush=True)
            report["workers"] = {**report.get("workers", {}), **workers.info()}
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    finally:
        workers.close()
    log(f"results written to {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
