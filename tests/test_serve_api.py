"""The HTTP service against a real small LSTM trained on real IMDB reviews."""

import asyncio
import json
import re

import numpy as np
import pytest
from fastapi.testclient import TestClient

from rnnlab._backend import backend_name
from rnnlab.inference.bundle import Bundle
from rnnlab.errors import InvalidInputError, RnnlabError
from rnnlab.serve import create_app
from rnnlab.serve.app import BUNDLE_ENV, OPTIONS_ENV, app_from_env
from rnnlab.serve.body_limit import BodySizeLimit
from rnnlab.inference.explain import occlusion_batch
from rnnlab.training.engine import train

OOV_REVIEW = "Zorblax quixotrane flibbertigibbet snarfwobble glorptastic vexillogrumph!"
MIXED = "An excellent movie, but the ending was dull and the music awful."
LONG = " ".join(["the plot was slow"] * 60) + " but the ending was wonderful"  # 246 tokens
SMALL = {"max_texts": 3, "max_chars": 200, "max_body_bytes": 2_000}


@pytest.fixture(scope="module")
def bundle_dir(lstm_bundle):
    """The session's small real LSTM bundle (see conftest)."""
    return lstm_bundle[1]


@pytest.fixture(scope="module")
def bundle(bundle_dir):
    return Bundle.load(bundle_dir)


@pytest.fixture(scope="module")
def app(bundle):
    return create_app(bundle)


@pytest.fixture(scope="module")
def client(app):
    return TestClient(app)


@pytest.fixture(scope="module")
def small(bundle):
    """An app with tiny limits, for the limit tests (not warmed up: its speed does not matter)."""
    return TestClient(create_app(bundle, warm_up=False, **SMALL))


def count_model_calls(app, monkeypatch) -> list[int]:
    """Patch the service's compiled forward pass to record the batch size of each call."""
    compiled = app.state.service.predictor.compiled
    calls = []
    forward = compiled._forward

    def counted(ids):
        calls.append(len(ids))
        return forward(ids)

    monkeypatch.setattr(compiled, "_forward", counted)
    return calls


# ---------------------------------------------------------------------------- predict
@pytest.mark.smoke
def test_predict_matches_bundle_predict(client, bundle):
    texts = ["An excellent movie!", OOV_REVIEW, MIXED, LONG]
    response = client.post("/v1/predict", json={"texts": texts})
    assert response.status_code == 200
    body = response.json()
    assert body["model"] == "lstm"
    got = body["predictions"]
    expected = bundle.predict(texts)
    assert len(got) == len(texts)
    for g, e in zip(got, expected):
        assert g["label"] == e.label and g["label_id"] == e.label_id
        assert set(g["probabilities"]) == {"neg", "pos"}
        np.testing.assert_allclose(g["probabilities"]["pos"], e.probabilities["pos"], atol=1e-5)
        assert 0.0 <= g["probability"] <= 1.0
        assert g["probability"] == max(g["probabilities"].values())
        assert sum(g["probabilities"].values()) == pytest.approx(1.0)
    counts = [(g["n_tokens"], g["n_oov"], g["truncated"]) for g in got]
    assert counts == [(3, 0, False), (6, 6, False), (12, 0, False), (200, 0, True)]


def test_predict_runs_one_model_call_per_request(app, client, monkeypatch):
    calls = count_model_calls(app, monkeypatch)
    assert client.post("/v1/predict", json={"texts": ["Great fun.", "Dull.", "Awful acting.", "Fine."]}).status_code == 200
    assert calls == [8]  # four texts, padded to the compiled batch size of 8
    calls.clear()
    assert client.post("/v1/predict", json={"texts": ["Great fun."] * 64}).status_code == 200
    assert calls == [64]


def test_text_with_no_known_token_is_still_predicted(client):
    got = client.post("/v1/predict", json={"texts": ["!!! ???"]}).json()["predictions"][0]
    assert (got["n_tokens"], got["n_oov"], got["truncated"]) == (0, 0, False)
    assert 0.0 <= got["probability"] <= 1.0


