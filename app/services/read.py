"""The read side: what people ask the graph (which profile owns this alias, a profile and its traits, ...).

Answers are msgspec structs, so the HTTP layer serialises them and Litestar documents them in OpenAPI.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import msgspec

from app.store.repository import GraphRepository
from graph_model.trait_fold import from_properties, traits_of
from graph_model.traits import compute_traits

_decode = msgspec.json.decode


def native(value: Any) -> Any:
    """Neo4j temporal values to Python ones (which msgspec writes as ISO 8601 with a zone)."""
    return value.to_native() if hasattr(value, "to_native") else value


class Ref(msgspec.Struct):
    id: str | None


class AliasView(msgspec.Struct):
    urn: str
    type: str
    value: str
    profile: Ref
    first_seen: datetime | None
    last_seen: datetime | None
    # A weak alias that took part in a refused join (a kiosk, a family tablet): it keeps its links and makes
    # no new ones.
    shared: bool = False


class ProfileView(msgspec.Struct):
    id: str
    traits: dict[str, Any]
    aliases: list[str]
    merged_ids: list[str]
    session_count: int
    event_count: int
    first_seen: datetime | None
    last_seen: datetime | None
    created_at: datetime | None


class SessionView(msgspec.Struct):
    id: str
    source_id: str | None
    profile: Ref
    profile_less: bool
    aliases: list[str]
    event_count: int
    created_at: datetime | None
    first_seen: datetime | None
    last_seen: datetime | None


class EventView(msgspec.Struct):
    id: str
    type: str
    source_id: str | None
    external_id: str | None
    time: datetime | None
    received_at: datetime | None
    # The time the client sent when it was too far in the future and the receive time replaced it; else null.
    original_time: datetime | None
    dialect: str | None
    system: bool
    session: Ref  # {"id": session id or null}; same shape as the ingestion answers
    profile: Ref
    aliases: list[str]
    properties: dict[str, Any]
    context: dict[str, Any]


class EventPage(msgspec.Struct):
    items: list[EventView]
    next_cursor: str | None  # pass as ?cursor= for the next page; null on the last page


class SessionPage(msgspec.Struct):
    items: list[SessionView]
    next_cursor: str | None


class InvalidCursor(ValueError):
    """A cursor this server did not hand out."""


def encode_cursor(time: datetime, item_id: str) -> str:
    """Opaque to clients: the (time, id) of the last item of a page, as base64url JSON."""
    raw = msgspec.json.encode([time.isoformat(), item_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        time_text, item_id = msgspec.json.decode(raw, type=tuple[str, str])
        time = datetime.fromisoformat(time_text)
    except (ValueError, TypeError, msgspec.DecodeError, binascii.Error):
        raise InvalidCursor("not a cursor this API handed out") from None
    if time.tzinfo is None:
        raise InvalidCursor("not a cursor this API handed out")
    return time, item_id


def _event_view(r: dict[str, Any], profile_id: str | None) -> EventView:
    """An event row (the columns event_get and profile_events return) as the API shows it."""
    return EventView(
        id=r["id"],
        type=r["type"],
        source_id=r["source_id"],
        external_id=r["external_id"],
        time=native(r["time"]),
        received_at=native(r["received_at"]),
        original_time=native(r.get("original_time")),
        dialect=r["dialect"],
        system=bool(r["system"]),
        session=Ref(r["session_id"]),
        profile=Ref(profile_id),
        aliases=r["aliases"],
        properties=_decode(r["properties_json"] or "{}"),
        context=_decode(r["context_json"] or "{}"),
    )


_View = TypeVar("_View", "EventView", "SessionView")


def _keyset_page(
    items: list[_View], limit: int, time_of: Callable[[_View], datetime | None]
) -> tuple[list[_View], str | None]:
    """The first `limit` items (the query fetched one more, to know whether there is a next page) and the
    cursor after the last of them when there is."""
    last = items[limit - 1] if len(items) > limit else None
    last_time = time_of(last) if last is not None else None
    return items[:limit], encode_cursor(last_time, last.id) if last is not None and last_time else None


def _session_view(r: dict[str, Any], profile_id: str | None) -> SessionView:
    """A session row (the columns session_get and profile_sessions_page return) as the API shows it."""
    return SessionView(
        id=r["id"],
        source_id=r["source_id"],
        profile=Ref(profile_id),
        profile_less=bool(r["profile_less"]),
        aliases=r["aliases"],
        event_count=r["event_count"],
        created_at=native(r["created_at"]),
        first_seen=native(r["first_seen"]),
        last_seen=native(r["last_seen"]),
    )


class ReadQueries:
    """Read-only services: run a catalog query on a reader and return its rows as dicts."""

    def __init__(self, store: GraphRepository) -> None:
        self._store = store

    async def _rows(self, name: str, **params: Any) -> list[dict[str, Any]]:
        return await self._store.read(name, **params)


class ReadService(ReadQueries):
    async def alias(self, urn: str) -> AliasView | None:
        rows = await self._rows("alias_get", urn=urn)
        if not rows:
            return None
        r = rows[0]
        return AliasView(
            r["urn"],
            r["type"],
            r["value"],
            Ref(r["profile_id"]),
            native(r["first_seen"]),
            native(r["last_seen"]),
            bool(r["shared"]),
        )

    async def profile(self, profile_id: str, *, fresh: bool = False) -> ProfileView | None:
        """A profile by any id it had. Traits come from its stored fold (cypher/profile_folded: index seeks,
        whatever the profile's size) unless `fresh`, which traverses its events (the definition)."""
        if fresh:
            return await self.profile_traversed(profile_id)
        rows = await self._rows("profile_folded", id=profile_id)
        if not rows:
            return None
        r = rows[0]
        fold = from_properties(r["fold"])
        traits = traits_of(fold, {e["id"]: e for e in r["slot_events"]})
        return _profile_view(r, traits, traits["session_count"])

    async def profile_traversed(self, profile_id: str) -> ProfileView | None:
        """The profile with traits computed by one traversal of its events (`?fresh=true`)."""
        rows = await self._rows("profile_head", id=profile_id)
        if not rows:
            return None
        r = rows[0]
        traits = await self.traits(r["id"], r["session_count"])
        return _profile_view(r, traits, r["session_count"])

    async def traits(self, live_profile_id: str, session_count: int) -> dict[str, Any]:
        """The traits of a live profile, computed by one traversal of its events (cypher/profile_traits)."""
        rows = await self._rows("profile_traits", profile_id=live_profile_id)
        if not rows:
            return compute_traits([], session_count)
        r = rows[0]
        traits: dict[str, Any] = {key: _decode(value) for key, value in r["inputs"]}
        traits.update(
            first_seen=native(r["first_seen"]),
            last_seen=native(r["last_seen"]),
            event_count=r["event_count"],
            events_by_type=dict(sorted(r["by_type"])),
            session_count=session_count,
            last_page=r["last_page"],
            utm={"first_touch": r["first_touch"], "last_touch": r["last_touch"]},
            device=r["device"],
        )
        return traits

    async def events_page(
        self, profile_id: str, *, limit: int, cursor: str | None, event_type: str | None
    ) -> EventPage | None:
        """A page of the profile's events, newest first; None when no profile has this id."""
        after_time, after_id = decode_cursor(cursor) if cursor else (None, None)
        rows = await self._rows(
            "profile_events_page",
            id=profile_id,
            type=event_type,
            after_time=after_time,
            after_id=after_id,
            limit=limit + 1,
        )
        if not rows:
            return None
        live_id = rows[0]["profile_id"]
        return EventPage(
            *_keyset_page([_event_view(r, live_id) for r in rows[0]["items"]], limit, lambda e: e.time)
        )

    async def sessions_page(self, profile_id: str, *, limit: int, cursor: str | None) -> SessionPage | None:
        """A page of the profile's sessions, newest (created) first; None when no profile has this id."""
        after_time, after_id = decode_cursor(cursor) if cursor else (None, None)
        rows = await self._rows(
            "profile_sessions_page", id=profile_id, after_time=after_time, after_id=after_id, limit=limit + 1
        )
        if not rows:
            return None
        live_id = rows[0]["profile_id"]
        return SessionPage(
            *_keyset_page(
                [_session_view(r, live_id) for r in rows[0]["items"]], limit, lambda v: v.created_at
            )
        )

    async def session(self, session_id: str) -> SessionView | None:
        rows = await self._rows("session_get", id=session_id)
        if not rows:
            return None
        return _session_view(rows[0], rows[0]["profile_id"])

    async def event(self, event_id: str) -> EventView | None:
        rows = await self._rows("event_get", id=event_id)
        if not rows:
            return None
        r = rows[0]
        return _event_view(r, r["profile_id"])


def _profile_view(head: Any, traits: dict[str, Any], session_count: int) -> ProfileView:
    """A profile's answer from its head row (id, aliases, merged ids, created_at) and its traits, however
    they were computed: the stored fold or the traversal (`?fresh=true`) answer the same shape."""
    return ProfileView(
        id=head["id"],
        traits=traits,
        aliases=head["aliases"],
        merged_ids=head["merged_ids"],
        session_count=session_count,
        event_count=traits["event_count"],
        first_seen=traits["first_seen"],
        last_seen=traits["last_seen"],
        created_at=native(head["created_at"]),
    )
