"""The API as written: schemathesis generates requests from the OpenAPI schema and checks every
answer (no 5xx, every status documented, every body matching its schema, headers, content type)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from rnnlab.serve import create_app

pytestmark = pytest.mark.timeout(600)

EXAMPLES = 100  # per operation and generation mode (valid and invalid requests)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_api_conforms_to_its_schema(small_bundle, mode):
    app = create_app(small_bundle, max_texts=8, max_chars=2000)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} >= {"POST /v1/predict", "POST /v1/explain", "GET /v1/model",
                                               "GET /healthz"}
    if mode == GenerationMode.NEGATIVE:  # only a request body can be invalid: GETs take no input
        operations = [op for op in operations if op.method.upper() == "POST"]
    calls = []
    for operation in operations:
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
        def check(case):
            calls.append(case.call_and_validate().status_code)

        check()
    assert len(calls) >= 10 * len(operations)
    print(f"{mode.value}: {len(calls)} cases over {len(operations)} operations")
    assert not [status for status in calls if status >= 500]