# ---------------------------------------------------------------------------- explain
@pytest.mark.smoke
def test_explain_scores_are_occlusion_differences(client, bundle):
    body = client.post("/v1/explain", json={"text": MIXED}).json()
    tokens = [t["token"] for t in body["tokens"]]
    assert tokens == bundle.preprocessor.encode([MIXED]).tokens[0]
    assert body["n_tokens"] == len(tokens) == 12
    assert body["method"] == "occlusion" and body["target"] == "pos"
    whole = bundle.predict([MIXED])[0]
    assert body["label"] == whole.label
    assert body["base_probability"] == pytest.approx(whole.probabilities["pos"], abs=1e-5)
    # Each score is P(pos) of the text minus P(pos) of the text without that word,
    # recomputed here through the ordinary predict path.
    variants = [" ".join(tokens[:i] + tokens[i + 1:]) for i in range(len(tokens))]
    without = [p.probabilities["pos"] for p in bundle.predict(variants)]
    scores = [t["score"] for t in body["tokens"]]
    np.testing.assert_allclose(scores, whole.probabilities["pos"] - np.asarray(without), atol=1e-5)
    assert any(s != 0 for s in scores)


def test_explain_is_one_model_call(app, client, monkeypatch):
    calls = count_model_calls(app, monkeypatch)
    body = client.post("/v1/explain", json={"text": LONG}).json()
    assert body["truncated"] and body["n_tokens"] == len(body["tokens"]) == 200
    assert calls == [256]  # the text and its 200 variants, padded to 4 x 64 rows


def test_explain_marks_unknown_words(client):
    body = client.post("/v1/explain", json={"text": "Zorblax was an excellent movie"}).json()
    assert [(t["token"], t["oov"]) for t in body["tokens"]] == [
        ("zorblax", True), ("was", False), ("an", False), ("excellent", False), ("movie", False)]
    assert body["n_oov"] == 1


def test_occlusion_batch_removes_each_token_and_repads():
    rows = occlusion_batch([5, 6, 7], maxlen=4, padding="pre")
    assert rows.tolist() == [[0, 5, 6, 7], [0, 0, 6, 7], [0, 0, 5, 7], [0, 0, 5, 6]]
    rows = occlusion_batch([5, 6], maxlen=3, padding="post")
    assert rows.tolist() == [[5, 6, 0], [6, 0, 0], [5, 0, 0]]
    assert occlusion_batch([], maxlen=3, padding="pre").tolist() == [[0, 0, 0]]


@pytest.mark.slow
def test_explain_gives_sentiment_words_their_sign(tmp_path_factory, imdb_archive):
    # A model trained enough to know its words (about 80% test accuracy).
    out = tmp_path_factory.mktemp("bundles") / "lstm-10k"
    result = train("lstm", out=out, limit=10_000, epochs=4, seed=0, verbose=0)
    assert result.test_accuracy > 0.75
    client = TestClient(create_app(out, warm_up=False))
    scores = {t["token"]: t["score"] for t in client.post(
        "/v1/explain", json={"text": "An excellent film with wonderful acting, but the worst ending."}).json()["tokens"]}
    assert scores["excellent"] > 0 and scores["wonderful"] > 0
    assert scores["worst"] < 0
    labels = [p["label"] for p in client.post("/v1/predict", json={"texts": [
        "An excellent movie, wonderful acting. I loved it.",
        "The worst movie ever: awful acting, boring and stupid."]}).json()["predictions"]]
    assert labels == ["pos", "neg"]


# ------------------------------------------------------------------ model card, page, docs
def test_model_card(client, bundle):
    card = client.get("/v1/model").json()
    assert card["name"] == "lstm" and card["params"] == 264_353
    assert card["class_names"] == ["neg", "pos"]
    assert card["test_accuracy"] == bundle.metrics["test"]["accuracy"]
    assert (card["vocabulary_size"], card["maxlen"], card["tokenizer"]) == (8000, 200, "keras")
    assert card["backend"] == backend_name() and "keras" in card["versions"]
    assert card["spec"]["cell"] == "lstm" and card["metrics"]["seed"] == bundle.metrics["seed"]
    assert card["explain_method"] == "occlusion"
    assert card["limits"]["max_texts"] == 64 and card["limits"]["max_chars"] == 20_000


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok", "model": "lstm"}


