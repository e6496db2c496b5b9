"""Loymax-style web events: `POST /web-events`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Request, post
from litestar.params import JSONBody

from app.dialects.loymax import WebEvent, to_batch
from app.http.auth import require_source
from app.http.client import client_info
from app.http.dependencies import ServicesDep
from app.http.ingest_common import Ref, json_body_guard


class WebEventResponse(msgspec.Struct):
    profile: Ref
    session: Ref
    event: Ref
    duplicate: bool


@post(
    "/web-events",
    status_code=200,
    guards=[json_body_guard],
    tags=["ingestion"],
    summary="Loymax-style web event in a session; a customer_id de-anonymizes the whole session",
)
async def web_events(
    request: Request[Any, Any, Any], data: JSONBody[WebEvent], services: ServicesDep
) -> WebEventResponse:
    source = await require_source(services.sources, data.source_id)
    batch = to_batch(
        data, source_id=source.id, received_at=datetime.now(UTC), blocked=services.settings.blocked_values
    )
    batch.client = client_info(request, services.settings)
    result = await services.ingestion.ingest(batch)
    return WebEventResponse(
        profile=Ref(result.profile_id),
        session=Ref(result.session_id),
        event=Ref(result.event_ids[0]),
        duplicate=result.duplicates > 0,
    )
