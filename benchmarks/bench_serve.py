"""Latency and throughput of `rnnlab serve` against a real server on the loopback interface.

For each bundle given, a server is started in its own process (`rnnlab.serve.run`), warmed
up by its own start-up, then measured with one keep-alive HTTP client:

- single: one review per `POST /v1/predict`, latency p50/p95/p99;
- batch: `--batch-size` reviews per request, reviews per second;
- explain: one review per `POST /v1/explain` (occlusion: one model call of tokens + 1 rows).

Every loop is bounded by a request count and by `--max-seconds`, so a run always ends.
Reviews are real IMDB test reviews when the data is available, else a few built-in ones.

    python benchmarks/bench_serve.py runs/lstm runs/gru --out runs/bench_serve.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

FALLBACK_REVIEWS = [
    "An excellent movie! The acting was wonderful and the story moving.",
    "Don't watch this movie: poor acting, poor script, bad direction.",
    "The first hour is great fun, but the plot falls apart and the ending is dull.",
    "I expected more from this director. Some good scenes, too many slow ones.",
]
SERVER = ("import sys; from rnnlab.serve import run; "
          "run(sys.argv[1], port=int(sys.argv[2]), batching=sys.argv[3] == 'on', log_level='warning')")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load_reviews(n: int, seed: int = 0) -> tuple[list[str], str]:
    try:
        from rnnlab.data import load_dataset

        return list(load_dataset("imdb", "test").sample(n, seed=seed).texts), "imdb test"
    except Exception as exc:  # no data here: the built-in reviews still exercise the server
        print(f"IMDB not available ({exc}); using {len(FALLBACK_REVIEWS)} built-in reviews", file=sys.stderr)
        return FALLBACK_REVIEWS, "built-in"


def start_server(bundle: Path, port: int, timeout: float, batching: bool = True) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(bundle), str(port), "on" if batching else "off"],
                            start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server for {bundle} exited with status {proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    stop_server(proc)
    raise RuntimeError(f"server for {bundle} did not answer within {timeout:.0f} s")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def timed_requests(client: httpx.Client, path: str, bodies, count: int, max_seconds: float) -> list[float]:
    """Seconds per request for up to `count` requests or `max_seconds`, whichever ends first."""
    times = []
    stop_at = time.perf_counter() + max_seconds
    for i in range(count):
        body = bodies(i)
        started = time.perf_counter()
        response = client.post(path, json=body)
        elapsed = time.perf_counter() - started
        response.raise_for_status()
        times.append(elapsed)
        if started > stop_at:
            break
    return times


def percentiles_ms(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {"n": int(len(ms)), "mean_ms": float(ms.mean()), "p50_ms": float(np.percentile(ms, 50)),
            "p95_ms": float(np.percentile(ms, 95)), "p99_ms": float(np.percentile(ms, 99))}


def bench_bundle(bundle: Path, reviews: list[str], args) -> dict:
    port = free_port()
    started = time.perf_counter()
    proc = start_server(bundle, port, args.start_timeout)
    startup = time.perf_counter() - started
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            card = client.get("/v1/model").json()
            single = lambda i: {"texts": [reviews[i % len(reviews)]]}  # noqa: E731
            timed_requests(client, "/v1/predict", single, args.warmup, args.max_seconds)
            latency = timed_requests(client, "/v1/predict", single, args.requests, args.max_seconds)
            size = args.batch_size
            batch = lambda i: {"texts": [reviews[(i * size + j) % len(reviews)] for j in range(size)]}  # noqa: E731
            batch_times = timed_requests(client, "/v1/predict", batch, args.batches, args.max_seconds)
            explain = lambda i: {"text": reviews[i % len(reviews)]}  # noqa: E731
            explain_times = timed_requests(client, "/v1/explain", explain, args.explain, args.max_seconds)
    finally:
        stop_server(proc)
    return {
        "bundle": str(bundle),
        "model": card["name"],
        "params": card["params"],
        "maxlen": card["maxlen"],
        "backend": card["backend"],
        "startup_s": startup,
        "single": percentiles_ms(latency),
        "batch": {**percentiles_ms(batch_times), "batch_size": size,
                  "reviews_per_s": size * len(batch_times) / float(np.sum(batch_times))},
        "explain": percentiles_ms(explain_times),
    }


def print_table(rows: list[dict]) -> None:
    header = (f"{'model':<22}{'params':>10}{'start s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
              f"{'batch p50 ms':>14}{'reviews/s':>11}{'explain p50':>13}{'explain p95':>13}")
    print(header)
    print("-" * len(header))
    for r in rows:
        s, b, e = r["single"], r["batch"], r["explain"]
        print(f"{r['model']:<22}{r['params']:>10,}{r['startup_s']:>9.1f}{s['p50_ms']:>9.2f}{s['p95_ms']:>9.2f}"
              f"{s['p99_ms']:>9.2f}{b['p50_ms']:>14.1f}{b['reviews_per_s']:>11.0f}{e['p50_ms']:>13.2f}"
              f"{e['p95_ms']:>13.2f}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundles", nargs="+", type=Path, help="bundle folders to serve and measure")
    parser.add_argument("--requests", type=int, default=500, help="single-review requests (default 500)")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured requests first (default 20)")
    parser.add_argument("--batches", type=int, default=40, help="batch requests (default 40)")
    parser.add_argument("--batch-size", type=int, default=64, help="reviews per batch request (default 64)")
    parser.add_argument("--explain", type=int, default=100, help="explain requests (default 100)")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="time cap of each loop (default 60)")
    parser.add_argument("--start-timeout", type=float, default=300.0, help="seconds to wait for a server")
    parser.add_argument("--reviews", type=int, default=500, help="distinct reviews to send (default 500)")
    parser.add_argument("--out", type=Path, default=Path("runs/bench_serve.json"), help="JSON results file")
    args = parser.parse_args(argv)

    reviews, source = load_reviews(args.reviews)
    rows = []
    for bundle in args.bundles:
        print(f"measuring {bundle} ...", file=sys.stderr)
        rows.append(bench_bundle(bundle, reviews, args))
    print_table(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result = {"reviews": source, "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                                             "python": platform.python_version()}, "rows": rows}
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"results written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
