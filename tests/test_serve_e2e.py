"""The real server on a loopback port: driven by a browser, and started with several workers."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn

from rnnlab.serve import create_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
POSITIVE = "An excellent movie! The acting was wonderful and the story moving. I loved every minute."
NEGATIVE = "The worst movie I have seen: awful acting, a boring script and a stupid ending."


@pytest.fixture(scope="module")
def bundle_dir(lstm_bundle):
    """The session's small real LSTM bundle (see conftest)."""
    return lstm_bundle[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_healthy(url: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"server exited with status {proc.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} did not become healthy within {timeout:.0f} s")


@pytest.fixture(scope="module")
def server(bundle_dir):
    """The app served by uvicorn in a thread on 127.0.0.1; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(create_app(bundle_dir), host="127.0.0.1", port=port, log_level="warning")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    wait_until_healthy(url, timeout=60)
    yield url
    instance.should_exit = True
    thread.join(timeout=10)


def browser_or_skip():
    """Launch the system Chromium through Playwright; skip (fail on CI) when either is missing."""
    missing = []
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing.append("the `playwright` Python package")
    if not Path(CHROMIUM).exists():
        missing.append(f"Chromium at {CHROMIUM} (Debian package `chromium`)")
    if missing:
        message = f"browser test needs {' and '.join(missing)}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return sync_playwright


def predict_on_page(page, url: str, review: str, screenshot: Path) -> dict:
    """Type `review`, press Predict, wait for the answer; returns what the page shows."""
    page.goto(url)
    page.wait_for_function("document.getElementById('card-name').textContent !== '…'")
    page.fill("#review", review)
    page.click("#predict")
    page.wait_for_selector("#result:not([hidden])")
    page.wait_for_selector("#tokens .token")
    shown = {
        "label": page.get_attribute("#label", "data-label"),
        "label_text": page.inner_text("#label"),
        "probability": page.inner_text("#probability"),
        "tokens": page.locator("#tokens .token").all_inner_texts(),
        "model": page.inner_text("#card-name"),
        "params": page.inner_text("#card-params"),
        "accuracy": page.inner_text("#card-accuracy"),
        "error": page.inner_text("#error") if page.is_visible("#error") else "",
    }
    page.screenshot(path=str(screenshot), full_page=True)
    return shown


def test_page_shows_the_prediction_and_token_scores(server, tmp_path):
    sync_playwright = browser_or_skip()
    expected = {review: httpx.post(f"{server}/v1/explain", json={"text": review}).json()
                for review in (POSITIVE, NEGATIVE)}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 800})
            errors = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            for name, review in (("positive", POSITIVE), ("negative", NEGATIVE)):
                shot = tmp_path / f"serve-{name}.png"
                shown = predict_on_page(page, server, review, shot)
                api = expected[review]
                assert shown["label"] == api["label"]
                assert shown["label_text"].lower() == {"pos": "positive", "neg": "negative"}[api["label"]]
                assert shown["probability"] == f"{100 * api['probability']:.1f}% sure"
                assert shown["tokens"] == [t["token"] for t in api["tokens"]]
                assert (shown["model"], shown["params"]) == ("lstm", "264,353")
                assert shown["accuracy"].endswith("%")
                assert shown["error"] == ""
                assert shot.stat().st_size > 10_000
            # An empty review is answered on the page, not sent.
            page.fill("#review", "   ")
            page.click("#predict")
            assert page.inner_text("#error") == "Type a review first."
            assert errors == []
        finally:
            browser.close()


@pytest.mark.slow
def test_run_serves_with_two_workers(bundle_dir, tmp_path):
    port = free_port()
    code = ("import sys; from rnnlab.serve import run; "
            "run(sys.argv[1], port=int(sys.argv[2]), workers=2, max_texts=5, log_level='warning')")
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-c", code, str(bundle_dir), str(port)], stdout=log, stderr=log,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, timeout=240, proc=proc)
        card = httpx.get(f"{url}/v1/model").json()
        assert card["limits"]["max_texts"] == 5
        for _ in range(4):  # several connections, so both workers are likely to answer
            with httpx.Client() as client:
                response = client.post(f"{url}/v1/predict", json={"texts": ["An excellent movie!"]})
                assert response.status_code == 200
                assert response.json()["predictions"][0]["n_tokens"] == 3
        assert httpx.post(f"{url}/v1/predict", json={"texts": ["ok"] * 6}).status_code == 422
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
    assert proc.returncode in (0, -signal.SIGINT), (tmp_path / "server.log").read_text()
    # The bundle stays where it is: serving never writes into it.
    assert sorted(p.name for p in bundle_dir.iterdir()) == sorted(
        ["logs", "metrics.json", "model.keras", "precision_recall.png", "preprocessing.json", "reliability.png",
         "spec.json", "training_curves.png"])
