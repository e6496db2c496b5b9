"""The read side: what people ask the graph (which profile owns this alias, a profile and its traits, ...).

Answers are msgspec structs, so the HTTP layer serialises them and Litestar documents them in OpenAPI.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from neo4j import AsyncDriver

from app.queries import QueryCatalog

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
    dialect: str | None
    system: bool
    session: Ref  # {"id": session id or null}; same shape as the ingestion answers
    profile: Ref
    aliases: list[str]
    properties: dict[str, Any]
    context: dict[str, Any]


class ReadService:
    def __init__(self, driver: AsyncDriver, catalog: QueryCatalog, database: str) -> None:
        self._driver = driver
        self._q = catalog
        self._db = database

    async def _rows(self, name: str, **params: Any) -> list[dict[str, Any]]:
        records, _, _ = await self._driver.execute_query(
            self._q[name], params, database_=self._db, routing_="r"
        )
        return [r.data() for r in records]

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
        )

    async def profile(self, profile_id: str) -> ProfileView | None:
        rows = await self._rows("profile_get", id=profile_id)
        if not rows:
            return None
        r = rows[0]
        first_seen, last_seen = native(r["first_seen"]), native(r["last_seen"])
        traits = await self.traits(r["id"])
        traits.update(
            first_seen=first_seen,
            last_seen=last_seen,
            event_count=r["event_count"],
            session_count=r["session_count"],
        )
        return ProfileView(
            id=r["id"],
            traits=traits,
            aliases=r["aliases"],
            merged_ids=r["merged_ids"],
            session_count=r["session_count"],
            event_count=r["event_count"],
            first_seen=first_seen,
            last_seen=last_seen,
            created_at=native(r["created_at"]),
        )

    async def traits(self, live_profile_id: str) -> dict[str, Any]:
        traits: dict[str, Any] = {
            row["key"]: _decode(row["value"])
            for row in await self._rows("profile_trait_inputs", profile_id=live_profile_id)
        }
        traits["events_by_type"] = {
            row["type"]: row["count"]
            for row in await self._rows("profile_events_by_type", profile_id=live_profile_id)
        }
        return traits

    async def session(self, session_id: str) -> SessionView | None:
        rows = await self._rows("session_get", id=session_id)
        if not rows:
            return None
        r = rows[0]
        return SessionView(
            id=r["id"],
            source_id=r["source_id"],
            profile=Ref(r["profile_id"]),
            profile_less=bool(r["profile_less"]),
            aliases=r["aliases"],
            event_count=r["event_count"],
            created_at=native(r["created_at"]),
            first_seen=native(r["first_seen"]),
            last_seen=native(r["last_seen"]),
        )

    async def event(self, event_id: str) -> EventView | None:
        rows = await self._rows("event_get", id=event_id)
        if not rows:
            return None
        r = rows[0]
        return EventView(
            id=r["id"],
            type=r["type"],
            source_id=r["source_id"],
            external_id=r["external_id"],
            time=native(r["time"]),
            received_at=native(r["received_at"]),
            dialect=r["dialect"],
            system=bool(r["system"]),
            session=Ref(r["session_id"]),
            profile=Ref(r["profile_id"]),
            aliases=r["aliases"],
            properties=_decode(r["properties_json"] or "{}"),
            context=_decode(r["context_json"] or "{}"),
        )
