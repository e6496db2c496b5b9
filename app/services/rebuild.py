"""`idgraph identity rebuild`: re-derive every component from the recorded links under the current rules.

Graphs built under the v1 rules hold over-merged kiosks; a changed rules file changes what should have
joined. Every link ever recorded, accepted or refused, is kept, so the rules can be replayed in event-time
order (graph_model.replay) and the result compared with the graph (graph_model.rebuild_plan). Each change
set is then carried out in a transaction of its own, under the locks of its profiles, after checking that
nothing moved since the plan was made; what moved is left for the next run. So the API keeps serving, and
a rebuild can be interrupted and run again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgspec
from neo4j import AsyncManagedTransaction

from app.services.identity_writes import SystemEvent, system_event
from app.services.trait_folds import TraitFolds
from app.store.repository import GraphRepository
from graph_model.identity_rules import IdentityRules
from graph_model.rebuild_plan import ChangeSet, plan_rebuild
from graph_model.replay import Replay, Unit
from graph_model.urn import InvalidUrn, parse_urn

Progress = Callable[[str, int, int], None]


class RebuildReport(msgspec.Struct):
    dry_run: bool
    units: int = 0  # units of evidence replayed
    manual_merges: int = 0
    profiles_split: list[str] = msgspec.field(default_factory=list)
    profiles_merged: list[list[str]] = msgspec.field(default_factory=list)  # [into, merged]
    profiles_created: int = 0
    sessions_moved: int = 0
    aliases_moved: int = 0
    links_relabelled: int = 0
    shared_marked: int = 0
    shared_cleared: int = 0
    change_sets: int = 0
    applied: int = 0
    skipped: int = 0  # change sets whose profiles moved meanwhile: run again


def _native(value: Any) -> Any:
    return value.to_native() if hasattr(value, "to_native") else value


def _sort_time(value: Any) -> str:
    native = _native(value)
    return native.isoformat() if hasattr(native, "isoformat") else str(native or "")


class RebuildService:
    def __init__(self, store: GraphRepository, rules: IdentityRules) -> None:
        self._store = store
        self._rules = rules

    async def _units(self) -> tuple[list[Unit], dict[tuple[str, str], bool], int]:
        """The units of evidence in event-time order (manual merges among them), each session link's
        recorded label (accepted or not), and how many manual merges there are."""
        rows = await self._store.read("rebuild_units")
        manual = await self._store.read("rebuild_manual_merges")
        timed: list[tuple[str, int, Unit]] = []
        for i, row in enumerate(rows):
            aliases: list[Any] = []
            for urn in row["urns"]:
                try:
                    aliases.append(parse_urn(urn))
                except InvalidUrn:
                    continue
            timed.append((_sort_time(row["at"]), i, Unit(row["session_id"], tuple(sorted(aliases)))))
        for j, row in enumerate(manual):
            unit = Unit(None, (), manual=(row["from_member"], row["to_member"]))
            timed.append((_sort_time(row["at"]), len(rows) + j, unit))
        timed.sort(key=lambda item: (item[0], item[1]))
        labels: dict[tuple[str, str], bool] = {}
        for row in rows:
            if row["session_id"] is not None:
                for urn in row["urns"]:
                    labels.setdefault((row["session_id"], urn), False)
                for urn in row["accepted_urns"]:
                    labels[(row["session_id"], urn)] = True
        return [unit for _, _, unit in timed], labels, len(manual)

    async def rebuild(self, *, dry_run: bool, progress: Progress | None = None) -> RebuildReport:
        report = RebuildReport(dry_run)
        tick = progress or (lambda _stage, _done, _total: None)
        units, labels, report.manual_merges = await self._units()
        report.units = len(units)
        replay = Replay(self._rules)
        for i, unit in enumerate(units):
            replay.apply(unit)
            if i % 500 == 0:
                tick("replay", i, len(units))
        tick("replay", len(units), len(units))

        current_rows = await self._store.read("rebuild_members")
        current = {r["member"]: r["profile_id"] for r in current_rows}
        sizes = {r["profile_id"]: r["size"] for r in current_rows}
        groups = [
            frozenset({str(a) for a in aliases} | {f"session:{s}" for s in sessions})
            for aliases, sessions in replay.groups()
        ]
        changes = plan_rebuild(current, sizes, groups)
        report.change_sets = len(changes)
        relabel = [
            {"session_id": session, "urn": str(alias), "accepted": accepted}
            for (session, alias), accepted in sorted(replay.link_accepted.items(), key=lambda kv: str(kv[0]))
            if labels.get((session, str(alias))) not in (None, accepted)
        ]
        report.links_relabelled = len(relabel)
        marked = sorted(str(a) for a in replay.shared)
        flagged = {r["urn"] for r in await self._store.read("rebuild_shared_now")}
        cleared = sorted(flagged - set(marked))
        report.shared_marked = len(set(marked) - flagged)
        report.shared_cleared = len(cleared)
        for change in changes:
            report.profiles_split += change.split
            report.profiles_merged += [[into, pid] for pid, into in change.retired]
            report.profiles_created += sum(1 for m in change.moves if m.create)
            report.sessions_moved += sum(len(m.sessions) for m in change.moves)
            report.aliases_moved += sum(len(m.aliases) for m in change.moves)
        if dry_run:
            return report

        for i, change in enumerate(changes):
            applied = await self._store.write_unit(self._apply, change)
            report.applied += 1 if applied else 0
            report.skipped += 0 if applied else 1
            tick("apply", i + 1, len(changes))
        for start in range(0, len(relabel), 500):
            batch = relabel[start : start + 500]
            await self._store.write("rebuild_relabel_links", links=batch, now=datetime.now(UTC).isoformat())
        await self._store.write("rebuild_shared", shared=marked, not_shared=cleared)
        return report

    async def _apply(self, tx: AsyncManagedTransaction, change: ChangeSet) -> bool:
        await self._store.lock_profiles(tx, profile_ids=change.profiles)
        rows = await self._store.rows(tx, "rebuild_profile_members", profile_ids=change.profiles)
        now_members = {r["profile_id"]: set(r["members"]) for r in rows}
        for pid, before in change.before.items():
            if pid not in now_members or not set(before) <= now_members[pid]:
                return False  # moved since the plan: the next run plans it again
        now = datetime.now(UTC)
        ids = {m.target: str(uuid.uuid4()) for m in change.moves if m.create}
        audit: list[SystemEvent] = []
        for move in change.moves:
            target = ids.get(move.target, move.target)
            await self._store.rows(
                tx,
                "rebuild_move_members",
                target_id=target,
                create=move.create,
                session_ids=move.sessions,
                alias_urns=move.aliases,
                now=now.isoformat(),
            )
        # The traits fold of every profile the change touched, from its sessions' and handles' summaries.
        await TraitFolds(self._store).recompute_profiles(tx, [*change.profiles, *ids.values()])
        for pid in change.split:
            split = {"profile_id": pid, "reason": "rebuild", "rules": "current identity rules"}
            audit.append(system_event("profile-split", pid, split, names_urns=[]))
        for pid, into in change.retired:
            survivor = ids.get(into, into)
            await self._store.merge_components(tx, survivor_id=survivor, merged_ids=[pid])
            details: dict[str, Any] = {
                "survivor_id": survivor,
                "merged_id": pid,
                "reason": "rebuild",
                "linking_event_id": None,
                "aliases": [],
            }
            audit.append(system_event("profile-merged", pid, details, names_urns=[]))
        if audit:
            await self._store.record_system_events(
                tx, events=msgspec.to_builtins(audit), source_id="idgraph-rebuild", now=now
            )
        return True
