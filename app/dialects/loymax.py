"""Loymax-style web events: `POST /web-events`.

A web event is one customer action on a site or in an app: `source` (the event source id, as text or as
`{"id": ...}`), `session_id` (mandatory: a web event always belongs to a session), `event_type`, optional
`customer_id`, `event_id` (deduplication), `properties`, `context` (the object the event is about, e.g. the
product added to the cart, stored with the event as it was at that moment) and `timestamp`.

`customer_id` becomes `urn:customer_id:<id>` on the event. Because the ingestion service links aliases to the
event's session, the first event with a customer id de-anonymizes the session: the session, and so every event
bound to it earlier, now belongs to that customer's profile (merging the anonymous profile into the customer's
when the customer is already known).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any

import msgspec

from app.dialects.common import event_time, event_type, external_id, pii_aliases
from graph_model.errors import invalid
from graph_model.events import CanonicalEvent, IngestBatch

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class SourceRef(msgspec.Struct):
    id: Id


class WebEvent(msgspec.Struct):
    # Optional on the wire so that a missing one is answered with its own path (401 / 422 `$.session_id`).
    source: Id | SourceRef | None = None
    session_id: Id | None = None
    event_type: str | None = None
    # Not constrained: an empty or junk customer id is ignored (the event is still stored), never a 422.
    customer_id: Annotated[str, msgspec.Meta(max_length=256)] | int | None = None
    event_id: Id | int | None = None
    properties: dict[str, Any] = msgspec.field(default_factory=dict)
    context: dict[str, Any] = msgspec.field(default_factory=dict)
    timestamp: str | int | float | None = None

    @property
    def source_id(self) -> str | None:
        return self.source.id if isinstance(self.source, SourceRef) else self.source


def to_batch(
    payload: WebEvent, *, source_id: str, received_at: datetime, blocked: Iterable[str]
) -> IngestBatch:
    if payload.session_id is None:
        raise invalid("$.session_id", "is required: a web event always belongs to a session")
    if payload.event_type is None:
        raise invalid("$.event_type", "is required")
    aliases = pii_aliases({"customer_id": payload.customer_id}, blocked)
    # The customer fields are trait input, as identify properties are in the other dialects; a blocked
    # value (empty, "null", ...) names nobody and is no trait either.
    customer = {"customer_id": payload.customer_id} if aliases else {}
    event = CanonicalEvent(
        type=event_type(payload.event_type, "$.event_type"),
        time=event_time(payload.timestamp, received_at, "$.timestamp"),
        external_id=external_id(payload.event_id, "$.event_id"),
        properties=payload.properties,
        context=payload.context,
        aliases=aliases,
        trait_inputs=customer,
    )
    return IngestBatch(
        source_id=source_id,
        dialect="loymax",
        events=[event],
        session_id=payload.session_id,
        received_at=received_at,
    )
