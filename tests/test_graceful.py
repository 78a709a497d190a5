"""Graceful stops: SIGTERM to `rnnlab serve` finishes the requests in flight and exits 0;
Ctrl-C during training leaves nothing half-written and says how to go on."""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_serve_e2e import free_port, wait_until_healthy

pytestmark = pytest.mark.timeout(400)


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout:.0f} s for {what}")
        time.sleep(0.05)


def _server_read_all_of(port: int, clients: list[socket.socket]) -> bool:
    """Whether the server accepted each client's connection and read all it was sent.

    /proc/net/tcp lists the server's end of each connection (local port `port`) with its receive
    queue: bytes the kernel holds that the server has not read yet. A connection still waiting in
    the listen backlog holds the request there; once uvicorn has read the headers the request is
    in flight and a graceful stop must finish it.
    """
    waiting = {sock.getsockname()[1] for sock in clients}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, remote, state, queues = line.split()[1:5]
        established, unread = state == "01", int(queues.split(":")[1], 16)
        if int(local.split(":")[1], 16) == port and established and unread == 0:
            waiting.discard(int(remote.split(":")[1], 16))
    return not waiting


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except OSError:
        return False
    return True


def test_sigterm_finishes_requests_in_flight_and_exits_0(small_bundle):
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "rnnlab", "serve", str(small_bundle), "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, 120, server)
        # Requests in flight for certain: headers and half of each body are sent before the
        # signal, the rest after it. Each must still be answered in full.
        body = json.dumps({"texts": ["A fine film, well acted and moving.", "Dull and far too long."] * 8}).encode()
        head = (f"POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
        sockets = [socket.create_connection(("127.0.0.1", port), timeout=60) for _ in range(4)]
        for sock in sockets:
            sock.sendall(head + body[: len(body) // 2])
        _wait(lambda: _server_read_all_of(port, sockets), 60, "the server to read the four half-sent requests")
        server.send_signal(signal.SIGTERM)
        _wait(lambda: not _accepts(port), 30, "the server to stop accepting connections")  # no new ones once stopping
        answers = []
        for sock in sockets:
            sock.sendall(body[len(body) // 2:])
            answers.append(_read_all(sock))
            sock.close()
        code = server.wait(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
    log = server.stderr.read()
    assert code == 0, log[-2000:]
    for answer in answers:
        status_line, _, rest = answer.partition(b"\r\n")
        assert status_line.startswith(b"HTTP/1.1 200"), answer[:500]
        assert len(json.loads(rest.partition(b"\r\n\r\n")[2])["predictions"]) == 16
    assert "stopped by SIGTERM" in log


def test_ctrl_c_during_training_keeps_nothing_half_written(amazon_file, tmp_path):
    out = tmp_path / "bundle"
    command = [sys.executable, "-m", "rnnlab", "train", "lstm", "--dataset", str(amazon_file), "--epochs", "100000",
               "--vocab-size", "2000", "--maxlen", "64", "--out", str(out)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    seen = b""
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    selector.register(proc.stderr, selectors.EVENT_READ)
    deadline = time.monotonic() + 200
    while b"Epoch 2/" not in seen and time.monotonic() < deadline and proc.poll() is None:
        for key, _ in selector.select(timeout=1):
            seen += os.read(key.fileobj.fileno(), 65536)
    assert b"Epoch 2/" in seen, seen[-2000:]
    proc.send_signal(signal.SIGINT)
    _, rest = proc.communicate(timeout=120)
    assert proc.returncode == 130, rest[-2000:]
    last = rest.decode().strip().splitlines()[-1]
    assert last.startswith("interrupted:") and "rerun" in last
    assert b"Traceback" not in rest
    assert list(tmp_path.iterdir()) == []  # no bundle, no staged folder


@pytest.mark.timeout(60)
def test_engine_callbacks_keep_batches_asynchronous():
    """The engine's own callbacks (Ctrl-C check, progress) leave Keras' batch-end calls asynchronous:
    a callback that is not `async_safe` with a batch-end hook makes every batch wait for the last."""
    import keras

    from rnnlab.training.engine import EpochProgress, InterruptCheck

    assert keras.callbacks.CallbackList([InterruptCheck(), EpochProgress()])._async_train

    class Blocking(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            pass

    assert not keras.callbacks.CallbackList([InterruptCheck(), Blocking()])._async_train  # what the check guards
