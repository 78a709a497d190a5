"""What every benchmark shares: machine facts, repeated timings, worker processes, tables.

Comparisons are measured in one run with the two sides interleaved (A, B, A, B, ...), so
that drift in the machine's load hits both; a ratio is the median of the per-round ratios.
Work that needs another Keras backend (the textbook code on TensorFlow) or another library
(PyTorch) runs in a long-lived worker process per side, driven one command at a time, so
interleaving does not pay a process start and an import per measurement.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "runs" / "bench"  # bundles, encoded subsets: regenerated when missing
RESULT_MARK = "@@result "
PACKAGES = ("rnnlab", "keras", "jax", "jaxlib", "tensorflow-cpu", "torch", "nltk", "numpy", "scikit-learn",
            "keras-preprocessing")


# -- machine ---------------------------------------------------------------------------------

def load_average() -> float:
    """The one-minute load average (other jobs sharing the CPU show here)."""
    return round(os.getloadavg()[0], 2)


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def memory_gb() -> float | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return round(int(line.split()[1]) / 2**20, 1)
    return None


def peak_gflops() -> float | None:
    """This CPU's single-precision peak: cores x clock x FLOPs a cycle (32 with AVX2 and FMA: two
    8-wide fused multiply-adds; 16 with AVX; 8 otherwise). A ceiling, never reached by real code."""
    with contextlib.suppress(OSError, ValueError):
        text = Path("/proc/cpuinfo").read_text()
        mhz = next(float(line.split(":", 1)[1]) for line in text.splitlines() if line.startswith("cpu MHz"))
        flags = next(line for line in text.splitlines() if line.startswith("flags")).split()
        per_cycle = 32 if {"avx2", "fma"} <= set(flags) else 16 if "avx" in flags else 8
        return round((os.cpu_count() or 1) * mhz * per_cycle / 1000, 1)
    return None


def machine() -> dict:
    return {"platform": platform.platform(), "cpu": cpu_model(), "cores": os.cpu_count(),
            "memory_gb": memory_gb(), "python": platform.python_version(), "peak_gflops": peak_gflops()}


def versions() -> dict[str, str]:
    """Installed versions, read from package metadata (importing TensorFlow takes seconds)."""
    found = {}
    for name in PACKAGES:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found[name] = importlib.metadata.version(name)
    return found


def wait_for_quiet(max_load: float, max_wait: float, log=print) -> float:
    """Wait (up to ``max_wait`` seconds) until the load average is at most ``max_load``."""
    deadline = time.monotonic() + max_wait
    load = load_average()
    while load > max_load and time.monotonic() < deadline:
        log(f"  load average {load} > {max_load}: waiting for other jobs to finish...")
        time.sleep(30)
        load = load_average()
    return load


# -- numbers ---------------------------------------------------------------------------------

def summary(values: list[float], digits: int = 4) -> dict:
    """Median of repeated measurements, with the spread and the raw values."""
    values = [float(v) for v in values]
    return {"median": round(statistics.median(values), digits), "min": round(min(values), digits),
            "max": round(max(values), digits), "runs": [round(v, digits) for v in values]}


def ratio(numerators: list[float], denominators: list[float]) -> dict:
    """Per-round ratios of interleaved measurements and their median."""
    return summary([a / b for a, b in zip(numerators, denominators)], digits=3)


class StopClock:
    """Wall time with pauses: time spent evaluating is not counted against training."""

    def __init__(self):
        self.started = time.perf_counter()
        self.paused = 0.0

    def elapsed(self) -> float:
        return time.perf_counter() - self.started - self.paused

    @contextlib.contextmanager
    def pause(self):
        began = time.perf_counter()
        try:
            yield
        finally:
            self.paused += time.perf_counter() - began


# -- worker processes ------------------------------------------------------------------------

class Worker:
    """A Python process running ``module`` as a command loop: one JSON command in, one JSON out.

    The worker module calls :func:`serve` with a dict of handlers. Its own output (Keras
    progress, TensorFlow start-up lines) goes to stderr, shown only on failure.
    """

    def __init__(self, module: str, env: dict | None = None, python: str | None = None, name: str = ""):
        self.name = name or module
        full_env = {**os.environ, "PYTHONPATH": str(ROOT / "benchmarks"), **(env or {})}
        self.log = open(WORK / f"worker-{self.name}.log", "w", encoding="utf-8")  # noqa: SIM115
        self.proc = subprocess.Popen([python or sys.executable, "-u", "-m", module], cwd=ROOT, env=full_env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True)

    def call(self, command: str, **args) -> dict:
        self.proc.stdin.write(json.dumps({"command": command, **args}) + "\n")
        self.proc.stdin.flush()
        for line in self.proc.stdout:
            if line.startswith(RESULT_MARK):
                reply = json.loads(line[len(RESULT_MARK):])
                if "error" in reply:
                    raise RuntimeError(f"{self.name}: {command} failed: {reply['error']}\n"
                                       f"(see {self.log.name})")
                return reply
        raise RuntimeError(f"worker {self.name} exited with status {self.proc.wait()} (see {self.log.name})")

    def close(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(OSError, ValueError):
                self.proc.stdin.close()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def serve(handlers: dict) -> None:
    """The worker side of :class:`Worker`: answer commands read from stdin until it closes."""
    out = sys.stdout
    sys.stdout = sys.stderr  # anything else printed goes to the log, not into the replies
    for line in sys.stdin:
        request = json.loads(line)
        command = request.pop("command")
        try:
            reply = handlers[command](**request)
        except Exception as exc:  # reported to the driver, which stops with the message
            import traceback

            traceback.print_exc()
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        out.write(RESULT_MARK + json.dumps(reply) + "\n")
        out.flush()


# -- tables ----------------------------------------------------------------------------------

def table(title: str, header: list[str], rows: list[list], note: str = "") -> str:
    """A plain-text table: first column left-aligned, the others right-aligned."""
    cells = [[str(c) for c in header]] + [[_cell(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = [title, "=" * len(title)]
    for k, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    if note:
        lines.append(note)
    return "\n".join(lines)


def _cell(value) -> str:
    if isinstance(value, float):
        if value >= 100:
            return f"{value:,.0f}"
        if value >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}" if value >= 0.1 else f"{value:.3f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "-" if value is None else str(value)
