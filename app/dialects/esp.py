"""The E.S.P. (Apache Unomi style) event dialect: `POST /events`.

A body is one Unomi event or `{"sessionId"?, "source"?, "events": [...]}` as Unomi's event collector takes
it. Each event has an `eventType`, a `sessionId` (or inherits the body's), an optional `itemId` (the event id,
the key of deduplication), `properties`, `timeStamp`, `scope`, and `source` / `target` items (`itemType`,
`itemId`, `properties`). An `identify` event whose target is an `analyticsUser` (what Unomi's analytics.js
sends for `identify(userId, traits)`) carries the person: the PII keys of `target.properties` become aliases
and all of `target.properties` become trait inputs.

Events of one request may belong to several sessions; they become one canonical batch per session, in order of
first appearance, and are written in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any

import msgspec

from app.dialects.common import event_time, event_type, external_id, pii_aliases
from graph_model.errors import invalid
from graph_model.events import CanonicalEvent, IngestBatch

IDENTIFY_TYPE = "identify"
ANALYTICS_USER = "analyticsUser"
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class EspItem(msgspec.Struct, rename="camel"):
    """A Unomi item: the event's source (the page, the site) or target (the user, a form, a product)."""

    item_type: str | None = None
    item_id: str | int | None = None
    scope: str | None = None
    properties: dict[str, Any] = msgspec.field(default_factory=dict)
    # Not Unomi's: idgraph's event source id, accepted on the body-level source.
    id: str | None = None


class EspEvent(msgspec.Struct, rename="camel"):
    event_type: str | None = None
    session_id: Id | None = None
    item_id: Id | int | None = None
    properties: dict[str, Any] = msgspec.field(default_factory=dict)
    time_stamp: str | int | float | None = None
    scope: str | None = None
    source: EspItem | None = None
    target: EspItem | None = None


class EspPayload(EspEvent, rename="camel"):
    """One event (the body is the event), or a collector request (`events`; body fields are defaults)."""

    events: list[EspEvent] | None = None


def source_of(payload: EspPayload, header: str | None) -> str | None:
    """`X-Source-Id`, else the body's `source.id`, else its `source.itemId` (the site, as Unomi names it)."""
    if header and header.strip():
        return header.strip()
    item = payload.source
    if item is None:
        return None
    for value in (item.id, item.item_id):
        if value is not None and str(value).strip():
            return str(value).strip()
    return None


def _item_context(item: EspItem | None) -> dict[str, Any] | None:
    if item is None:
        return None
    return {
        "itemType": item.item_type,
        "itemId": item.item_id,
        "scope": item.scope,
        "properties": item.properties,
    }


def to_batches(
    payload: EspPayload,
    *,
    source_id: str,
    received_at: datetime,
    blocked: Iterable[str],
    max_events: int,
) -> list[IngestBatch]:
    if payload.events is None:
        listed: list[tuple[str, EspEvent]] = [("$", payload)]
        default_session = None
    else:
        if not payload.events:
            raise invalid("$.events", "must hold at least one event")
        listed = [(f"$.events[{i}]", ev) for i, ev in enumerate(payload.events)]
        default_session = payload.session_id
    if len(listed) > max_events:
        raise invalid("$.events", f"at most {max_events} events per request")
    blocked = frozenset(blocked)
    by_session: dict[str, list[CanonicalEvent]] = {}
    for path, ev in listed:
        if ev.event_type is None:
            raise invalid(f"{path}.eventType", "is required")
        kind = event_type(ev.event_type, f"{path}.eventType")
        session_id = ev.session_id or default_session
        if session_id is None:
            raise invalid(f"{path}.sessionId", "is required (on the event or the request)")
        target = ev.target
        identify = kind == IDENTIFY_TYPE and target is not None and target.item_type == ANALYTICS_USER
        context: dict[str, Any] = {"scope": ev.scope or payload.scope}
        for name, item in (("source", ev.source), ("target", target)):
            item_context = _item_context(item)
            if item_context is not None:
                context[name] = item_context
        by_session.setdefault(session_id, []).append(
            CanonicalEvent(
                type=kind,
                time=event_time(ev.time_stamp, received_at, f"{path}.timeStamp"),
                external_id=external_id(ev.item_id, f"{path}.itemId"),
                properties=ev.properties,
                context=context,
                aliases=pii_aliases(target.properties, blocked) if identify and target else [],
                trait_inputs=dict(target.properties) if identify and target else {},
            )
        )
    return [
        IngestBatch(
            source_id=source_id,
            dialect="esp",
            events=events,
            session_id=session_id,
            received_at=received_at,
        )
        for session_id, events in by_session.items()
    ]
