"""Helpers of the scale-out tests: Ray in a private network namespace, real reviews as CSV files."""

from __future__ import annotations

import csv
import functools
import importlib.abc
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rnnlab.data import load_imdb

HERE = Path(__file__).resolve().parent


# Set by `isolated` inside the namespace it makes: the namespace's id (``net:[inode]``).
NAMESPACE_ENV = "RNNLAB_TEST_NETNS"


def isolated(argv: list[str], *, timeout: int, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run `argv` in new network and PID namespaces with only loopback up (needs root, unshare and ip).

    `sh` is PID 1 of the new PID namespace and `argv` its child (Ray takes a parent PID of 1 for
    a dead parent). ``--kill-child`` kills that PID 1 when `unshare` dies, and the kernel then
    kills every process in the namespace: a timeout leaves no Ray daemon behind. ``--mount-proc``
    gives the namespace its own /proc, so PIDs read there (psutil, Ray) are the namespace's.
    """
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
        message = "Ray tests run in a private network namespace: they need root, unshare and ip"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    script = f'ip link set lo up && {NAMESPACE_ENV}="$(readlink /proc/self/ns/net)" && export {NAMESPACE_ENV} && "$@"'
    return subprocess.run(["unshare", "--net", "--pid", "--fork", "--kill-child", "--mount-proc",
                           "sh", "-c", script, "sh", *argv], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd, env={**os.environ, "RNNLAB_PROGRESS": "lines"})


def inside_namespace() -> bool:
    """Whether this process runs in the network namespace `isolated` made (not merely with its variable set)."""
    expected = os.environ.get(NAMESPACE_ENV)
    try:
        return bool(expected) and os.readlink("/proc/self/ns/net") == expected
    except OSError:
        return False


def guard_ray_init(ray) -> None:
    """Make `ray.init` an error outside `isolated`'s namespace: Ray there would bind the host's network."""
    init = ray.init
    if getattr(init, "_needs_namespace", False):
        return

    @functools.wraps(init)
    def guarded(*args, **kwargs):
        if not inside_namespace():
            raise RuntimeError("ray.init outside a private network namespace: start Ray in tests through "
                               "raytools.isolated")
        return init(*args, **kwargs)

    guarded._needs_namespace = True
    ray.init = guarded


class RayImportGuard(importlib.abc.MetaPathFinder):
    """On sys.meta_path: applies `guard_ray_init` as Ray is imported, so a test session that never
    uses Ray does not pay for importing it."""

    def find_spec(self, name, path=None, target=None):
        if name != "ray":
            return None
        sys.meta_path.remove(self)  # one import of Ray per process; find the real module without us
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        load = spec.loader.exec_module

        def load_and_guard(module):
            load(module)
            guard_ray_init(module)

        spec.loader.exec_module = load_and_guard
        return spec


def install_ray_guard() -> None:
    """Guard `ray.init` in this process, now if Ray is imported, else when it is."""
    if "ray" in sys.modules:
        guard_ray_init(sys.modules["ray"])
    elif not any(isinstance(finder, RayImportGuard) for finder in sys.meta_path):
        sys.meta_path.insert(0, RayImportGuard())


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


