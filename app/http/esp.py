"""E.S.P. (Apache Unomi style) events: `POST /events`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, post
from litestar.params import HeaderParameter, JSONBody

from app.dialects.esp import EspPayload, source_of, to_batches
from app.http.auth import require_source
from app.http.client import client_info
from app.http.dependencies import ServicesDep
from app.http.ingest_common import EventsAck, Ref, json_body_guard


class SessionBinding(msgspec.Struct):
    id: str | None
    profile: Ref


class EspResponse(msgspec.Struct):
    """`profile` and `session` of the first event; `sessions` lists every session the request touched."""

    profile: Ref
    session: Ref
    events: EventsAck
    sessions: list[SessionBinding]


@post(
    "/events",
    status_code=200,
    guards=[json_body_guard],
    tags=["ingestion"],
    summary="E.S.P. / Apache Unomi events: one event or {events: [...]}; identify of an analyticsUser",
)
async def esp_events(
    request: Request[Any, Any, Any],
    data: JSONBody[EspPayload],
    services: ServicesDep,
    x_source_id: Annotated[str | None, HeaderParameter(name="X-Source-Id", required=False)] = None,
) -> EspResponse:
    source = await require_source(services.sources, source_of(data, x_source_id))
    settings = services.settings
    batches = to_batches(
        data,
        source_id=source.id,
        received_at=datetime.now(UTC),
        blocked=settings.blocked_values,
        max_events=settings.max_events_per_request,
    )
    client = client_info(request, settings)
    for batch in batches:
        batch.client = client
    results = await services.ingestion.ingest_many(batches)
    # Answer the ids in request order, across the per-session batches.
    events = data.events if data.events is not None else [data]
    default_session = data.session_id if data.events is not None else None
    cursor = {b.session_id: 0 for b in batches}
    by_session = {b.session_id: r for b, r in zip(batches, results, strict=True)}
    ids: list[str] = []
    for ev in events:
        sid = ev.session_id or default_session
        ids.append(by_session[sid].event_ids[cursor[sid]])
        cursor[sid] += 1
    first = results[0]
    return EspResponse(
        profile=Ref(first.profile_id),
        session=Ref(first.session_id),
        events=EventsAck(ids, sum(r.saved for r in results), sum(r.duplicates for r in results)),
        sessions=[SessionBinding(r.session_id, Ref(r.profile_id)) for r in results],
    )
