"""Right to be forgotten: erase a profile's whole component.

`DELETE /profiles/{id}` and `idgraph erase` remove every event of the component (its sessions' and id
handles' events, events carrying its aliases, even where the link was refused, the audit about its handles,
and any other profile's audit that names one of its aliases),
then its sessions, aliases and id handles (so merged-away ids stop resolving), then the profile. Events go in
bounded transactions of `batch_size`; the members in one last transaction under the profile's lock, the
same lock ingestion takes, so nothing is attached to a profile while it disappears. An erased alias seen
again is a new alias and starts a fresh profile.
"""

from __future__ import annotations

from typing import Any

import msgspec
from neo4j import AsyncManagedTransaction

from app.logging import get_logger
from app.services.trait_folds import TraitFolds
from app.store.repository import GraphRepository

log = get_logger(__name__)

DEFAULT_BATCH_SIZE = 1000
_MAX_ROUNDS = 5


class EraseReport(msgspec.Struct):
    profile_id: str
    events: int = 0
    sessions: int = 0
    aliases: int = 0
    handles: int = 0


class EraseService:
    def __init__(self, store: GraphRepository, batch_size: int = DEFAULT_BATCH_SIZE) -> None:
        store.catalog.require(
            "erase_resolve_profile", "erase_resolve_alias", "erase_events_batch", "erase_component"
        )
        self._store = store
        self._batch = batch_size
        self._folds = TraitFolds(store)

    async def profile_of_alias(self, urn: str) -> str | None:
        async with self._store.session() as session:
            row = await session.execute_read(self._store.single, "erase_resolve_alias", urn=urn)
        return row["id"] if row else None

    async def erase_profile(self, profile_id: str) -> EraseReport | None:
        """Erase the component `profile_id` (or the id it was merged into) belongs to; None when unknown."""
        async with self._store.session() as session:
            report: EraseReport | None = None
            for _ in range(_MAX_ROUNDS):
                row = await session.execute_read(self._store.single, "erase_resolve_profile", id=profile_id)
                if row is None:
                    return report
                live = row["id"]
                report = report or EraseReport(live)
                # Events outside the component that erasure deletes (they carry its aliases): their
                # anchors' and profiles' traits folds are recomputed once they are gone.
                foreign = await session.execute_read(self._folds.erase_foreign_anchors, live)
                while True:
                    batch = await session.execute_write(
                        self._store.single, "erase_events_batch", profile_id=live, limit=self._batch
                    )
                    deleted = int(batch["deleted"]) if batch else 0
                    report.events += deleted
                    if deleted < self._batch:
                        break
                done = await session.execute_write(self._erase_members, live)
                if done is not None:
                    if foreign:
                        await session.execute_write(self._folds.recompute_foreign, foreign)
                    report.profile_id = live
                    report.events += int(done["events"])
                    report.sessions += int(done["sessions"])
                    report.aliases += int(done["aliases"])
                    report.handles += int(done["handles"])
                    log.info(
                        "profile erased",
                        events=report.events,
                        sessions=report.sessions,
                        aliases=report.aliases,
                        handles=report.handles,
                    )
                    return report
                # Merged into another profile meanwhile: erase the survivor's component instead.
        raise RuntimeError(f"profile {profile_id} kept merging while it was erased")

    async def _erase_members(self, tx: AsyncManagedTransaction, profile_id: str) -> dict[str, Any] | None:
        """The last transaction: the change-feed entries naming the component's aliases go, the members go,
        and the feed gets a profile-erased entry with the ids the component answered to (no personal data)."""
        ids = await self._store.single(tx, "changes_erase_begin", profile_id=profile_id)
        done = await self._store.single(tx, "erase_component", profile_id=profile_id)
        if done is not None and ids is not None:
            await self._store.single(
                tx, "changes_record_erased", profile_id=profile_id, erased_ids=ids["ids"]
            )
        return done
