"""The repository: one method per Cypher file, run inside a transaction the caller owns.

Nothing here decides anything; it moves parameters in and records out. The ingestion service composes these
calls inside one managed write transaction so a request is written whole or not at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from neo4j import AsyncManagedTransaction

from app.metrics import neo4j_timer
from app.queries import QueryCatalog


class GraphRepository:
    def __init__(self, catalog: QueryCatalog) -> None:
        self._q = catalog

    async def rows(self, tx: AsyncManagedTransaction, name: str, **params: Any) -> list[dict[str, Any]]:
        """Run `cypher/<name>.cypher` in the caller's transaction (timed for /metrics); its rows as dicts."""
        with neo4j_timer(name):
            result = await tx.run(self._q[name], params)
            return await result.data()

    async def merge_events(
        self,
        tx: AsyncManagedTransaction,
        *,
        events: list[dict[str, Any]],
        request_id: str,
        source_id: str,
        dialect: str,
        now: datetime,
    ) -> list[dict[str, Any]]:
        return await self.rows(
            tx,
            "ingest_merge_events",
            events=events,
            request_id=request_id,
            source_id=source_id,
            dialect=dialect,
            now=now,
        )

    async def upsert_session(
        self,
        tx: AsyncManagedTransaction,
        *,
        session_id: str,
        source_id: str,
        now: datetime,
        first_seen: datetime | None,
        last_seen: datetime | None,
        profile_less: bool,
        context_json: str,
    ) -> None:
        await self.rows(
            tx,
            "ingest_upsert_session",
            session_id=session_id,
            source_id=source_id,
            now=now,
            first_seen=first_seen,
            last_seen=last_seen,
            profile_less=profile_less,
            context_json=context_json,
        )

    async def touch_session(
        self,
        tx: AsyncManagedTransaction,
        *,
        session_id: str,
        first_seen: datetime | None,
        last_seen: datetime | None,
        profile_less: bool,
    ) -> None:
        await self.rows(
            tx,
            "ingest_touch_session",
            session_id=session_id,
            first_seen=first_seen,
            last_seen=last_seen,
            profile_less=profile_less,
        )

    async def upsert_aliases(
        self, tx: AsyncManagedTransaction, *, aliases: list[dict[str, Any]], now: datetime
    ) -> None:
        await self.rows(tx, "ingest_upsert_aliases", aliases=aliases, now=now)

    async def touch_aliases(self, tx: AsyncManagedTransaction, *, aliases: list[dict[str, Any]]) -> None:
        await self.rows(tx, "ingest_touch_aliases", aliases=aliases)

    async def identity_state(
        self, tx: AsyncManagedTransaction, *, session_id: str | None, urns: list[str], claimed_id: str | None
    ) -> tuple[str | None, dict[str, str | None], str | None, set[str]]:
        """(session's profile, each alias's profile, the claimed id's profile, blocked aliases), committed."""
        rows = await self.rows(
            tx, "ingest_identity_state", session_id=session_id, urns=urns, claimed_id=claimed_id
        )
        row = rows[0]
        blocked = set(row["blocked"])
        aliases = {urn: pid for urn, pid in row["aliases"] if urn not in blocked}
        return row["session_profile"], aliases, row["claimed_profile"], blocked

    async def lock_profiles(self, tx: AsyncManagedTransaction, *, profile_ids: list[str]) -> None:
        await self.rows(tx, "ingest_lock_profiles", profile_ids=sorted(profile_ids))

    async def profile_facts(
        self, tx: AsyncManagedTransaction, *, profile_ids: list[str], limited_types: list[str]
    ) -> list[dict[str, Any]]:
        return await self.rows(
            tx, "ingest_profile_facts", profile_ids=sorted(profile_ids), limited_types=limited_types
        )

    async def create_profile(self, tx: AsyncManagedTransaction, *, profile_id: str, now: datetime) -> None:
        await self.rows(tx, "create_profile", profile_id=profile_id, now=now)

    async def merge_components(
        self, tx: AsyncManagedTransaction, *, survivor_id: str, merged_ids: list[str]
    ) -> None:
        await self.rows(tx, "merge_components", survivor_id=survivor_id, merged_ids=merged_ids)

    async def attach_to_profile(
        self, tx: AsyncManagedTransaction, *, profile_id: str, alias_urns: list[str], session_id: str | None
    ) -> None:
        await self.rows(
            tx, "attach_to_profile", profile_id=profile_id, alias_urns=alias_urns, session_id=session_id
        )

    async def link_evidence(
        self,
        tx: AsyncManagedTransaction,
        *,
        session_id: str | None,
        handle_id: str | None,
        linked_urns: list[str],
        refused_urns: list[str],
        claimed_ids: list[str],
        event_id: str | None,
        now: datetime,
    ) -> None:
        await self.rows(
            tx,
            "link_evidence",
            session_id=session_id,
            handle_id=handle_id,
            linked_urns=linked_urns,
            refused_urns=refused_urns,
            claimed_ids=claimed_ids,
            event_id=event_id,
            now=now,
        )

    async def bind_events(
        self,
        tx: AsyncManagedTransaction,
        *,
        events: list[dict[str, Any]],
        session_id: str | None,
        handle_id: str | None,
    ) -> None:
        await self.rows(tx, "bind_events", events=events, session_id=session_id, handle_id=handle_id)

    async def record_system_events(
        self, tx: AsyncManagedTransaction, *, events: list[dict[str, Any]], source_id: str, now: datetime
    ) -> None:
        await self.rows(tx, "record_system_events", events=events, source_id=source_id, now=now)
