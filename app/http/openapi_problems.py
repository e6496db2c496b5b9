"""Error answers in the OpenAPI schema: every operation documents the problem+json responses it can give.

Litestar documents only the success answer of a handler (and a 400 of its own shape that idgraph never
sends). Clients, and the schema-driven fuzz tests, need the errors too, so once the app is built this adds to
every operation the statuses `app.http.problems` answers with, each as `application/problem+json` with the
`Problem` schema; a 503 also names its `Retry-After` header. `/health` answers 503 in its own JSON shape.
"""

from __future__ import annotations

from http import HTTPStatus

from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    Schema,
)

from app.http.problems import PROBLEM_JSON

# Every operation: malformed request, broken contract, unknown resource, too large, database away, a bug.
COMMON = (400, 404, 413, 422, 500, 503)
# Ingestion: no or unknown source (401), disabled source (403), not JSON (415).
INGESTION = (401, 403, 415)
# Admin and query endpoints: no or unknown token.
ADMIN = (401, 409)

PROBLEM_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    required=["status", "title", "detail"],
    properties={
        "status": Schema(type=OpenAPIType.INTEGER),
        "title": Schema(type=OpenAPIType.STRING),
        "detail": Schema(type=OpenAPIType.STRING),
        "type": Schema(type=OpenAPIType.STRING),
        "errors": Schema(
            type=OpenAPIType.ARRAY,
            items=Schema(
                type=OpenAPIType.OBJECT,
                required=["path", "message"],
                properties={
                    "path": Schema(type=OpenAPIType.STRING, description="JSON path, e.g. $.events[0].type"),
                    "message": Schema(type=OpenAPIType.STRING),
                },
            ),
        ),
    },
    description="RFC 9457 problem details",
)

HEALTH_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    required=["status", "neo4j"],
    properties={
        "status": Schema(type=OpenAPIType.STRING),
        "neo4j": Schema(type=OpenAPIType.STRING),
        "version": Schema(type=OpenAPIType.STRING),
    },
)

RETRY_AFTER = OpenAPIHeader(
    schema=Schema(type=OpenAPIType.STRING), description="seconds to wait before retrying", required=True
)


def _problem(status: int) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=HTTPStatus(status).phrase,
        content={PROBLEM_JSON: OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Problem"))},
        headers={"Retry-After": RETRY_AFTER} if status == 503 else None,
    )


def _operations(openapi: OpenAPI) -> list[tuple[str, Operation]]:
    found: list[tuple[str, Operation]] = []
    for path, item in (openapi.paths or {}).items():
        for method in ("get", "put", "post", "delete", "options", "head", "patch", "trace"):
            op = getattr(item, method, None)
            if isinstance(op, Operation):
                found.append((path, op))
    return found


def document_problems(openapi: OpenAPI) -> None:
    """Add the error responses to every operation of the (cached) schema, in place."""
    if openapi.components.schemas is None:
        openapi.components.schemas = {}
    openapi.components.schemas["Problem"] = PROBLEM_SCHEMA
    for path, op in _operations(openapi):
        responses = op.responses if op.responses is not None else {}
        op.responses = responses
        if path == "/health":
            responses["503"] = OpenAPIResponse(
                description="Neo4j does not answer",
                content={"application/json": OpenAPIMediaType(schema=HEALTH_SCHEMA)},
                headers={"Retry-After": RETRY_AFTER},
            )
            continue
        extra = INGESTION if "ingestion" in (op.tags or []) else ADMIN
        for status in sorted({*COMMON, *extra}):
            # Replaces Litestar's own 400 (a shape idgraph never answers with).
            responses[str(status)] = _problem(status)
        if path == "/changes":  # a cursor older than the change retention
            responses["410"] = _problem(410)
