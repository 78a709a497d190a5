"""Concurrent clients against `rnnlab serve` on loopback, with and without cross-request batching.

One server process per mode (batching on, batching off) is started on 127.0.0.1 and warmed
up; then, the modes taking turns, for each client count (default 1, 8, 32, 128) that many keep-alive connections send
one real IMDB test review per `POST /v1/predict` request, back to back, for `--seconds`
(default 30), driven by wrk (C, two threads: a Python client this busy would measure itself).
Reported per level: requests, failed requests (connect/read/write/timeout errors and non-2xx
answers), p50/p95/p99 latency and reviews per second. wrk shares the machine with the server
(two cores here).

    python benchmarks/bench_load.py runs/textbook/best --out runs/bench_load.json --markdown runs/bench_load.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


sys.path.insert(0, str(Path(__file__).parent))
from bench_serve import free_port, load_reviews, start_server, stop_server  # noqa: E402

WRK_SCRIPT = r"""
local bodies = {}
for line in io.lines(os.getenv("RNNLAB_BODIES")) do bodies[#bodies + 1] = line end
local i = math.random(#bodies)
request = function()
  i = i + 1
  return wrk.format("POST", "/v1/predict", {["Content-Type"] = "application/json"}, bodies[(i % #bodies) + 1])
end
done = function(summary, latency, requests)
  local f = io.open(os.getenv("RNNLAB_WRK_OUT"), "w")
  f:write(string.format('{"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d}',
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout, latency:percentile(50), latency:percentile(95),
    latency:percentile(99)))
  f:close()
end
"""


def level(url: str, clients: int, bodies: Path, seconds: float, work: Path) -> dict:
    """`clients` connections sending one review per request, back to back, for `seconds` (wrk)."""
    script, out = work / "load.lua", work / "wrk.json"
    script.write_text(WRK_SCRIPT)
    out.unlink(missing_ok=True)
    threads = min(clients, 2)
    env = {**os.environ, "RNNLAB_BODIES": str(bodies), "RNNLAB_WRK_OUT": str(out)}
    subprocess.run(["wrk", "-t", str(threads), "-c", str(clients), "-d", f"{seconds:g}s", "--timeout", "60s",
                    "-s", str(script), url], env=env, check=True, capture_output=True, timeout=seconds + 120)
    w = json.loads(out.read_text())
    failed = w["connect"] + w["read"] + w["write"] + w["status"] + w["timeout"]
    elapsed = w["duration_us"] / 1e6
    return {"clients": clients, "requests": w["requests"], "failed": failed,
            "failures": {k: w[k] for k in ("connect", "read", "write", "status", "timeout") if w[k]},
            "seconds": round(elapsed, 2), "p50_ms": round(w["p50_us"] / 1000, 2),
            "p95_ms": round(w["p95_us"] / 1000, 2), "p99_ms": round(w["p99_us"] / 1000, 2),
            "reviews_per_s": round((w["requests"] - failed) / elapsed, 1)}


def bench(bundle: Path, modes: list[bool], bodies: Path, args) -> list[dict]:
    """Both servers up at once; each client count is run against each mode in turn (interleaved,
    so the machine's drift hits both modes alike)."""
    servers = {}
    try:
        for batching in modes:
            port = free_port()
            servers[batching] = (start_server(bundle, port, args.start_timeout, batching), f"http://127.0.0.1:{port}")
            level(servers[batching][1], 4, bodies, 2.0, bodies.parent)  # warm connections and caches
        rows = {batching: [] for batching in modes}
        for clients in args.clients:
            for batching in modes:
                row = level(servers[batching][1], clients, bodies, args.seconds, bodies.parent)
                row["load_average"] = round(os.getloadavg()[0], 2)
                print(f"batching {'on ' if batching else 'off'} {json.dumps(row)}", flush=True)
                rows[batching].append(row)
    finally:
        for proc, _ in servers.values():
            stop_server(proc)
    return [{"batching": batching, "levels": rows[batching]} for batching in modes]


def markdown(result: dict) -> str:
    lines = ["| batching | clients | requests | failed | p50 ms | p95 ms | p99 ms | reviews/s | load avg |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for mode in result["modes"]:
        for r in mode["levels"]:
            lines.append(f"| {'on' if mode['batching'] else 'off'} | {r['clients']} | {r['requests']:,} | "
                         f"{r['failed']} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | "
                         f"{r['reviews_per_s']:,.0f} | {r['load_average']} |")
    on = {r["clients"]: r for r in result["modes"][0]["levels"]}
    off = {r["clients"]: r for r in result["modes"][1]["levels"]} if len(result["modes"]) > 1 else {}
    ratios = [f"{c} clients: {on[c]['reviews_per_s'] / off[c]['reviews_per_s']:.2f}x"
              for c in on if c in off and off[c]["reviews_per_s"]]
    if ratios:
        lines.append("")
        lines.append("Throughput with batching / without: " + ", ".join(ratios) + ".")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--clients", type=lambda s: [int(x) for x in s.split(",")], default=[1, 8, 32, 128])
    parser.add_argument("--seconds", type=float, default=30.0, help="per level (default 30)")
    parser.add_argument("--modes", default="on,off", help="batching modes to run, in order (default on,off)")
    parser.add_argument("--start-timeout", type=float, default=180.0)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk not found: install it (Debian: apt-get install wrk); `make bench-load` does.")
    reviews, source = load_reviews(2000)
    with tempfile.TemporaryDirectory() as work:
        bodies = Path(work) / "bodies.jsonl"
        bodies.write_text("".join(json.dumps({"texts": [r]}) + "\n" for r in reviews))
        modes = bench(args.bundle, [mode == "on" for mode in args.modes.split(",")], bodies, args)
    result = {"command": " ".join(["python", *sys.argv]), "reviews": source, "machine": platform.platform(),
              "cpus": os.cpu_count(), "python": platform.python_version(), "modes": modes}
    table = markdown(result)
    print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1))
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(table)


if __name__ == "__main__":
    main()
