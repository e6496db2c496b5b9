"""The repository: one method per Cypher file, run inside a transaction the caller owns.

Nothing here decides anything; it moves parameters in and records out. The ingestion service composes these
calls inside one managed write transaction so a request is written whole or not at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from neo4j import AsyncManagedTransaction

from app.metrics import neo4j_timer
from app.store.catalog import QueryCatalog


class GraphRepository:
    def __init__(self, catalog: QueryCatalog) -> None:
        self._q = catalog

    async def rows(self, tx: AsyncManagedTransaction, name: str, **params: Any) -> list[dict[str, Any]]:
        """Run `cypher/<name>.cypher` in the caller's transaction (timed for /metrics); its rows as dicts."""
        with neo4j_timer(name):
            result = await tx.run(self._q[name], params)
            return await result.data()

    async def ingest_round(self, tx: AsyncManagedTransaction, **params: Any) -> dict[str, Any]:
        """One round of ingestion (`cypher/ingest_round.cypher`, which names its parameters): deduplicate,
        lock, create the new members, read the identity state, and commit the first of the given plans the
        state allows."""
        rows = await self.rows(tx, "ingest_round", **params)
        return rows[0]

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
