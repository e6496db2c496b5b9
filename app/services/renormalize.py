"""`idgraph identity renormalize`: stored phone aliases brought to the E.164 form new input gets.

Phones were once kept as a leading `+` and digits, so one number could be stored as several aliases
(`urn:phone:0049301234567`, `urn:phone:+49301234567`), each in its own profile. This service reads every
stored phone alias, groups those that are one number now (graph_model.phone_groups), and for each group, in a
transaction of its own that holds the locks of the profiles involved:
- decides, by the identity rules, which of the group's profiles join: the number is evidence held by each;
- merges them as ingestion would (union by size), audited `profile-merged` with `"renormalized": true`;
  a join the rules refuse is audited `merge-refused`, and the aliases of the refused profile stay as they
  are (an operator may merge the two by hand, `POST /profiles/{id}/merge`, and run this again);
- renames the alias in place when the normal URN is free, or folds it into the alias that holds it (every
  link moves over: sessions, events, audit records).
With `dry_run` the same decisions are made on the same reads and nothing is written. Aliases whose value reads
as no phone number are listed and left as they are (new input ignores such values).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from neo4j import AsyncManagedTransaction

from app.services.identity_writes import MAX_LOCK_ROUNDS, SystemEvent, system_event
from app.services.ingest_plan import ProfileRow, profile_facts
from app.store.repository import GraphRepository
from graph_model.identity_rules import IdentityRules
from graph_model.phone_groups import PhoneGroup, StoredPhone, decide_group, group_phones
from graph_model.urn import normalise_phone

PAGE = 1000
_PREFIX = "urn:phone:"


class Renamed(msgspec.Struct):
    urn: str  # the alias as it was stored
    to: str  # its URN now
    folded: bool  # into an alias that already held that URN (else renamed in place)


class Merged(msgspec.Struct):
    survivor_id: str
    merged_id: str
    alias: str  # the number that joined them


class Refused(msgspec.Struct):
    alias: str  # the stored alias left as it is
    alias_profile_id: str | None
    profile_id: str | None  # the profile its number joined
    rule: str  # "strong-evidence", "limit" or "shared" (graph_model.identity)
    alias_type: str
    limit: int | None


class RenormalizeReport(msgspec.Struct):
    dry_run: bool
    phones: int  # stored phone aliases read
    unchanged: int  # already normal, and alone with their number
    renamed: list[Renamed]
    merged: list[Merged]
    refused: list[Refused]
    unparsable: list[str]  # no phone number: left as they are
    skipped: list[str]  # blocked aliases whose number another alias holds: left as they are


class ProfilesKeptMoving(RuntimeError):
    pass


class RenormalizeService:
    def __init__(self, store: GraphRepository, rules: IdentityRules, phone_region: str | None) -> None:
        self._store = store
        self._rules = rules
        self._region = phone_region

    def _normalise(self, value: str) -> str:
        return normalise_phone(value, self._region)

    async def run(self, *, dry_run: bool) -> RenormalizeReport:
        phones = await self._stored_phones()
        regrouping = group_phones(phones, self._normalise)
        report = RenormalizeReport(
            dry_run, len(phones), regrouping.unchanged, [], [], [], regrouping.unparsable, []
        )
        for group in regrouping.groups:
            if dry_run:
                await self._store.read_unit(self._apply, group, report, True)
            else:
                await self._store.write_unit(self._apply, group, report, False)
        return report

    async def _stored_phones(self) -> list[StoredPhone]:
        phones: list[StoredPhone] = []
        after = ""
        while True:
            rows = await self._store.read(
                "identity_renormalize_phones", prefix=_PREFIX, after=after, limit=PAGE
            )
            phones += [msgspec.convert(r, StoredPhone) for r in rows]
            if len(rows) < PAGE:
                return phones
            after = rows[-1]["urn"]

    async def _locked_group(self, tx: AsyncManagedTransaction, group: PhoneGroup, lock: bool) -> PhoneGroup:
        """The group as it is now (the target URN too, which a request may have created since the scan),
        with the profiles it names locked when `lock`: re-read until a read names only locked ones."""
        urns = sorted({m.urn for m in group.members} | {str(group.target)})
        locked: set[str] = set()
        for _ in range(MAX_LOCK_ROUNDS):
            rows = await self._store.rows(tx, "identity_renormalize_group", urns=urns)
            now = PhoneGroup(group.target, [msgspec.convert(r, StoredPhone) for r in rows])
            named = set(now.profile_ids)
            if not lock or named <= locked:
                return now
            await self._store.lock_profiles(tx, profile_ids=sorted(named - locked))
            locked |= named
        raise ProfilesKeptMoving(f"the profiles of {group.target} kept moving")

    async def _apply(
        self, tx: AsyncManagedTransaction, group: PhoneGroup, report: RenormalizeReport, dry_run: bool
    ) -> None:
        group = await self._locked_group(tx, group, lock=not dry_run)
        target = str(group.target)
        rows = await self._store.rows(
            tx,
            "identity_renormalize_profiles",
            profile_ids=group.profile_ids,
            held_types=self._rules.held_types(),
        )
        facts = profile_facts([msgspec.convert(r, ProfileRow) for r in rows])
        plan = decide_group(group, facts, self._rules, self._normalise)
        joined = {plan.survivor, *plan.merged} if plan.survivor is not None else set()

        def movable(m: StoredPhone) -> bool:
            if m.blocked:  # blocked: renamed when it is the number's only alias, never folded
                return len(group.members) == 1
            return m.profile_id is None or m.profile_id in joined

        moving = [m for m in group.members if movable(m)]
        stored_target = next((m for m in group.members if m.urn == target), None)
        if stored_target is not None and stored_target not in moving:
            moving = []  # the number's alias is in a profile the others may not join: they stay as they are
        renamed = [
            Renamed(m.urn, target, folded=stored_target is not None or i > 0)
            for i, m in enumerate(m for m in moving if m.urn != target)
        ]
        merged = [Merged(plan.survivor, merged_id, target) for merged_id in plan.merged if plan.survivor]
        refused = [
            Refused(str(r.alias), r.profile_id, plan.survivor, r.rule, r.alias_type, r.limit)
            for r in plan.refusals
        ]
        report.renamed += renamed
        report.merged += merged
        report.refused += refused
        report.skipped += [m.urn for m in group.members if m.blocked and m not in moving]
        if dry_run:
            return

        now = datetime.now(UTC)
        if merged:
            await self._store.merge_components(
                tx, survivor_id=merged[0].survivor_id, merged_ids=[m.merged_id for m in merged]
            )
        for move in renamed:
            if move.folded:
                await self._store.rows(tx, "identity_renormalize_fold", old_urn=move.urn, new_urn=target)
                continue
            found = await self._store.rows(
                tx,
                "identity_renormalize_rename",
                old_urn=move.urn,
                new_urn=target,
                new_value=group.target.value,
                now=now.isoformat(),
            )
            if not found:  # cannot be: the target was read under the locks and was not stored
                raise ProfilesKeptMoving(f"{target} appeared while {move.urn} was renamed")
        audit = _audit(group, merged, refused)
        if audit:
            await self._store.record_system_events(
                tx, events=[msgspec.to_builtins(e) for e in audit], source_id="idgraph", now=now
            )


def _audit(group: PhoneGroup, merged: list[Merged], refused: list[Refused]) -> list[SystemEvent]:
    """profile-merged for each merge, about the profile merged away; merge-refused for each refusal (but a
    shared alias's, which links nothing by design, as in ingestion), about the profile the number joined."""
    stored = [m.urn for m in group.members]
    records = [
        system_event(
            "profile-merged",
            m.merged_id,
            _details(
                survivor_id=m.survivor_id,
                merged_id=m.merged_id,
                linking_event_id=None,
                aliases=[m.alias],
                renormalized=True,
                stored_as=stored,
            ),
            names_urns=[m.alias],
        )
        for m in merged
    ]
    records += [
        system_event(
            "merge-refused",
            r.profile_id,
            _details(
                profile_id=r.profile_id,
                alias=r.alias,
                alias_profile_id=r.alias_profile_id,
                alias_type=r.alias_type,
                limit=r.limit,
                rule=r.rule,
                linking_event_id=None,
                renormalized=True,
                normal_form=str(group.target),
            ),
            names_urns=[r.alias],
        )
        for r in refused
        if r.rule != "shared" and r.profile_id is not None
    ]
    return records


def _details(**fields: Any) -> dict[str, Any]:
    return fields
