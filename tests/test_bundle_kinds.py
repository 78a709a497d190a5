"""Every bundle kind through the real CLI: train -> predict (text and --input) -> evaluate -> serve -> explain.

The five kinds: text, two-field (title + body), numeric sequences, stateful and an averaged
ensemble. Each is trained small on real data by `rnnlab train` / `rnnlab experiment run`, then
used the way a user would; the service is a real `rnnlab serve` process on 127.0.0.1.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from typer.testing import CliRunner

from rnnlab.cli import app
from rnnlab.data import load_amazon, load_imdb
from rnnlab.data.numeric import load_digits_sequences
from rnnlab.inference import Bundle
from rnnlab.encoding.records import read_records

pytestmark = pytest.mark.timeout(900)

REVIEWS = ["An excellent movie, the cast is wonderful and the story moving.",
           "Dull, boring and far too long; the worst film I have seen this year."]


def cli(*args: str) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def cli_error(*args: str) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.output


@pytest.fixture(scope="module")
def bundles(tmp_path_factory, imdb_archive, amazon_file):
    """One small bundle of each kind, trained through the CLI."""
    root = tmp_path_factory.mktemp("kinds")
    made = {}
    cli("train", "lstm", "--limit", "400", "--epochs", "1", "--vocab-size", "2000", "--maxlen", "60",
        "--out", root / "text")
    made["text"] = root / "text"
    cli("train", "beyond/amazon-title-body", "--epochs", "2", "--out", root / "fields")
    made["fields"] = root / "fields"
    cli("train", "beyond/digits-stacked-lstm", "--epochs", "8", "--out", root / "sequences")
    made["sequences"] = root / "sequences"
    cli("train", "lstm", "--limit", "400", "--epochs", "1", "--vocab-size", "2000", "--maxlen", "60",
        "--chunk-length", "20", "--batch-size", "32", "--out", root / "stateful")
    made["stateful"] = root / "stateful"
    config = root / "ensemble.toml"
    config.write_text("""kind = "recipe"
name = "tiny-ensemble"
[data]
dataset = "imdb"
validation_split = 0.2
limit = 400
[model]
vocab_size = 2000
maxlen = 60
embedding_dim = 16
mask_zero = true
cell = "gru"
units = 8
pooling = "attention"
optimizer = "adam"
[training]
epochs = 1
batch_size = 32
buckets = 2
members = 2
""", encoding="utf-8")
    cli("experiment", "run", config, "--out", root / "ensemble")
    made["ensemble"] = root / "ensemble" / "bundle"
    return made


def input_file(kind: str, folder: Path) -> Path:
    """A file of real records in the form each kind's `--input` reads."""
    if kind == "fields":
        path = folder / "records.csv"
        reviews = load_amazon().subset(range(4))
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["title", "body"])
            writer.writerows(zip(reviews.fields["title"], reviews.fields["body"]))
        return path
    if kind == "sequences":
        path = folder / "digits.npy"
        np.save(path, np.stack(load_digits_sequences().sequences[:4]))
        return path
    path = folder / "reviews.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "review"])
        writer.writerows((i, text) for i, text in enumerate(load_imdb("test").subset(range(3)).texts))
    return path


KINDS = ("text", "fields", "sequences", "stateful", "ensemble")


@pytest.mark.parametrize("kind", KINDS)
def test_predict_evaluate_and_explain_through_the_cli(kind, bundles, tmp_path):
    bundle = Bundle.load(bundles[kind])
    assert bundle.kind == {"fields": "fields", "sequences": "sequences"}.get(kind, "text")
    path = input_file(kind, tmp_path)
    records = read_records(path, bundle.inputs)

    out = tmp_path / "predictions.csv"
    cli("predict", bundles[kind], "--input", path, "--output", out)
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(records)
    expected = bundle.predict_proba(records)
    assert [r["label"] for r in rows] == [bundle.class_names[i] for i in expected.argmax(axis=1)]
    np.testing.assert_allclose([float(r["probability"]) for r in rows], expected.max(axis=1), atol=1e-5)

    lines = cli("predict", bundles[kind], "--input", path, "--json").strip().splitlines()
    assert [json.loads(line)["label"] for line in lines] == [r["label"] for r in rows]
    if bundle.kind == "text":
        lines = cli("predict", bundles[kind], *REVIEWS, "--json").strip().splitlines()
        assert len(lines) == 2 and all(json.loads(line)["n_tokens"] > 5 for line in lines)
    else:
        assert "--input" in cli_error("predict", bundles[kind], "Great phone")

    # evaluate scores the same test rows training scored, with the same model: same accuracy
    limit = {"text": 400, "stateful": 400, "ensemble": 400}.get(kind)
    args = ("--limit", limit) if limit else ()
    scored = json.loads(cli("evaluate", bundles[kind], *args, "--json"))
    assert scored["accuracy"] == pytest.approx(bundle.test_accuracy, abs=1e-9)
    assert scored["examples"] == bundle.metrics["test"]["examples"]

    if bundle.kind == "text":
        explained = json.loads(cli("explain", bundles[kind], REVIEWS[1], "--json"))
    else:
        explained = json.loads(cli("explain", bundles[kind], "--input", path, "--json"))
    assert explained["tokens"] and explained["label"] in bundle.class_names
    explained_record = records[0] if bundle.kind != "text" else REVIEWS[1]
    expected = bundle.predict_proba([explained_record])[0]
    assert explained["probability"] == pytest.approx(float(expected.max()), abs=1e-5)
    if kind == "sequences":
        assert [t["token"] for t in explained["tokens"]] == [f"t{i}" for i in range(8)]
    if kind == "fields":
        assert {t["token"].split(":")[0] for t in explained["tokens"]} == {"title", "body"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("kind", KINDS)
def test_rnnlab_serve_predicts_each_kind(kind, bundles, tmp_path):
    bundle = Bundle.load(bundles[kind])
    path = input_file(kind, tmp_path)
    records = read_records(path, bundle.inputs)
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "rnnlab", "serve", str(bundles[kind]), "--host", "127.0.0.1",
                               "--port", str(port), "--max-texts", "8"], env=dict(os.environ),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if server.poll() is not None:
                pytest.fail(f"rnnlab serve exited: {server.stdout.read()}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        else:
            pytest.fail("rnnlab serve did not come up in 240 s")
        card = httpx.get(f"{base}/v1/model", timeout=10).json()
        assert card["input_kind"] == bundle.kind
        if bundle.kind == "text":
            body = {"texts": records}
        elif bundle.kind == "fields":
            body = {"records": records}
        else:
            body = {"records": [np.asarray(r).tolist() for r in records]}
        response = httpx.post(f"{base}/v1/predict", json=body, timeout=60)
        assert response.status_code == 200, response.text
        got = [p["probabilities"][bundle.class_names[-1]] for p in response.json()["predictions"]]
        np.testing.assert_allclose(got, bundle.predict_proba(records)[:, -1], atol=1e-5)
        wrong = {"records": [{"title": 3}]} if bundle.kind == "fields" else {"texts": [""]}
        assert httpx.post(f"{base}/v1/predict", json=wrong, timeout=10).status_code == 422
    finally:
        server.terminate()
        server.wait(timeout=30)
