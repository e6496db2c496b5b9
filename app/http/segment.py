"""The Segment tracking API: `POST /v1/batch` and `POST /v1/{identify,track,page,screen,group,alias}`.

The body is read raw here rather than by Litestar's JSON body parsing, because Segment's libraries send it
gzip-compressed (`Content-Encoding: gzip`). It is decompressed incrementally and never past the limit (500 KB
for a batch, the normal request limit for one message), so a compressed bomb costs no more than an honest
body. The write key is the Basic-auth user name (what every Segment library sends) or the body's `writeKey`.
Answers are 200 `{"success": true}`, never a redirect.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Request, post

from app.dialects.segment import Message, decode_batch, decode_message, to_batches
from app.http.auth import require_source
from app.http.client import client_info
from app.http.dependencies import ServicesDep
from app.http.ingest_common import json_body_guard
from app.http.limits import JsonLimits, check_json_bytes
from app.http.problems import ApiError

SINGLE_TYPES = ("identify", "track", "page", "screen", "group", "alias")


class SegmentAck(msgspec.Struct):
    success: bool = True


def basic_auth_user(header: str) -> str | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ApiError(401, "malformed Basic credentials (the write key is the user name)") from None
    user = decoded.partition(":")[0].strip()
    return user or None


def header_write_key(request: Request[Any, Any, Any]) -> str | None:
    return basic_auth_user(request.headers.get("authorization", ""))


def _too_large(limit: int) -> ApiError:
    return ApiError(413, f"the request body is larger than this endpoint accepts ({limit} bytes)")


async def read_body(request: Request[Any, Any, Any], limit: int) -> bytes:
    """The body, gunzipped when it says so; 413 as soon as the raw or decompressed size passes the limit."""
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip", "x-gzip", ""):
        raise ApiError(415, f"unsupported Content-Encoding {encoding!r} (send gzip or none)")
    gzipped = encoding in ("gzip", "x-gzip")
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzipped else None
    # The compressed stream is bounded by the app-wide request limit; its content by this endpoint's.
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        if inflater is None:
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            parts.append(chunk)
            continue
        try:
            out = inflater.decompress(chunk, limit + 1 - size)
        except zlib.error:
            raise ApiError(400, "the body is not valid gzip") from None
        size += len(out)
        if size > limit or inflater.unconsumed_tail:
            raise _too_large(limit)
        parts.append(out)
    if inflater is not None:
        try:
            tail = inflater.flush()
        except zlib.error:
            raise ApiError(400, "the body is not valid gzip") from None
        size += len(tail)
        if size > limit:
            raise _too_large(limit)
        parts.append(tail)
        if not inflater.eof:
            raise ApiError(400, "the gzip body is truncated")
    return b"".join(parts)


async def _ingest(
    request: Request[Any, Any, Any],
    services: ServicesDep,
    messages: list[Message],
    paths: list[str],
    body_write_key: str | None,
    batch_context: dict[str, Any],
    sent_at: str | None = None,
) -> SegmentAck:
    source = await require_source(services.sources, header_write_key(request) or body_write_key)
    settings = services.settings
    batches = to_batches(
        messages,
        source_id=source.id,
        batch_context=batch_context,
        received_at=datetime.now(UTC),
        blocked=settings.blocked_values,
        max_events=settings.max_events_per_request,
        paths=paths,
        sent_at=sent_at,
        correct_clock_skew=True,
    )
    for message, batch in zip(messages, batches, strict=True):
        # Server-side libraries name the end user's IP in context.ip; the connection's peer is the server.
        batch.client = client_info(request, settings, ip=message.context.get("ip") or batch_context.get("ip"))
    if batches:
        await services.ingestion.ingest_messages(batches, settings.max_events_per_request)
    return SegmentAck()


@post(
    "/v1/batch",
    status_code=200,
    guards=[json_body_guard],
    tags=["ingestion", "segment"],
    summary="Segment batch: {batch: [...], context?, writeKey?}; gzip accepted; at most 500 KB",
)
async def segment_batch(request: Request[Any, Any, Any], services: ServicesDep) -> SegmentAck:
    if header_write_key(request):  # credentials before the body, when the header carries them
        await require_source(services.sources, header_write_key(request))
    body = await read_body(request, services.settings.segment_max_batch_bytes)
    check_json_bytes(body, JsonLimits.of(services.settings))
    data = decode_batch(body)
    paths = [f"$.batch[{i}]" for i in range(len(data.batch))]
    return await _ingest(request, services, data.batch, paths, data.write_key, data.context, data.sent_at)


@post(
    [f"/v1/{kind}" for kind in SINGLE_TYPES],
    status_code=200,
    guards=[json_body_guard],
    tags=["ingestion", "segment"],
    summary="One Segment message; the path names its type; gzip accepted",
)
async def segment_message(request: Request[Any, Any, Any], services: ServicesDep) -> SegmentAck:
    kind = request.url.path.rstrip("/").rsplit("/", 1)[-1]
    if header_write_key(request):
        await require_source(services.sources, header_write_key(request))
    body = await read_body(request, services.settings.max_body_bytes)
    check_json_bytes(body, JsonLimits.of(services.settings))
    message = decode_message(body, kind)
    return await _ingest(request, services, [message], ["$"], message.write_key, {})
