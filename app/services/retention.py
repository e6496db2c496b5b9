"""Retention of anonymous data: what nobody can be identified by is not kept forever.

An anonymous profile (one with no alias) whose sessions and session-less events have all been inactive for
`IDGRAPH_ANONYMOUS_RETENTION_DAYS` is purged with its events, sessions and id handles; so are sessions that
belong to no profile (profile-less traffic) with their events. A profile holding any alias is identified data
and is never touched here (`DELETE /profiles/{id}` is how that goes).

The work is done in bounded transactions (at most `batch_size` profiles or events each), so a large backlog
never becomes one huge transaction. Every deleting statement re-checks the expiry, so data that became active
or identified after it was found survives. Run by `idgraph purge` and by a periodic task inside the API.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from neo4j import AsyncManagedTransaction

from app.logging import get_logger
from app.services.trait_folds import TraitFolds
from app.store.repository import GraphRepository

log = get_logger(__name__)

DEFAULT_BATCH_SIZE = 500


class PurgeReport(msgspec.Struct):
    cutoff: datetime
    profiles: int = 0
    sessions: int = 0
    handles: int = 0
    events: int = 0


class RetentionService:
    def __init__(
        self,
        store: GraphRepository,
        retention_days: int,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        store.catalog.require(
            "purge_find_anonymous_profiles",
            "purge_anonymous_profile_events",
            "purge_anonymous_profiles",
            "purge_find_profileless_sessions",
            "purge_profileless_session_events",
            "purge_profileless_sessions",
        )
        self._store = store
        self.retention_days = retention_days
        self._batch = batch_size

    async def purge(self, now: datetime | None = None) -> PurgeReport:
        cutoff = (now or datetime.now(UTC)) - timedelta(days=self.retention_days)
        report = PurgeReport(cutoff)
        async with self._store.session() as session:
            # Anonymous profiles, a bounded batch at a time.
            batches = self._batches(
                session,
                report,
                find="purge_find_anonymous_profiles",
                events="purge_anonymous_profile_events",
                delete="purge_anonymous_profiles",
                removed_key="profiles",
            )
            async for counts in batches:
                report.profiles += int(counts.get("profiles", 0))
                report.sessions += int(counts.get("sessions", 0))
                report.handles += int(counts.get("handles", 0))
            # Sessions without a profile.
            batches = self._batches(
                session,
                report,
                find="purge_find_profileless_sessions",
                events="purge_profileless_session_events",
                delete="purge_profileless_sessions",
                removed_key="deleted",
            )
            async for counts in batches:
                report.sessions += int(counts.get("deleted", 0))
        if report.profiles or report.sessions or report.events:
            log.info("anonymous data purged", **msgspec.to_builtins(report))
        return report

    async def _batches(
        self, session: Any, report: PurgeReport, *, find: str, events: str, delete: str, removed_key: str
    ) -> AsyncIterator[dict[str, Any]]:
        """Find expired ids a bounded batch at a time, drain their events, delete them; the counts of each
        delete. Stops when nothing is left, or when what is left came back to life while being purged."""
        while True:
            ids = await session.execute_read(self._ids, find, cutoff=report.cutoff, limit=self._batch)
            if not ids:
                return
            report.events += await self._drain_events(session, events, ids, report.cutoff)
            counts = (
                await session.execute_write(self._store.single, delete, ids=ids, cutoff=report.cutoff) or {}
            )
            # What came back to life while its events were drained keeps the rest: its traits fold again.
            await session.execute_write(self._refold, find, ids)
            yield counts
            if int(counts.get(removed_key, 0)) == 0 or len(ids) < self._batch:
                return

    async def _refold(self, tx: AsyncManagedTransaction, find: str, ids: list[str]) -> None:
        folds = TraitFolds(self._store)
        if find == "purge_find_anonymous_profiles":
            await folds.recompute_from_events(tx, ids)  # the profiles not deleted
        else:
            await folds.recompute_anchors(tx, session_ids=ids)  # the sessions not deleted

    async def _ids(self, tx: AsyncManagedTransaction, name: str, **params: Any) -> list[str]:
        return [row["id"] for row in await self._store.rows(tx, name, **params)]

    async def _drain_events(self, session: Any, query_name: str, ids: list[str], cutoff: datetime) -> int:
        total = 0
        while True:
            counts = (
                await session.execute_write(
                    self._store.single, query_name, ids=ids, cutoff=cutoff, limit=self._batch
                )
                or {}
            )
            deleted = int(counts.get("deleted", 0))
            total += deleted
            if deleted < self._batch:
                return total


async def purge_periodically(service: RetentionService, interval_seconds: float) -> None:
    """The in-process purge: once per interval (the first run one interval after start), errors logged."""
    while True:
        await asyncio.sleep(interval_seconds)
        try:
            await service.purge()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the next round tries again; the API keeps serving
            log.warning("anonymous data purge failed", error_type=type(exc).__name__, error=str(exc))
