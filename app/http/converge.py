"""Converge postbacks: `POST /converge/{source_id}`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Request, post
from litestar.params import FromPath, JSONBody

from app.dialects.converge import ConvergePayload, to_batch
from app.http.auth import require_source
from app.http.client import client_info
from app.http.dependencies import ServicesDep
from app.http.ingest_common import EventsAck, Ref, json_body_guard


class ConvergeResponse(msgspec.Struct):
    profile: Ref
    session: Ref
    events: EventsAck
    aliases: list[str]


@post(
    "/converge/{source_id:str}",
    status_code=200,
    guards=[json_body_guard],
    tags=["ingestion"],
    summary="Converge postback: server form (event_name, ...) or browser form (method, eventName, ...)",
)
async def converge(
    request: Request[Any, Any, Any],
    source_id: FromPath[str],
    data: JSONBody[ConvergePayload],
    services: ServicesDep,
) -> ConvergeResponse:
    await require_source(services.sources, source_id)
    batch = to_batch(
        data, source_id=source_id, received_at=datetime.now(UTC), blocked=services.settings.blocked_values
    )
    batch.client = client_info(request, services.settings)
    result = await services.ingestion.ingest(batch)
    return ConvergeResponse(
        profile=Ref(result.profile_id),
        session=Ref(result.session_id),
        events=EventsAck(result.event_ids, result.saved, result.duplicates),
        aliases=result.aliases,
    )
