"""What every ingestion endpoint shares: the JSON content-type check and the answer shapes."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from app.http.limits import JsonLimits, check_json_bytes
from app.http.problems import ApiError

# text/plain is what browsers send with navigator.sendBeacon and what analytics.js uses to skip the CORS
# preflight; the body is still JSON.
JSON_MEDIA_TYPES = ("application/json", "text/plain")


async def json_body_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """415 unless the body says it is JSON; then 422 if its shape breaks a limit (app.http.limits).

    Segment's handlers check the shape themselves, after their own size limit (500 KB a batch, 413 first)
    and after decompressing a gzip body."""
    media_type = connection.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if not (
        media_type in JSON_MEDIA_TYPES
        or (media_type.startswith("application/") and media_type.endswith("+json"))
    ):
        raise ApiError(
            415, f"send JSON (Content-Type: application/json), not {media_type or 'no content type'!r}"
        )
    encoding = connection.headers.get("content-encoding", "").strip().lower()
    if (
        isinstance(connection, Request)
        and encoding in ("", "identity")
        and "segment" not in (getattr(handler, "tags", None) or [])
    ):
        check_json_bytes(await connection.body(), JsonLimits.of(connection.app.state.settings))


class Ref(msgspec.Struct):
    id: str | None


class EventsAck(msgspec.Struct):
    ids: list[str]
    saved: int
    duplicates: int
