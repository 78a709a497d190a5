"""Helpers of the scale-out tests: Ray in a private network namespace, real reviews as CSV files."""

from __future__ import annotations

import csv
import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from rnnlab.data import load_imdb

HERE = Path(__file__).resolve().parent


def isolated(argv: list[str], *, timeout: int, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run `argv` in a new network namespace with only loopback up (needs root, unshare and ip)."""
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
        message = "Ray tests run in a private network namespace: they need root, unshare and ip"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    script = "ip link set lo up && exec " + shlex.join(argv)
    return subprocess.run(["unshare", "-n", "sh", "-c", script], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd, env={**os.environ, "RNNLAB_PROGRESS": "lines"})


def result_line(process: subprocess.CompletedProcess) -> dict:
    lines = [line for line in process.stdout.splitlines() if line.startswith("RESULT ")]
    assert process.returncode == 0 and lines, process.stdout[-3000:] + process.stderr[-3000:]
    return json.loads(lines[-1][len("RESULT "):])


def write_csv(path: Path, rows, header=("review", "sentiment")) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def imdb_rows(count: int = 1000, seed: int = 5) -> list[tuple[str, str]]:
    """Real IMDB training reviews as (text, positive/negative) rows."""
    data = load_imdb("train").sample(count, seed=seed)
    names = {0: "negative", 1: "positive"}
    return [(text, names[int(label)]) for text, label in zip(data.texts, data.labels)]


