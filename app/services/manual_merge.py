"""Manual merges and merge suggestions: what an operator decides where the identity rules would not join.

The rules never join two identified profiles without strong evidence on both sides, so a person who used a
second email alone on their own device gets a second profile. The refused links that connect such profiles
are listed as suggestions; an operator confirms one (a manual merge, audited and kept as evidence of its own,
so no later split or rebuild undoes it) or dismisses it for good.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any

import msgspec
from neo4j import AsyncManagedTransaction

from app.services.identity_writes import MAX_LOCK_ROUNDS, system_event
from app.store.repository import GraphRepository
from graph_model.errors import invalid
from graph_model.identity_rules import IdentityRules

MAX_REASON_LENGTH = 1000


class ProfilesKeptMoving(RuntimeError):
    pass


class ManualMerge(msgspec.Struct):
    survivor_id: str  # the profile both ids resolve to now
    merged_id: str | None  # the profile merged into it; None when both already were one profile
    reason: str
    audit_event_id: str | None


class MergeSuggestion(msgspec.Struct):
    profile_a: str
    profile_b: str
    aliases: list[str]  # the aliases whose refused links connect the two
    refusals: int
    last_seen: datetime | None


class SuggestionPage(msgspec.Struct):
    items: list[MergeSuggestion]
    next_cursor: str | None


def _native(value: Any) -> Any:
    return value.to_native() if hasattr(value, "to_native") else value


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not text.startswith("o:"):
            raise ValueError(text)
        offset = int(text[2:])
        if offset < 0:
            raise ValueError(text)
        return offset
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid("$.cursor", "is not a cursor this endpoint returned") from None


class ManualMergeService:
    def __init__(self, store: GraphRepository, rules: IdentityRules) -> None:
        self._store = store
        self._rules = rules

    async def merge(self, profile_id: str, with_id: str, reason: str) -> ManualMerge | None:
        """Merge the profiles behind two ids whatever the rules say; None when either id is unknown."""
        reason = reason.strip()
        if not reason:
            raise invalid("$.reason", "must say why the two profiles are one person")
        if len(reason) > MAX_REASON_LENGTH:
            raise invalid("$.reason", f"must be at most {MAX_REASON_LENGTH} characters")
        return await self._store.write_unit(self._merge, profile_id, with_id, reason)

    async def _merge(
        self, tx: AsyncManagedTransaction, profile_id: str, with_id: str, reason: str
    ) -> ManualMerge | None:
        locked: set[str] = set()
        for _ in range(MAX_LOCK_ROUNDS):
            rows = await self._store.rows(tx, "manual_merge_resolve", ids=[profile_id, with_id])
            live = {row["id"]: row for row in rows}
            if profile_id not in live or with_id not in live:
                return None
            named = {row["profile_id"] for row in rows}
            if named <= locked:
                break
            await self._store.lock_profiles(tx, profile_ids=sorted(named - locked))
            locked |= named
        else:
            raise ProfilesKeptMoving("profiles kept moving while they were merged")
        a, b = live[profile_id], live[with_id]
        if a["profile_id"] == b["profile_id"]:
            return ManualMerge(a["profile_id"], None, reason, None)
        # Union by size, as every merge: the smaller side's members move.
        survivor, merged = sorted((a, b), key=lambda r: (-r["size"], r["profile_id"]))
        now = datetime.now(UTC)
        await self._store.merge_components(
            tx, survivor_id=survivor["profile_id"], merged_ids=[merged["profile_id"]]
        )
        audit = system_event(
            "profile-merged",
            merged["profile_id"],
            {
                "survivor_id": survivor["profile_id"],
                "merged_id": merged["profile_id"],
                "manual": True,
                "reason": reason,
                "named_ids": [profile_id, with_id],
                "linking_event_id": None,
                "aliases": [],
            },
            names_urns=[],
        )
        await self._store.rows(
            tx,
            "manual_merge_evidence",
            from_id=profile_id,
            to_id=with_id,
            from_member=a["member"],
            to_member=b["member"],
            reason=reason,
            event_id=audit.id,
            now=now.isoformat(),
        )
        await self._store.record_system_events(
            tx, events=[msgspec.to_builtins(audit)], source_id="idgraph-admin", now=now
        )
        return ManualMerge(survivor["profile_id"], merged["profile_id"], reason, audit.id)

    async def suggestions(
        self, *, limit: int, cursor: str | None = None, profile_id: str | None = None
    ) -> SuggestionPage:
        offset = _offset(cursor)
        rows = await self._store.read(
            "merge_suggestions",
            strong_types=self._rules.strong_types(),
            profile_id=profile_id,
            skip=offset,
            limit=limit + 1,
        )
        items = [
            MergeSuggestion(
                r["profile_a"], r["profile_b"], sorted(r["aliases"]), r["refusals"], _native(r["last_seen"])
            )
            for r in rows[:limit]
        ]
        return SuggestionPage(items, _cursor(offset + limit) if len(rows) > limit else None)

    async def dismiss(self, profile_a: str, profile_b: str) -> str:
        """Never suggest this pair again; the pair's key (its two ids in order)."""
        first, second = sorted((profile_a, profile_b))
        pair = f"{first}|{second}"
        await self._store.write("merge_suggestion_dismiss", pair=pair, now=datetime.now(UTC).isoformat())
        return pair
