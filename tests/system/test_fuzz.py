"""Schema-driven fuzzing (issue 9.1): schemathesis generates requests from the live app's own OpenAPI schema
for every operation, with credentials (the admin token and a registered source, so requests reach the graph)
and without; every answer must be a non-5xx that conforms to the schema (status, content type, body,
headers).

Bounded for `make test` by FUZZ_EXAMPLES per operation and credential mode (default 30: 26 operations x 2,
some 1,100 cases, as hypothesis stops early on small input spaces); `make fuzz` runs them with many more.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.helpers import LiveServer

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# /metrics is text, not JSON; it has its own test. Everything else is fuzzed.
SKIP_PATHS = {"/metrics"}
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)

COUNT: dict[str, int] = {}


@pytest.fixture(scope="module")
def fuzz_source(live_server: LiveServer) -> str:
    sid = "fuzz-" + uuid.uuid4().hex[:8]
    r = httpx.post(f"{live_server.url}/sources", json={"id": sid, "name": "fuzz"}, headers=live_server.admin)
    assert r.status_code == 201, r.text
    return sid


@pytest.fixture(scope="module")
def api_schema(live_server: LiveServer) -> Any:
    return schemathesis.openapi.from_url(f"{live_server.url}/schema/openapi.json")


def _with_source(case: Any, source: str) -> None:
    """Point the generated request at a real source wherever the operation takes one."""
    if case.path_parameters and "source_id" in case.path_parameters:
        case.path_parameters["source_id"] = source
    body = case.body
    if isinstance(body, dict):
        if isinstance(body.get("source"), dict):
            body["source"]["id"] = source
        elif "source" in body and case.path == "/web-events":
            body["source"] = source
        if case.path.startswith("/v1/") and "writeKey" in body:
            body["writeKey"] = source


def _fuzz(schema: Any, live_server: LiveServer, headers: dict[str, str], source: str | None) -> int:
    """Every operation, EXAMPLES generated cases each; the first failure fails the test with its case."""
    cases = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in SKIP_PATHS:
            continue

        @given(case=operation.as_strategy())
        @FUZZ_SETTINGS
        def run(case: Any) -> None:
            nonlocal cases
            if source is not None:
                _with_source(case, source)
            cases += 1
            case.call_and_validate(base_url=live_server.url, headers=headers, checks=CHECKS)

        run()
    return cases


def test_fuzz_with_credentials(api_schema: Any, live_server: LiveServer, fuzz_source: str) -> None:
    COUNT["with"] = _fuzz(
        api_schema, live_server, {**live_server.admin, "X-Source-Id": fuzz_source}, fuzz_source
    )


def test_fuzz_without_credentials(api_schema: Any, live_server: LiveServer) -> None:
    COUNT["without"] = _fuzz(api_schema, live_server, {}, None)


def test_fuzz_case_count() -> None:
    """Runs after the parametrized tests in this module: the bounded run still makes >= 1,000 requests."""
    total = sum(COUNT.values())
    print(f"\nfuzz: {COUNT} = {total} cases ({EXAMPLES} examples per operation and credential mode)")
    if len(COUNT) == 2 and EXAMPLES >= 30:
        assert total >= 1000
