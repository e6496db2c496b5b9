"""Credentials: a bearer token for admin and query endpoints, an enabled source for ingestion."""

from __future__ import annotations

import hmac
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from app.http.problems import ApiError
from app.services.sources import Source, SourceService


async def admin_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Personal data needs the admin token: no token, no data.

    A coroutine, though it never waits: Litestar runs a plain-function guard in its thread pool, a hop to
    a worker thread and back on every request (bench/api_cpu.py)."""
    expected: str = connection.app.state.admin_token
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    # compare_digest: the time taken does not tell how much of a guessed token was right.
    if (
        scheme.lower() != "bearer"
        or not token
        or not hmac.compare_digest(token.strip().encode(), expected.encode())
    ):
        raise ApiError(
            401,
            "missing or unknown admin token (Authorization: Bearer <token>)",
            headers={"WWW-Authenticate": 'Bearer realm="idgraph"'},
        )


async def require_source(sources: SourceService, source_id: str | None) -> Source:
    if not source_id:
        raise ApiError(401, "no event source given (source.id, the path, X-Source-Id or a write key)")
    source = await sources.get_for_ingestion(source_id)
    if source is None:
        raise ApiError(401, f"unknown event source {source_id!r}")
    if not source.enabled:
        raise ApiError(403, f"event source {source_id!r} is disabled")
    return source
