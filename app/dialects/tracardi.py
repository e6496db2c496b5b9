"""Tracardi's tracker dialect: `POST /track` payloads and `POST /collect/{event_type}/{source_id}` bodies.

Wire models mirror what Tracardi's JavaScript tracker sends; `to_batch` translates them into the canonical
batch. An `identify` event's PII properties become aliases and all its properties become trait inputs, as an
identification point does in Tracardi; `aliases[]` links URNs to the session directly.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any

import msgspec

from app.dialects.common import event_time, event_type, external_id, pii_aliases, urn_list
from graph_model.errors import invalid
from graph_model.events import CanonicalEvent, IngestBatch

IDENTIFY_TYPES = frozenset({"identify"})
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class SourceRef(msgspec.Struct):
    id: Id


class EntityRef(msgspec.Struct):
    id: Id | None = None


class TrackOptions(msgspec.Struct, rename="camel"):
    profile: bool = False
    save_session: bool = True
    save_events: bool = True
    debugger: bool = False


class TrackEvent(msgspec.Struct):
    type: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    id: Id | int | None = None
    properties: dict[str, Any] = msgspec.field(default_factory=dict)
    context: dict[str, Any] = msgspec.field(default_factory=dict)
    options: dict[str, Any] = msgspec.field(default_factory=dict)
    time: str | int | float | None = None


class TrackPayload(msgspec.Struct):
    source: SourceRef
    events: list[TrackEvent] = msgspec.field(default_factory=list)
    session: EntityRef | None = None
    profile: EntityRef | None = None
    context: dict[str, Any] = msgspec.field(default_factory=dict)
    properties: dict[str, Any] = msgspec.field(default_factory=dict)
    options: TrackOptions = msgspec.field(default_factory=TrackOptions)
    aliases: list[str] = msgspec.field(default_factory=list)


def track_to_batch(
    payload: TrackPayload,
    *,
    profile_less: bool,
    received_at: datetime,
    blocked: Iterable[str],
    max_events: int,
) -> IngestBatch:
    session_id = payload.session.id if payload.session else None
    if session_id is None and not profile_less:
        raise invalid("$.session.id", "is required unless the request is profile-less (?profile_less=true)")
    if len(payload.events) > max_events:
        raise invalid("$.events", f"at most {max_events} events per request")
    events = []
    for i, ev in enumerate(payload.events):
        path = f"$.events[{i}]"
        kind = event_type(ev.type, f"{path}.type")
        context = {**payload.context, **ev.context}
        if payload.properties:
            context["tracker_properties"] = payload.properties
        identify = kind in IDENTIFY_TYPES
        events.append(
            CanonicalEvent(
                type=kind,
                time=event_time(ev.time, received_at, f"{path}.time"),
                external_id=external_id(ev.id, f"{path}.id"),
                properties=ev.properties,
                context=context,
                aliases=pii_aliases(ev.properties, blocked) if identify else [],
                trait_inputs=dict(ev.properties) if identify else {},
            )
        )
    return IngestBatch(
        source_id=payload.source.id,
        dialect="tracardi",
        events=events,
        session_id=session_id,
        claimed_profile_id=payload.profile.id if payload.profile else None,
        aliases=urn_list(payload.aliases, "$.aliases", blocked),
        profile_less=profile_less,
        save_session=payload.options.save_session,
        save_events=payload.options.save_events,
        received_at=received_at,
    )


def collect_to_batch(
    event_type_raw: str, source_id: str, body: dict[str, Any], *, received_at: datetime
) -> IngestBatch:
    kind = event_type(event_type_raw, "$path.event_type")
    return IngestBatch(
        source_id=source_id,
        dialect="tracardi-collect",
        events=[CanonicalEvent(type=kind, time=received_at, properties=body)],
        profile_less=True,
        received_at=received_at,
    )
