"""Shared fixtures: the real data files and a fast, deterministic Keras setup."""

import os
import tempfile
from pathlib import Path

# One XLA compilation cache for the whole run, made before JAX is imported. Small test models
# spend most of their time compiling, and many tests (and the CLI processes and Ray workers
# they start) compile the same shapes: a persistent cache shared by the xdist workers and
# their subprocesses compiles each once. Compiled code is the same either way. The process
# that makes the cache (the xdist controller) removes it at the end.
_XLA_CACHE = None
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    _XLA_CACHE = os.environ["JAX_COMPILATION_CACHE_DIR"] = tempfile.mkdtemp(prefix="rnnlab-test-xla-")
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    os.environ.setdefault("JAX_COMPILATION_CACHE_MAX_SIZE", str(4 << 30))  # a size limit makes writes take a lock
# LLVM's optimisation level 1 instead of 3 for the code XLA generates: the same operations, so
# the same results to the last digit on the models measured (the textbook LSTM trained at both
# levels reached the same test accuracy), compiled about a fifth faster, and no slower to run at
# test sizes. Tests compile far more than they run. A level already in XLA_FLAGS is kept.
if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} --xla_backend_optimization_level=1".strip()

# Heavy fixtures (trained bundles) are built once per test run, by whichever xdist worker asks
# first, in a folder the controller makes here and its workers inherit (see `built_once`).
_SHARED_FIXTURES = None
if "RNNLAB_TEST_SHARED" not in os.environ:
    _SHARED_FIXTURES = os.environ["RNNLAB_TEST_SHARED"] = tempfile.mkdtemp(prefix="rnnlab-test-shared-")

import pytest  # noqa: E402
from raytools import install_ray_guard  # noqa: E402

import rnnlab  # noqa: E402, F401  (selects the Keras backend first)

_SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CACHE_PREFIX = "rnnlab-test-cache-"


def _data_dir() -> Path | None:
    env = os.environ.get("RNNLAB_DATA_DIR")
    for candidate in (Path(env) if env else None, _SHARED):
        if candidate and candidate.is_dir():
            return candidate
    return None


def _require(name: str) -> Path:
    folder = _data_dir()
    path = folder / name if folder else None
    if path is None or not path.exists():
        message = f"{name} not found (set RNNLAB_DATA_DIR to the folder holding it)"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI always has the data: a missing file is a broken setup
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def imdb_archive() -> Path:
    return _require("aclImdb_v1.tar.gz")


@pytest.fixture(scope="session")
def amazon_file() -> Path:
    return _require("amazon_polarity_sample.ft.txt")


@pytest.fixture(scope="session")
def goemotions_dir() -> Path:
    return _require("goemotions")


def built_once(name: str, build) -> tuple[dict, Path]:
    """``build(folder) -> facts`` run once per test run for all xdist workers: (facts, folder).

    The first worker to ask builds under a file lock while the others wait, then reads what it
    left. `facts` (JSON) carry what only the builder's process knew, such as in-memory results.
    A build that failed half-way is removed and made again.
    """
    import json
    import shutil

    from rnnlab.data.textcache import building

    root = Path(os.environ["RNNLAB_TEST_SHARED"])
    folder, done = root / name, root / f"{name}.json"
    with building(done):
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            facts = build(folder)
            done.write_text(json.dumps(facts), encoding="utf-8")
    return json.loads(done.read_text(encoding="utf-8")), folder


# Texts whose probabilities `lstm_bundle` records from the freshly trained model, before saving.
LSTM_REFERENCE_TEXTS = ["An excellent movie!", "Don't watch this movie - poor acting, poor script, bad direction.",
                        "Zorblax quixotrane flibbertigibbet snarfwobble glorptastic vexillogrumph!"]