def test_page_and_its_files_are_served_without_outside_links(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for marker in ('id="review"', 'id="predict"', 'id="tokens"', 'id="card-accuracy"'):
        assert marker in page.text
    for name, kind in (("app.js", "javascript"), ("style.css", "text/css")):
        served = client.get(f"/static/{name}")
        assert served.status_code == 200 and kind in served.headers["content-type"]
    for text in (page.text, client.get("/static/app.js").text, client.get("/static/style.css").text):
        assert not re.search(r"https?://", text), "the page must work offline"


def test_openapi_documents_the_limits(small):
    schema = small.get("/openapi.json").json()
    assert {"/v1/predict", "/v1/explain", "/v1/model", "/healthz"} <= set(schema["paths"])
    parts = schema["components"]["schemas"]
    texts = parts["PredictRequest"]["properties"]["texts"]
    assert (texts["minItems"], texts["maxItems"]) == (1, SMALL["max_texts"])
    assert (texts["items"]["minLength"], texts["items"]["maxLength"]) == (1, SMALL["max_chars"])
    assert parts["ExplainRequest"]["properties"]["text"]["maxLength"] == SMALL["max_chars"]
    assert "413" in schema["paths"]["/v1/predict"]["post"]["responses"]


# ------------------------------------------------------------------------ bad input
N, C = SMALL["max_texts"], SMALL["max_chars"]
BAD_JSON_BODIES = [
    # (case, path, raw body, status, loc of the first error or None)
    ("invalid JSON", "/v1/predict", b'{"texts": ["good"', 422, ["body", 17]),
    ("not an object", "/v1/predict", b'["good"]', 422, ["body"]),
    ("texts missing", "/v1/predict", b"{}", 422, ["body", "texts"]),
    ("texts a string", "/v1/predict", b'{"texts": "good"}', 422, ["body", "texts"]),
    ("texts null", "/v1/predict", b'{"texts": null}', 422, ["body", "texts"]),
    ("no texts", "/v1/predict", b'{"texts": []}', 422, ["body", "texts"]),
    ("too many texts", "/v1/predict", json.dumps({"texts": ["good"] * (N + 1)}).encode(), 422, ["body", "texts"]),
    ("a number as text", "/v1/predict", b'{"texts": ["good", 3]}', 422, ["body", "texts", 1]),
    ("null as text", "/v1/predict", b'{"texts": [null]}', 422, ["body", "texts", 0]),
    ("object as text", "/v1/predict", b'{"texts": [{"text": "good"}]}', 422, ["body", "texts", 0]),
    ("empty text", "/v1/predict", b'{"texts": ["good", "fine", ""]}', 422, ["body", "texts", 2]),
    ("whitespace text", "/v1/predict", b'{"texts": ["good", " \\n\\t "]}', 422, ["body", "texts", 1]),
    ("text too long", "/v1/predict", json.dumps({"texts": ["x" * (C + 1)]}).encode(), 422, ["body", "texts", 0]),
    ("unknown field", "/v1/predict", b'{"texts": ["good"], "top_k": 3}', 422, ["body", "top_k"]),
    ("lone surrogate", "/v1/predict", b'{"texts": ["bad \\ud800"]}', 422, ["body", "texts", 0]),
    ("explain: no text", "/v1/explain", b"{}", 422, ["body", "text"]),
    ("explain: list", "/v1/explain", b'{"text": ["good"]}', 422, ["body", "text"]),
    ("explain: empty", "/v1/explain", b'{"text": ""}', 422, ["body", "text"]),
    ("explain: too long", "/v1/explain", json.dumps({"text": "y" * (C + 1)}).encode(), 422, ["body", "text"]),
    ("not UTF-8", "/v1/predict", b'{"texts": ["caf\xe9"]}', 400, None),
    ("too large", "/v1/predict", json.dumps({"texts": ["z" * 3_000]}).encode(), 413, None),
    ("too large and not JSON", "/v1/predict", b"{" * 2_001, 413, None),
]


@pytest.mark.parametrize("case,path,body,status,loc", BAD_JSON_BODIES, ids=[c[0] for c in BAD_JSON_BODIES])
def test_bad_input_gets_a_clear_4xx(small, case, path, body, status, loc):
    response = small.post(path, content=body, headers={"content-type": "application/json"})
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert detail, "every error says what is wrong"
    if loc is not None:
        assert detail[0]["loc"] == loc
        assert "input" not in detail[0]  # a bad input is never echoed back
    assert len(response.content) < 2_000
    assert small.get("/healthz").status_code == 200


def test_chunked_body_over_the_limit_is_refused(small):
    def chunks():
        for _ in range(10):
            yield b" " * 500

    response = small.post("/v1/predict", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert "2,000 bytes" in response.json()["detail"]


def test_bad_content_length_is_refused_before_reading():
    sent = []

    async def app(scope, receive, send):  # never reached
        raise AssertionError("the app must not run")

    async def receive():
        raise AssertionError("the body must not be read")

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/v1/predict", "headers": [(b"content-length", b"12abc")]}
    asyncio.run(BodySizeLimit(app, max_bytes=100)(scope, receive, send))
    assert sent[0]["status"] == 400
    scope["headers"] = [(b"content-length", b"101")]
    sent.clear()
    asyncio.run(BodySizeLimit(app, max_bytes=100)(scope, receive, send))
    assert sent[0]["status"] == 413


@pytest.mark.parametrize("method,path,status", [("get", "/v1/predict", 405), ("post", "/v1/model", 405),
                                                ("get", "/v2/predict", 404)])
def test_wrong_method_or_path(small, method, path, status):
    assert getattr(small, method)(path).status_code == status


def test_plain_text_body_is_refused(small):
    response = small.post("/v1/predict", content=b"An excellent movie!", headers={"content-type": "text/plain"})
    assert response.status_code == 422


# ------------------------------------------------------------------------ construction
@pytest.mark.parametrize("option", [{"max_texts": 0}, {"max_chars": -1}, {"max_body_bytes": 1.5},
                                    {"max_texts": True}])
def test_create_app_rejects_bad_limits(bundle, option):
    with pytest.raises(InvalidInputError, match=next(iter(option))):
        create_app(bundle, warm_up=False, **option)


def test_create_app_names_a_missing_bundle(tmp_path):
    with pytest.raises(RnnlabError, match="No model bundle"):
        create_app(tmp_path / "nothing")


def test_app_factory_reads_bundle_and_limits_from_env(bundle_dir, monkeypatch):
    monkeypatch.delenv(BUNDLE_ENV, raising=False)
    with pytest.raises(RnnlabError, match=BUNDLE_ENV):
        app_from_env()
    monkeypatch.setenv(BUNDLE_ENV, str(bundle_dir))
    monkeypatch.setenv(OPTIONS_ENV, json.dumps({"max_texts": 2, "warm_up": False}))
    client = TestClient(app_from_env())
    assert client.get("/v1/model").json()["limits"]["max_texts"] == 2
    assert client.post("/v1/predict", json={"texts": ["good"] * 3}).status_code == 422
    assert client.post("/v1/predict", json={"texts": ["good"] * 2}).status_code == 200


def test_model_card_survives_a_diverged_training_history(bundle):
    diverged = Bundle(bundle.model, bundle.preprocessor, bundle.spec,
                      {**bundle.metrics, "history": {"loss": [0.69, float("nan")]}}, bundle.path)
    card = TestClient(create_app(diverged, warm_up=False)).get("/v1/model")
    assert card.status_code == 200
    assert card.json()["metrics"]["history"]["loss"] == [0.69, None]


def test_run_checks_its_arguments_before_serving(bundle_dir, tmp_path):
    from rnnlab.serve import run

    with pytest.raises(InvalidInputError, match="workers"):
        run(bundle_dir, workers=0)
    with pytest.raises(InvalidInputError, match="max_chars"):
        run(bundle_dir, workers=2, max_chars=0)
    with pytest.raises(RnnlabError, match="No complete model bundle"):
        run(tmp_path, workers=2)


def test_declared_text_pattern_is_the_check_the_service_makes():
    """The schema's pattern and the service's whitespace check refuse exactly the same one-character texts
    (a client generating texts from the schema, as schemathesis does, never sends one the service refuses)."""
    import sys

    from rnnlab.serve.schemas import NOT_WHITESPACE, _usable_text

    pattern = re.compile(NOT_WHITESPACE)
    for code in range(sys.maxunicode + 1):
        if 0xD800 <= code <= 0xDFFF:
            continue  # surrogates are refused for another reason
        char = chr(code)
        try:
            accepted = _usable_text(char) == char
        except ValueError:
            accepted = False
        assert accepted == (pattern.search(char) is not None), hex(code)
