"""Taking a bad merge back: block an alias after the fact, or remove one link, and re-derive the component.

The evidence links are kept in the graph, so the profile can be regrouped by the links that remain
(graph_model.components.plan_split): sessions move with their events, merged-away profiles come back under
their old ids, and `profile-split` system events record it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec
from neo4j import AsyncManagedTransaction

from app.services.identity_writes import MAX_LOCK_ROUNDS, SystemEvent, system_event
from app.services.read import Ref
from app.services.trait_folds import TraitFolds
from app.store.repository import GraphRepository
from graph_model.components import plan_split


class SplitResult(msgspec.Struct):
    profile: Ref  # the profile the change was made in (it keeps its id)
    split_into: list[str]  # profiles that came apart from it
    alias: str
    blocked: bool


class NotFound(LookupError):
    pass


def _sortable(value: Any) -> str:
    return value.iso_format() if hasattr(value, "iso_format") else str(value or "")


class SplitService:
    def __init__(self, repository: GraphRepository) -> None:
        self._repo = repository

    async def block_alias(self, urn: str) -> SplitResult | None:
        return await self._repo.write_unit(self._block, urn)

    async def unlink(self, session_id: str, urn: str) -> SplitResult | None:
        return await self._repo.write_unit(self._unlink, session_id, urn)

    async def _locked_profile(
        self, tx: AsyncManagedTransaction, query: str, **params: Any
    ) -> tuple[bool, str | None]:
        """Lock the profile the alias or session belongs to, re-reading until it stays put."""
        locked: set[str] = set()
        for _ in range(MAX_LOCK_ROUNDS):
            rows = await self._repo.rows(tx, query, **params)
            if not rows:
                return False, None
            profile_id: str | None = rows[0]["profile_id"]
            if profile_id is None or profile_id in locked:
                return True, profile_id
            await self._repo.lock_profiles(tx, profile_ids=[profile_id])
            locked.add(profile_id)
        raise RuntimeError("profile kept moving")

    async def _block(self, tx: AsyncManagedTransaction, urn: str) -> SplitResult | None:
        found, profile_id = await self._locked_profile(tx, "split_alias_profile", urn=urn)
        if not found:
            return None
        now = datetime.now(UTC)
        await self._repo.rows(tx, "split_block_alias", urn=urn, now=now)
        split_into = (
            await self._regroup(tx, profile_id, now, reason="alias-blocked", urn=urn) if profile_id else []
        )
        return SplitResult(Ref(profile_id), split_into, urn, True)

    async def _unlink(self, tx: AsyncManagedTransaction, session_id: str, urn: str) -> SplitResult | None:
        found, profile_id = await self._locked_profile(tx, "split_session_profile", session_id=session_id)
        if not found:
            return None
        now = datetime.now(UTC)
        rows = await self._repo.rows(tx, "split_unlink", session_id=session_id, urn=urn, now=now)
        if not rows:
            raise NotFound(f"session {session_id} has no link to {urn}")
        split_into = (
            await self._regroup(tx, profile_id, now, reason="link-removed", urn=urn) if profile_id else []
        )
        return SplitResult(Ref(profile_id), split_into, urn, False)

    async def _regroup(
        self, tx: AsyncManagedTransaction, profile_id: str, now: datetime, *, reason: str, urn: str
    ) -> list[str]:
        members = await self._repo.rows(tx, "split_component_members", profile_id=profile_id)
        links = await self._repo.rows(tx, "split_component_links", profile_id=profile_id)
        plan = plan_split(
            profile_id,
            [f"{m['kind']}:{m['key']}" for m in members],
            [
                (f"{r['source_kind']}:{r['source_key']}", f"{r['target_kind']}:{r['target_key']}")
                for r in links
            ],
            {m["key"]: _sortable(m["created_at"]) for m in members if m["kind"] == "profile_id"},
        )
        new_ids: list[str] = []
        audit: list[SystemEvent] = []
        for group in plan.groups:
            by_kind: dict[str, list[str]] = {"session": [], "alias": [], "profile_id": []}
            for key in sorted(group.members):
                kind, _, value = key.partition(":")
                by_kind[kind].append(value)
            new_id = group.profile_id or str(uuid.uuid4())
            new_handle = group.profile_id is None
            claim_sessions = by_kind["session"][:1] if new_handle else []
            claim_aliases = by_kind["alias"][:1] if new_handle and not claim_sessions else []
            await self._repo.rows(
                tx,
                "split_move_group",
                old_id=profile_id,
                new_id=new_id,
                now=now,
                new_handle=new_handle,
                session_ids=by_kind["session"],
                alias_urns=by_kind["alias"],
                handle_ids=by_kind["profile_id"],
                claim_session_ids=claim_sessions,
                claim_alias_urns=claim_aliases,
            )
            new_ids.append(new_id)
            details = {
                "profile_id": profile_id,
                "split_profile_id": new_id,
                "reason": reason,
                "alias": urn,
                "sessions": len(by_kind["session"]),
                "aliases": by_kind["alias"],
            }
            names_urns = sorted({urn, *by_kind["alias"]})
            for about in (profile_id, new_id):
                audit.append(system_event("profile-split", about, details, names_urns=names_urns))
        # The traits fold of every profile the regroup touched, from its sessions' and handles' summaries.
        await TraitFolds(self._repo).recompute_profiles(tx, [profile_id, *new_ids])
        if reason == "alias-blocked":
            blocked = {"profile_id": profile_id, "alias": urn}
            audit.append(system_event("alias-blocked", profile_id, blocked, names_urns=[urn]))
        if audit:
            # `now` as a datetime here: record_system_events stores $now as it comes.
            await self._repo.record_system_events(
                tx, events=msgspec.to_builtins(audit), source_id="idgraph", now=now
            )
        return new_ids
