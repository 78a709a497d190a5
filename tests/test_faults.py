"""Bundles are trusted only as far as they deserve; kills and full disks lose nothing.

A real (small) LSTM bundle trained on the Amazon sample is damaged in every way a copy, a
crash or a hostile sender can damage it, and must be refused with rnnlab's own error.
Processes are then SIGKILLed while they save a bundle, write a cache and train word vectors,
and a save is run against a full disk (`RLIMIT_FSIZE`): what is left is the old file or the
new one, complete, and rerunning finishes the job.
"""

from __future__ import annotations

import json
import os
import random
import selectors
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest
from typer.testing import CliRunner

from rnnlab.cli import app
from rnnlab.errors import RnnlabError
from rnnlab.inference.bundle import Bundle

pytestmark = pytest.mark.timeout(600)
runner = CliRunner()
REVIEWS = ["A wonderful, moving film with a great cast.", "Dull, slow and badly acted; a waste of time."]


def _copy(bundle: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(bundle, target)
    return target


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _lambda_model(path: Path) -> None:
    model = keras.Sequential([keras.Input((64,)), keras.layers.Lambda(lambda x: x * 2.0), keras.layers.Dense(2)])
    model.save(path)


DAMAGE = {
    "missing model.keras": lambda b: (b / "model.keras").unlink(),
    "missing preprocessing.json": lambda b: (b / "preprocessing.json").unlink(),
    "missing spec.json": lambda b: (b / "spec.json").unlink(),
    "truncated model.keras": lambda b: _truncate(b / "model.keras"),
    "empty model.keras": lambda b: (b / "model.keras").write_bytes(b""),
    "model.keras not a zip": lambda b: (b / "model.keras").write_bytes(b"#!/bin/sh\necho hi\n"),
    "corrupt spec.json": lambda b: (b / "spec.json").write_text("{\"name\": "),
    "spec.json a list": lambda b: (b / "spec.json").write_text("[1, 2]"),
    "spec.json unknown keys": lambda b: (b / "spec.json").write_text(json.dumps({"name": "x", "evil": 1})),
    "non-UTF-8 spec.json": lambda b: (b / "spec.json").write_bytes(b"\xff\xfe{}"),
    "corrupt preprocessing.json": lambda b: _truncate(b / "preprocessing.json"),
    "preprocessing of another kind": lambda b: (b / "preprocessing.json").write_text(
        json.dumps({"format": "rnnlab.sequence-preprocessing", "features": 3})),
    "preprocessing of another program": lambda b: (b / "preprocessing.json").write_text(
        json.dumps({"format": "sklearn.pickle", "data": "gASV"})),
    "preprocessing a string": lambda b: (b / "preprocessing.json").write_text("\"hello\""),
    "corrupt metrics.json": lambda b: (b / "metrics.json").write_text("{"),
    "model holding a Lambda layer": lambda b: _lambda_model(b / "model.keras"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_bundle_is_refused(damage, small_bundle, tmp_path):
    bundle = _copy(small_bundle, tmp_path)
    DAMAGE[damage](bundle)
    with pytest.raises(RnnlabError) as caught:
        Bundle.load(bundle).predict(REVIEWS)
    assert str(caught.value) and "\n" not in str(caught.value)
    # the same refusal, in one line, from the command line
    result = runner.invoke(app, ["predict", str(bundle), REVIEWS[0]])
    assert result.exit_code == 2, result.output
    assert result.output.strip().startswith("error:") and len(result.output.strip().splitlines()) == 1


def test_lambda_layer_code_is_never_run(small_bundle, tmp_path):
    bundle = _copy(small_bundle, tmp_path)
    marker = tmp_path / "ran"
    # A Lambda whose code would leave a file behind if it ever ran during loading.
    source = f"lambda x: (__import__('pathlib').Path({str(marker)!r}).touch(), x)[1]"
    model = keras.Sequential([keras.Input((64,)), keras.layers.Lambda(eval(source)), keras.layers.Dense(2)])
    model.save(bundle / "model.keras")
    marker.unlink()  # building the model above ran it once, here, on purpose
    with pytest.raises(RnnlabError, match="Lambda|unsafe|safe"):
        Bundle.load(bundle)
    assert not marker.exists()


def test_saving_over_a_folder_that_is_not_a_bundle_is_refused(small_bundle, tmp_path):
    target = tmp_path / "my-documents"
    target.mkdir()
    (target / "thesis.txt").write_text("years of work")
    loaded = Bundle.load(small_bundle)
    from rnnlab.files import staged_folder

    with pytest.raises(RnnlabError, match="not an rnnlab bundle"):
        with staged_folder(target) as staging:
            shutil.copytree(loaded.path, staging, dirs_exist_ok=True)
    assert (target / "thesis.txt").read_text() == "years of work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my-documents"]  # nothing staged left behind


# -- kill -9 --------------------------------------------------------------------------------------

SAVER = """
import shutil, sys
from pathlib import Path
from rnnlab.files import staged_folder
source, target = Path(sys.argv[1]), Path(sys.argv[2])
i = 0
while True:
    with staged_folder(target) as staging:
        shutil.copytree(source, staging, dirs_exist_ok=True)
        (staging / "generation.txt").write_text(str(i))
    print("written", i, flush=True)
    i += 1
"""


def _start(args, env=None, **options) -> subprocess.Popen:
    """A child in its own session (process group), so that a kill reaches it and whatever it started."""
    return subprocess.Popen(args, env=env, start_new_session=True, **options)


def _wait_for_line(proc: subprocess.Popen, stream, prefix: bytes, timeout: float, count: int = 1) -> bytes:
    """Read `stream` until the `count`-th line starting with `prefix`; fail after `timeout` s or at exit."""
    seen, buffer = 0, b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if selector.select(timeout=1):
                chunk = os.read(stream.fileno(), 65536)
                if not chunk:
                    break
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    seen += line.startswith(prefix)
                    if seen >= count:
                        return line
            elif proc.poll() is not None:
                break
    pytest.fail(f"no {count}th line starting {prefix!r} in {timeout:.0f} s (exit status {proc.poll()})")


def _kill_group(proc: subprocess.Popen, timeout: float = 30) -> None:
    """SIGKILL the process group of `proc` (started by `_start`) and wait until none of it is left."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    pytest.fail(f"process group {proc.pid} still alive {timeout:.0f} s after SIGKILL")


def _run_and_kill(args, writes: int, jitter: float, env=None) -> None:
    """Run a writer that prints a line after each whole write; SIGKILL it during a later write.

    The kill comes once `writes` writes are whole (the state the test needs), then after a random
    `jitter` shorter than a write or two, so kills land at every point of the write.
    """
    proc = _start([sys.executable, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        _wait_for_line(proc, proc.stdout, b"written", timeout=240, count=writes)
        time.sleep(jitter)
    finally:
        _kill_group(proc)
        proc.stdout.close()


def test_kill_during_bundle_save_leaves_a_whole_bundle(small_bundle, tmp_path):
    target = tmp_path / "served"
    shutil.copytree(small_bundle, target)
    expected = Bundle.load(small_bundle).predict_proba(REVIEWS)
    rng = random.Random(0)
    for _ in range(6):
        _run_and_kill(["-c", SAVER, str(small_bundle), str(target)], writes=rng.randint(1, 3),
                      jitter=rng.uniform(0, 0.2))
        loaded = Bundle.load(target)  # old or new: both whole
        np.testing.assert_allclose(loaded.predict_proba(REVIEWS), expected, atol=1e-6)
    assert (target / "generation.txt").is_file()  # the writer's saves did replace the bundle
    # and the next save finishes the job
    from rnnlab.files import staged_folder

    with staged_folder(target) as staging:
        shutil.copytree(small_bundle, staging, dirs_exist_ok=True)
    assert Bundle.load(target).spec == Bundle.load(small_bundle).spec


CACHE_WRITER = """
import sys
import numpy as np
from pathlib import Path
from rnnlab.data.textcache import pack_texts, write_npz
path = Path(sys.argv[1])
texts = [("review %d " % i) * 50 for i in range(20000)]
data, offsets = pack_texts(texts)
while True:
    write_npz(path, {"data": data, "offsets": offsets})
    print("written", flush=True)
"""


def test_kill_during_cache_write_leaves_no_damaged_cache(tmp_path):
    from rnnlab.data.textcache import read_npz, unpack_texts

    path = tmp_path / "cache" / "texts.npz"
    rng = random.Random(1)
    for _ in range(5):
        _run_and_kill(["-c", CACHE_WRITER, str(path)], writes=rng.randint(1, 3), jitter=rng.uniform(0, 0.2))
        arrays = read_npz(path, ["data", "offsets"])
        assert arrays is not None  # a write was whole before the kill: a damaged file reads as None
        assert unpack_texts(arrays["data"], arrays["offsets"])[19999] == "review 19999 " * 50
    leftovers = [p.name for p in path.parent.iterdir() if p.name != path.name]
    assert all(name.startswith(".texts.npz.") for name in leftovers)  # temporary names, never read as caches


def test_kill_during_word2vec_training_then_rerun(imdb_archive, tmp_path):
    from rnnlab.text.vectors import read_vectors

    env = {**os.environ, "RNNLAB_CACHE_DIR": os.environ["RNNLAB_CACHE_DIR"], "RNNLAB_PROGRESS": "lines"}
    command = [sys.executable, "-m", "rnnlab", "embeddings", "train", "--dim", "16", "--epochs", "3",
               "--limit", "3000", "--workers", "1", "--seed", "7"]
    folder = Path(env["RNNLAB_CACHE_DIR"]) / "word2vec"
    proc = _start(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        # Killed once training is under way: gensim reports its first epoch (a line per third).
        _wait_for_line(proc, proc.stderr, b"word2vec on", timeout=300)
    finally:
        _kill_group(proc)
        proc.stderr.close()
    for path in folder.glob("imdb-d16-w5-m2-e3-cbow-s7-n3000-*.bin") if folder.exists() else []:
        assert read_vectors(path).dim == 16  # this command's vectors file, if present, is whole
    done = subprocess.run([*command, "--json"], env=env, capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr
    path = Path(json.loads(done.stdout)["path"])
    vectors = read_vectors(path)
    assert vectors.dim == 16 and len(vectors.words) > 1000


# -- full disk ------------------------------------------------------------------------------------

# The limit is set in the child itself (a preexec_fn would fork this multithreaded JAX process).
LIMITED = ("import resource, runpy, signal, sys; limit = int(sys.argv.pop(1)); "
           "resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)); "
           "signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "  # writes past the limit fail with EFBIG instead
           "sys.argv[0] = 'rnnlab'; runpy.run_module('rnnlab', run_name='__main__')")


def test_full_disk_during_save_keeps_the_old_bundle(small_bundle, amazon_file, tmp_path):
    target = tmp_path / "served"
    shutil.copytree(small_bundle, target)
    def contents():
        return {str(p.relative_to(target)): p.read_bytes() for p in sorted(target.rglob("*")) if p.is_file()}

    before = contents()
    limit = (target / "model.keras").stat().st_size // 3  # the new model.keras cannot be written
    command = [sys.executable, "-c", LIMITED, str(limit), "train", "lstm", "--dataset", str(amazon_file), "--limit",
               "300", "--epochs", "1", "--vocab-size", "2000", "--maxlen", "64", "--out", str(target)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=400)
    assert done.returncode == 2, done.stderr[-3000:]
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error:") and "File too large" in last and "Traceback" not in done.stderr
    assert contents() == before  # the old bundle, byte for byte (its TensorBoard logs included)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["served"]  # no staged folder left behind
    assert Bundle.load(target).predict(REVIEWS)
