"""Tracardi endpoints: `POST /track` and `POST /collect/{event_type}/{source_id}`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Request, post
from litestar.params import FromPath, FromQuery, JSONBody

from app.dialects.tracardi import TrackPayload, collect_to_batch, track_to_batch
from app.http.auth import require_source
from app.http.client import client_info
from app.http.dependencies import ServicesDep
from app.http.ingest_common import EventsAck, Ref, json_body_guard
from app.services.read import ProfileView


class SourceAck(msgspec.Struct):
    consent: bool = False


class DebugBlock(msgspec.Struct):
    saved: int
    errors: list[str]
    ids: list[str]


class TrackDebugging(msgspec.Struct):
    session: DebugBlock
    events: DebugBlock
    profile: DebugBlock
    identity: dict[str, Any]


class TrackProfile(msgspec.Struct, omit_defaults=True):
    """`{"id"}`; with `options.profile`, the whole profile document as `GET /profiles/{id}` answers it."""

    id: str | None
    traits: dict[str, Any] | None = None
    aliases: list[str] | None = None
    merged_ids: list[str] | None = None
    session_count: int | None = None
    event_count: int | None = None
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    created_at: datetime | None = None

    @classmethod
    def of(cls, view: ProfileView) -> TrackProfile:
        return cls(**msgspec.structs.asdict(view))


class TrackResponse(msgspec.Struct, omit_defaults=True):
    profile: TrackProfile
    session: Ref
    source: SourceAck
    events: EventsAck
    debugging: TrackDebugging | None = None


class CollectResponse(msgspec.Struct):
    event: Ref


@post(
    "/track",
    status_code=200,
    guards=[json_body_guard],
    tags=["ingestion"],
    summary="Tracardi tracker payload: events in a session, bound to a profile",
)
async def track(
    request: Request[Any, Any, Any],
    data: JSONBody[TrackPayload],
    services: ServicesDep,
    profile_less: FromQuery[bool] = False,
) -> TrackResponse:
    await require_source(services.sources, data.source.id)
    settings = services.settings
    batch = track_to_batch(
        data,
        profile_less=profile_less,
        received_at=datetime.now(UTC),
        blocked=settings.blocked_values,
        max_events=settings.max_events_per_request,
    )
    batch.client = client_info(request, settings)
    result = await services.ingestion.ingest(batch)
    profile = TrackProfile(result.profile_id)
    if data.options.profile and result.profile_id is not None:
        view = await services.read.profile(result.profile_id)
        if view is not None:
            profile = TrackProfile.of(view)
    debugging = None
    if data.options.debugger:
        created_profile = 0 if data.profile and data.profile.id == result.profile_id else 1
        debugging = TrackDebugging(
            session=DebugBlock(
                int(result.session_id is not None), [], [result.session_id] if result.session_id else []
            ),
            events=DebugBlock(result.saved, [], result.event_ids),
            profile=DebugBlock(
                created_profile if result.profile_id else 0,
                [],
                [result.profile_id] if result.profile_id else [],
            ),
            identity={
                "aliases": result.aliases,
                "merges": [msgspec.to_builtins(m) for m in result.merges],
                "refused": result.refused,
            },
        )
    return TrackResponse(
        profile=profile,
        session=Ref(result.session_id),
        source=SourceAck(),
        events=EventsAck(result.event_ids, result.saved, result.duplicates),
        debugging=debugging,
    )


@post(
    "/collect/{event_type:str}/{source_id:str}",
    status_code=200,
    guards=[json_body_guard],
    tags=["ingestion"],
    summary="One event of a type, the body its properties; no session, no profile",
)
async def collect(
    request: Request[Any, Any, Any],
    event_type: FromPath[str],
    source_id: FromPath[str],
    data: JSONBody[dict[str, Any]],
    services: ServicesDep,
) -> CollectResponse:
    await require_source(services.sources, source_id)
    batch = collect_to_batch(event_type, source_id, data, received_at=datetime.now(UTC))
    batch.client = client_info(request, services.settings)
    result = await services.ingestion.ingest(batch)
    return CollectResponse(Ref(result.event_ids[0]))