@pytest.fixture(scope="session")
def lstm_bundle(imdb_archive):
    """The textbook LSTM trained on 5,000 real reviews, saved as a bundle: (facts, folder).

    Built once per run. `facts` hold the training result as the trainer returned it: ``params``,
    ``test`` (its test metrics), ``history``, and ``reference`` (texts -> the in-memory model's
    positive probabilities). Treat the folder as read-only; copy it to change it.
    """

    def build(out: Path) -> dict:
        import numpy as np

        from rnnlab.training.calibration import scale
        from rnnlab.training.engine import train

        result = train("lstm", out=out, limit=5000, epochs=4, seed=1, verbose=0)
        positive = np.asarray(result.model.predict(result.preprocessor.transform(LSTM_REFERENCE_TEXTS), verbose=0))
        # What the result predicts: the model's own probabilities scaled by the temperature fitted on validation.
        direct = scale(np.concatenate([1 - positive, positive], axis=1), result.temperature)[:, 1]
        return {"params": result.params, "test": result.test, "history": result.history,
                "temperature": result.temperature, "raw_probabilities": positive.reshape(-1).tolist(),
                "reference": {"texts": LSTM_REFERENCE_TEXTS, "probabilities": direct.tolist()}}

    return built_once("lstm", build)


def pytest_configure(config):
    """Point rnnlab at the shared data and at a private cache before any fixture runs.

    Module-scoped fixtures (trained bundles) run before function-scoped ones, so this cannot
    be a fixture. One cache per test run keeps the user's real cache untouched while the
    parsed IMDB archive is still reused across tests: the xdist controller makes it, and its
    workers (started after this runs) inherit it. Cache writes are atomic renames, so workers
    share it safely; a test that checks what is in the cache uses a folder of its own.
    """
    folder = _data_dir()
    if folder is not None:
        os.environ.setdefault("RNNLAB_DATA_DIR", str(folder))
    inherited = os.environ.get("RNNLAB_CACHE_DIR", "")
    if hasattr(config, "workerinput") and Path(inherited).name.startswith(CACHE_PREFIX):
        config._rnnlab_cache = None  # the controller's: it removes it at the end
    else:
        config._rnnlab_cache = tempfile.mkdtemp(prefix=CACHE_PREFIX)
        os.environ["RNNLAB_CACHE_DIR"] = config._rnnlab_cache
    os.environ["RNNLAB_OFFLINE"] = "1"  # tests never reach for the network by accident
    install_ray_guard()  # Ray starts only inside raytools.isolated's private network namespace


# -- the slowest files first ------------------------------------------------------------------
# xdist hands out whole files in collection order (make test turns off its reordering by test
# count, which would put one-test files last); started last, these would leave one worker
# busy long after the other ran out of work. Measured: each takes 30 s to 4 min (`slow` tests
# included: the files holding them lead `make test-slow` too).
SLOWEST_FIRST = ("test_reproducible.py", "test_kernels.py", "test_scale_out.py", "test_tune.py",
                 "test_bundle_kinds.py", "test_export.py", "test_label_set_stacks.py", "test_multilabel.py",
                 "test_objectives.py", "test_language_model.py", "test_bench_levers.py", "test_estimator.py",
                 "test_serve_api.py", "test_own_data.py", "test_documented_commands.py", "test_stack.py",
                 "test_experiments.py", "test_notebook.py")


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: file order kept otherwise


# -- under CI a skip is a failure ----------------------------------------------------------------
# CI has the data, the browser and every dev dependency: a test that skips there has lost its
# check without anyone noticing, so it fails instead (xfail results are left alone).

def _ci() -> bool:
    return bool(os.environ.get("CI"))


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    return longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if _ci() and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI (CI={os.environ['CI']!r}), which must run every test: {_skip_reason(report)}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    report = outcome.get_result()
    if _ci() and report.skipped:  # a whole module skipped at import
        report.outcome = "failed"
        report.longrepr = f"skipped under CI (CI={os.environ['CI']!r}), which must run every test: {_skip_reason(report)}"


def pytest_unconfigure(config):
    import shutil

    if getattr(config, "_rnnlab_cache", None):
        shutil.rmtree(config._rnnlab_cache, ignore_errors=True)
    for made_here in (_XLA_CACHE, _SHARED_FIXTURES):
        if made_here is not None:
            shutil.rmtree(made_here, ignore_errors=True)


@pytest.fixture(scope="session")
def small_bundle(amazon_file) -> Path:
    """A small LSTM bundle trained for one epoch on 300 Amazon reviews (seconds): a real bundle
    for tests about files, commands and the service rather than about accuracy. Built once per
    run; treat it as read-only and copy it to change it."""

    def build(out: Path) -> dict:
        from rnnlab.training.engine import train

        train("lstm", dataset=str(amazon_file), limit=300, epochs=1, vocab_size=2000, maxlen=64, out=out, verbose=0)
        return {}

    return built_once("small", build)[1]
