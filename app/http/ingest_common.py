"""What every ingestion endpoint shares: the JSON content-type check and the answer shapes."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from app.http.problems import ApiError

# text/plain is what browsers send with navigator.sendBeacon and what analytics.js uses to skip the CORS
# preflight; the body is still JSON.
JSON_MEDIA_TYPES = ("application/json", "text/plain")


def json_body_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    media_type = connection.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type in JSON_MEDIA_TYPES or (
        media_type.startswith("application/") and media_type.endswith("+json")
    ):
        return
    raise ApiError(
        415, f"send JSON (Content-Type: application/json), not {media_type or 'no content type'!r}"
    )


class Ref(msgspec.Struct):
    id: str | None


class EventsAck(msgspec.Struct):
    ids: list[str]
    saved: int
    duplicates: int
