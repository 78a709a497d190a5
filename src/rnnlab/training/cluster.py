"""Where work runs: this process, Ray started on this machine, or a running Ray cluster.

Sweeps (`rnnlab.experiments.sweeps.runner`), searches (`rnnlab.experiments.recipes.tune`) and batch
prediction (`rnnlab.inference.batch`) all connect the same way: no address starts Ray in
this process for the length of the job (nothing to set up on a laptop); an address
(``HOST:PORT`` or ``"auto"``) joins a cluster started with ``ray start --head``. Every node of
a cluster needs rnnlab installed in the same environment, and the data under the same path.

Ray is imported only here and only when a job asks for it: a one-run job pays nothing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
from dataclasses import dataclass

from rnnlab.errors import InvalidInputError, RnnlabError

# Retries of a task whose worker process or node died (Ray's own default is 3 as well).
TASK_RETRIES = 3
MAX_ERROR_CHARS = 4000


def thread_environment(threads: int) -> dict[str, str]:
    """Environment for a worker process allowed `threads` cores, on this process's Keras backend.

    Each backend would otherwise start a thread per core in every worker, and workers
    sharing a machine would spend their time contending for the same cores.
    """
    threads = max(1, int(threads))
    env = {name: str(threads) for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    if threads == 1:
        flags = os.environ.get("XLA_FLAGS", "")
        if "xla_cpu_multi_thread_eigen" not in flags:
            env["XLA_FLAGS"] = f"{flags} --xla_cpu_multi_thread_eigen=false".strip()
    env["RNNLAB_WORKER_THREADS"] = str(threads)
    env["KERAS_BACKEND"] = os.environ.get("KERAS_BACKEND", "jax")
    return env


@dataclass(frozen=True)
class Placement:
    """How a job's tasks are placed: in this process, or as Ray tasks with an allowance each."""

    on_ray: bool
    workers: int | None = 1
    cpus_per_run: float = 1
    gpus_per_run: float = 0
    address: str | None = None
    local_cpus: int | None = None

    @classmethod
    def choose(cls, *, workers: int | None = None, cpus_per_run: float | None = None, gpus_per_run: float = 0,
               address: str | None = None) -> "Placement":
        """This process when one run at a time is asked with no cluster and no allowance; Ray otherwise."""
        if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
            raise RnnlabError(f"workers must be a positive integer, got {workers!r}.")
        if cpus_per_run is not None and not cpus_per_run > 0:
            raise InvalidInputError(f"--cpus-per-run must be above 0, got {cpus_per_run!r}.")
        if not gpus_per_run >= 0:
            raise InvalidInputError(f"--gpus-per-run must be 0 or more, got {gpus_per_run!r}.")
        address = address or None
        if address is None and (workers or 1) == 1 and cpus_per_run is None and not gpus_per_run:
            return cls(on_ray=False)
        if address is not None:
            return cls(True, workers, cpus_per_run or 1, gpus_per_run, address)
        machine = os.cpu_count() or 1
        workers = workers or 1
        cpus = cpus_per_run or max(1, machine // workers)
        if cpus > machine:
            raise InvalidInputError(f"--cpus-per-run {cpus:g} is more than this machine's {machine} cores; give at "
                                    f"most {machine}, or --address of a cluster with bigger nodes.")
        return cls(True, workers, cpus, gpus_per_run, None, max(machine, int(workers * cpus)))

    def describe(self) -> str:
        if not self.on_ray:
            return "this process"
        each = f"{self.cpus_per_run:g} CPU" + (f" + {self.gpus_per_run:g} GPU" if self.gpus_per_run else "")
        at_once = f"{self.workers} at a time" if self.workers else "as many at a time as fit"
        where = f"the Ray cluster at {self.address}" if self.address else "Ray on this machine"
        return f"{where}, {at_once}, {each} per run"

    def task(self, function, *, retries: int = TASK_RETRIES):
        """`function` as a Ray remote function with this placement's allowance and thread settings."""
        import ray

        env = thread_environment(self.cpus_per_run)
        check_fits(self.cpus_per_run, self.gpus_per_run)
        return ray.remote(function).options(num_cpus=self.cpus_per_run, num_gpus=self.gpus_per_run,
                                            max_retries=retries, runtime_env={"env_vars": env})


@contextlib.contextmanager
def connect(address: str | None = None, *, cpus: int | None = None, env: dict | None = None):
    """Ray for the length of the block: joined at `address`, or started on this machine.

    `env` is set in every worker process of the job (thread counts, the Keras backend). A Ray
    already initialised in this process (a notebook, a test's cluster) is used as it is and
    left running.
    """
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    options = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    if env:
        options["runtime_env"] = {"env_vars": dict(env)}
    try:
        if address is None:
            ray.init(address="local", num_cpus=cpus, **options)
        else:
            ray.init(address=address, **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"the Ray cluster at {address}" if address else "a Ray instance on this machine"
        hint = ("start one there with `ray start --head`, or leave out --address to use this machine"
                if address else "check that /tmp is writable and ports on 127.0.0.1 are free")
        raise RnnlabError(f"Could not reach {where} ({' '.join(str(exc).split())[:300]}); {hint}.") from None
    try:
        yield ray
    finally:
        ray.shutdown()


def import_ray():
    try:
        import ray
    except ImportError:  # pragma: no cover - ray is a dependency; a trimmed install may lack it
        raise RnnlabError("This needs Ray: pip install 'ray[data,tune]'.") from None
    return ray


def check_fits(cpus: float, gpus: float) -> None:
    """Refuse an allowance no node of the connected cluster can give (Ray would wait forever)."""
    import ray

    nodes = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")]
    if any(n.get("CPU", 0) >= cpus and n.get("GPU", 0) >= gpus for n in nodes):
        return
    biggest = max(nodes, key=lambda n: (n.get("GPU", 0), n.get("CPU", 0)), default={})
    raise InvalidInputError(
        f"No Ray node has {cpus:g} CPU(s) and {gpus:g} GPU(s) free for one run (the biggest has "
        f"{biggest.get('CPU', 0):g} CPU(s), {biggest.get('GPU', 0):g} GPU(s)); lower --cpus-per-run/--gpus-per-run.")


def result_of(ref) -> tuple[str, object]:
    """A task's returned value; a task that raised, or whose worker was lost past its retries, as a failure."""
    import ray

    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        return "failed", str(exc)[-MAX_ERROR_CHARS:]
    except ray.exceptions.RayError as exc:
        return "failed", (f"the run's worker was lost and {TASK_RETRIES} retries on other workers failed too: "
                          f"{type(exc).__name__}: {exc}")[-MAX_ERROR_CHARS:]


def where_am_i() -> dict:
    """Host, process and (inside a Ray worker) node of the code calling it, recorded with each run."""
    info = {"host": socket.gethostname(), "pid": os.getpid()}
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        with contextlib.suppress(Exception):
            info["node"] = ray.get_runtime_context().get_node_id()
    return info
