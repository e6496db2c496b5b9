"""The canonical event: what every dialect adapter translates its payload into.

The ingestion service and the repository only ever see these types, so a new dialect is a new translator and
nothing else.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from graph_model.enrichment import ClientInfo
from graph_model.urn import AliasUrn

# API.md's default for IDGRAPH_MAX_FUTURE_SKEW_HOURS.
DEFAULT_MAX_FUTURE_SKEW = timedelta(hours=24)


class CanonicalEvent(msgspec.Struct, kw_only=True):
    type: str
    time: datetime
    # The time the client sent, when the receive time replaced it (it was too far in the future): see
    # `within_future_skew`. None when `time` is the client's (or the receive time for an event without one).
    original_time: datetime | None = None
    # The client's own id for the event (Tracardi `id`, Converge `event_id`, Segment `messageId`, ...):
    # unique per source, the key of deduplication. None when the client sent none.
    external_id: str | None = None
    properties: dict[str, Any] = msgspec.field(default_factory=dict)
    context: dict[str, Any] = msgspec.field(default_factory=dict)
    # Aliases this event carries (already normalised and checked against blocked values).
    aliases: list[AliasUrn] = msgspec.field(default_factory=list)
    # Inputs the traits are computed from (identify properties, profile_properties, Segment traits).
    trait_inputs: dict[str, Any] = msgspec.field(default_factory=dict)


class IngestBatch(msgspec.Struct, kw_only=True):
    """One unit of ingestion: events from one source, in one session (or none), written in one transaction."""

    source_id: str
    dialect: str
    events: list[CanonicalEvent]
    session_id: str | None = None
    # A profile id the client holds from an earlier answer (Tracardi `profile.id`).
    claimed_profile_id: str | None = None
    # Aliases the request carries outside any event (Tracardi `aliases[]`, Converge `set`).
    aliases: list[AliasUrn] = msgspec.field(default_factory=list)
    profile_less: bool = False
    save_session: bool = True
    save_events: bool = True
    received_at: datetime = msgspec.field(default_factory=lambda: datetime.now(UTC))
    # The client that sent the request (user agent, protected IP), set by the HTTP layer for enrichment.
    client: ClientInfo | None = None
    # The client asserts that its aliases are one person (a Segment `alias` call links previousId with
    # userId): the identity rules take it as strong evidence for every alias it names; limits still apply.
    asserted: bool = False

    def all_aliases(self) -> list[AliasUrn]:
        seen: dict[AliasUrn, None] = dict.fromkeys(self.aliases)
        for event in self.events:
            seen.update(dict.fromkeys(event.aliases))
        return list(seen)


def parse_event_time(raw: Any, received_at: datetime) -> datetime:
    """ISO 8601 or epoch seconds (or milliseconds, which some trackers send) to an aware UTC datetime.

    An event without a time gets the receive time. Raises ValueError for text that is not a time.
    """
    if raw is None or raw == "":
        return received_at
    if isinstance(raw, bool):
        raise ValueError("a time must be ISO 8601 text or epoch seconds")
    if isinstance(raw, int | float):
        seconds = float(raw)
        if seconds > 1e11:  # epoch milliseconds: year 5138 in seconds, so never a real seconds value
            seconds /= 1000.0
        return datetime.fromtimestamp(seconds, tz=UTC)
    if isinstance(raw, str):
        text = raw.strip()
        if text.replace(".", "", 1).isdigit():
            return parse_event_time(float(text), received_at)
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            # A time without a zone is read as UTC, the convention of every tracker idgraph speaks.
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    raise ValueError("a time must be ISO 8601 text or epoch seconds")


def sent_at_corrected(time: datetime, sent_at: datetime | None, received_at: datetime) -> datetime:
    """Segment's clock-skew correction: a device stamps a message (`timestamp`) and its batch (`sentAt`) with
    the same clock, so `sentAt - timestamp` is the message's age when sent, whatever the clock's error, and
    the message happened that long before the server received it: received - (sentAt - timestamp)."""
    if sent_at is None:
        return time
    return received_at - (sent_at - time)


def within_future_skew(event: CanonicalEvent, received_at: datetime, max_skew: timedelta) -> CanonicalEvent:
    """The event, or a copy with the receive time when its time is more than `max_skew` after its receipt:
    a wrong device clock must not become the profile's `last_seen` or the "latest" value of its traits. The
    time the client sent is kept as `original_time`."""
    if event.time - received_at <= max_skew:
        return event
    return msgspec.structs.replace(event, time=received_at, original_time=event.original_time or event.time)
