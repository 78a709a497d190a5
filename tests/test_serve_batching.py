"""Cross-request batching: concurrent requests share model calls and still get their own answers."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from rnnlab.inference.bundle import Bundle
from rnnlab.serve import create_app
from rnnlab.serve.batching import MicroBatcher

pytestmark = pytest.mark.timeout(300)

REVIEWS = ["A wonderful, moving film with a great cast.", "Dull, slow and badly acted; a waste of time.",
           "Not bad at all, though the ending drags.", "I loved every minute of it!",
           "The worst sequel I have ever seen.", "Good music, weak story."]


async def _post_all(app, bodies):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await asyncio.gather(*(client.post("/v1/predict", json=body) for body in bodies))


def test_concurrent_requests_share_model_calls_and_get_their_own_answers(small_bundle):
    bundle = Bundle.load(small_bundle)
    app = create_app(bundle, max_texts=16)
    bodies = [{"texts": REVIEWS[i % 6: i % 6 + 1 + i % 3]} for i in range(40)]
    responses = asyncio.run(_post_all(app, bodies))
    assert [r.status_code for r in responses] == [200] * 40
    expected = bundle.predict_proba([t for body in bodies for t in body["texts"]])
    got = [[p["probabilities"][name] for name in bundle.class_names]
           for r in responses for p in r.json()["predictions"]]
    assert [[round(v, 5) for v in row] for row in got] == [[round(float(v), 5) for v in row] for row in expected]
    for body, response in zip(bodies, responses):
        assert len(response.json()["predictions"]) == len(body["texts"])
    batcher = app.state.batcher
    assert batcher.requests == 40 and batcher.calls < 40  # merged: fewer model calls than requests
    assert app.state.service is not None


def test_unbatched_app_gives_the_same_answers(small_bundle):
    bundle = Bundle.load(small_bundle)
    batched, plain = create_app(bundle, warm_up=False), create_app(bundle, warm_up=False, batching=False)
    bodies = [{"texts": [r]} for r in REVIEWS]
    a, b = asyncio.run(_post_all(batched, bodies)), asyncio.run(_post_all(plain, bodies))
    assert [r.json() for r in a] == [r.json() for r in b]
    assert not hasattr(plain.state, "batcher")


def test_a_failing_request_does_not_fail_the_others():
    def predict(records):  # plain Python: the batcher's contract is about lists, not models
        if "bad" in records:
            raise ValueError("bad record")
        return [r.upper() for r in records]

    async def main():
        batcher = MicroBatcher(predict, max_rows=10, max_wait=0.05)
        jobs = [batcher.predict([f"r{i}"]) for i in range(5)] + [batcher.predict(["bad"])]
        jobs += [batcher.predict([f"s{i}", f"t{i}"]) for i in range(6)]
        results = await asyncio.gather(*jobs, return_exceptions=True)
        batcher.close()
        return results, batcher.calls

    results, calls = asyncio.run(main())
    assert results[:5] == [[f"R{i}"] for i in range(5)]
    assert isinstance(results[5], ValueError)
    assert results[6:] == [[f"S{i}", f"T{i}"] for i in range(6)]
    assert calls < 12


def test_batches_respect_the_row_limit():
    sizes = []

    def predict(records):
        sizes.append(len(records))
        return list(records)

    async def main():
        batcher = MicroBatcher(predict, max_rows=8, max_wait=0.05)
        out = await asyncio.gather(*(batcher.predict(["x"] * (1 + i % 4)) for i in range(30)))
        batcher.close()
        return out

    out = asyncio.run(main())
    assert [len(o) for o in out] == [1 + i % 4 for i in range(30)]
    assert max(sizes) <= 8 and sum(sizes) == sum(1 + i % 4 for i in range(30))
