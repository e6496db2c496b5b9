"""Converge postbacks: `POST /converge/{source_id}`, in the server (webhook) form and the browser (cvg) form.

Server form, as Converge's webhook source takes it: `event_name`, `event_id` (deduplication), `properties`,
`profile_properties`, `aliases[]`, `timestamp`, optional `session_id`. Browser form, as `cvg({...})` sends it:
`method` (`track`, `forward`, `page`, `set`), `eventName`, `eventID`, `properties`, `profileProperties`,
`aliases[]`, optional `sessionId`. A body with `method` is the browser form.

Aliases are URNs (`urn:email:john.smith@apple.com`, `urn:checkout_token:456abc`); when given, 1-10 per call.
They travel on the event, or, for `set`, on the request without any event. Profile properties are trait input
with Converge's `$` prefix dropped (`$first_name` -> `first_name`); Converge does not treat them as aliases
(its docs: a profile property persists, an alias identifies), so neither does idgraph.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from app.dialects.common import event_time, event_type, external_id, urn_list
from graph_model.errors import invalid
from graph_model.events import CanonicalEvent, IngestBatch

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
Aliases = Annotated[list[str], msgspec.Meta(min_length=1, max_length=10)]
Method = Literal["track", "forward", "page", "set"]
# What Converge's pixel names the event of a bare `cvg({method: "page"})`.
PAGE_EVENT = "$page_load"


class ConvergePayload(msgspec.Struct):
    # Server (webhook) form.
    event_name: str | None = None
    event_id: Id | int | None = None
    profile_properties: dict[str, Any] | None = None
    session_id: Id | None = None
    timestamp: str | int | float | None = None
    # Browser form.
    method: Method | None = None
    browser_event_name: str | None = msgspec.field(default=None, name="eventName")
    browser_event_id: Id | int | None = msgspec.field(default=None, name="eventID")
    browser_profile_properties: dict[str, Any] | None = msgspec.field(default=None, name="profileProperties")
    browser_session_id: Id | None = msgspec.field(default=None, name="sessionId")
    # Both.
    properties: dict[str, Any] = msgspec.field(default_factory=dict)
    aliases: Aliases | None = None


def trait_inputs(profile_properties: Mapping[str, Any]) -> dict[str, Any]:
    """`$first_name` -> `first_name`; keys without the prefix stay as they are."""
    return {key.removeprefix("$"): value for key, value in profile_properties.items()}


def to_batch(
    payload: ConvergePayload, *, source_id: str, received_at: datetime, blocked: Iterable[str]
) -> IngestBatch:
    browser = payload.method is not None
    aliases = urn_list(payload.aliases or [], "$.aliases", blocked)
    session_id = payload.browser_session_id if browser else payload.session_id
    if payload.method == "set":
        if payload.aliases is None:
            raise invalid("$.aliases", "is required for method set (1-10 URNs)")
        return IngestBatch(
            source_id=source_id,
            dialect="converge",
            events=[],
            session_id=session_id,
            aliases=aliases,
            received_at=received_at,
        )
    if browser:
        name_field, id_field, name, raw_id, profile = (
            "eventName",
            "eventID",
            payload.browser_event_name,
            payload.browser_event_id,
            payload.browser_profile_properties,
        )
        if name is None and payload.method == "page":
            name = PAGE_EVENT
    else:
        name_field, id_field, name, raw_id, profile = (
            "event_name",
            "event_id",
            payload.event_name,
            payload.event_id,
            payload.profile_properties,
        )
    if name is None:
        raise invalid(f"$.{name_field}", "is required")
    event = CanonicalEvent(
        type=event_type(name, f"$.{name_field}"),
        time=event_time(payload.timestamp, received_at, "$.timestamp"),
        external_id=external_id(raw_id, f"$.{id_field}"),
        properties=payload.properties,
        context={"converge": {"form": "browser" if browser else "server", "method": payload.method}},
        aliases=aliases,
        trait_inputs=trait_inputs(profile or {}),
    )
    return IngestBatch(
        source_id=source_id,
        dialect="converge",
        events=[event],
        session_id=session_id,
        received_at=received_at,
    )
