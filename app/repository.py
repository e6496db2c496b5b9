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

    async def identity_round(
        self,
        tx: AsyncManagedTransaction,
        *,
        events: list[dict[str, Any]],
        request_id: str,
        source_id: str,
        dialect: str,
        lock_ids: list[str],
        lock_named: bool,
        create_members: bool,
        only_if_all_created: bool,
        new_session: dict[str, Any] | None,
        new_aliases: list[dict[str, Any]],
        session_id: str | None,
        urns: list[str],
        claimed_id: str | None,
        limited_types: list[str],
        now: str | None,
    ) -> dict[str, Any]:
        """One round of the lock protocol (`cypher/ingest_identity_round.cypher`): deduplicate `events`, lock
        `lock_ids` (and with `lock_named` the profiles the evidence names), create the new session and
        aliases, then read the identity state and the facts of every profile it names."""
        rows = await self.rows(
            tx,
            "ingest_identity_round",
            events=events,
            request_id=request_id,
            source_id=source_id,
            dialect=dialect,
            lock_ids=sorted(lock_ids),
            lock_named=lock_named,
            create_members=create_members,
            only_if_all_created=only_if_all_created,
            new_session=new_session,
            new_aliases=new_aliases,
            session_id=session_id,
            urns=urns,
            claimed_id=claimed_id,
            limited_types=limited_types,
            now=now,
        )
        return rows[0]

    async def commit(self, tx: AsyncManagedTransaction, **params: Any) -> None:
        """Carry out an identity plan (`cypher/ingest_commit.cypher`, which names its parameters)."""
        await self.rows(tx, "ingest_commit", **params)

    async def lock_profiles(self, tx: AsyncManagedTransaction, *, profile_ids: list[str]) -> None:
        await self.rows(tx, "ingest_lock_profiles", profile_ids=sorted(profile_ids))

    async def merge_components(
        self, tx: AsyncManagedTransaction, *, survivor_id: str, merged_ids: list[str]
    ) -> None:
        await self.rows(tx, "merge_components", survivor_id=survivor_id, merged_ids=merged_ids)

    async def record_system_events(
        self, tx: AsyncManagedTransaction, *, events: list[dict[str, Any]], source_id: str, now: datetime
    ) -> None:
        await self.rows(tx, "record_system_events", events=events, source_id=source_id, now=now)
