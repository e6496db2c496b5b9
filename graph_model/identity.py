"""Pure identity rules: which profiles one unit of evidence (a request: its session and its events) joins,
and which links the rules refuse.

The ingestion service reads the current state (the session's profile and the aliases it already links, the
profile of every alias, each profile's size and its aliases of strong or limited types, which aliases are
shared), asks `plan_identity` what to do, and carries the plan out. Keeping the decision here makes it
testable without a database and keeps one rule for every dialect.

The rules (API.md, Identity rules v2), with `IdentityRules` giving each alias type a strength, a limit and
a priority:
1. a profile that is not identified (holds no strong alias) joins another through any shared alias;
2. two identified profiles join only through strong evidence: this unit carries a strong alias held by each
   side. A strong value seen for the first time is a side of its own, so a new email that arrives with only
   a device id of someone else's profile does not join that profile;
3. a join that would exceed a limit is refused, the lower-priority side giving way;
4. the session belongs to the profile of its highest-priority accepted evidence, or to a new profile: a
   session whose profile is refused leaves it (with its events).
A weak alias that took part in a refusal under (2) becomes *shared*: it keeps its links and makes no new
ones.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Literal

import msgspec

from graph_model.identity_rules import DEFAULTS, IdentityRules
from graph_model.urn import AliasUrn

RefusalRule = Literal["limit", "strong-evidence", "shared"]


class ProfileFacts(msgspec.Struct, frozen=True):
    id: str
    size: int
    # For each alias type that is strong or has a limit: the values of that type the profile holds.
    limited: Mapping[str, frozenset[str]] = msgspec.field(default_factory=dict)


class Refusal(msgspec.Struct, frozen=True):
    """A link the rules did not make: `alias` stays where it is (or gets a profile of its own)."""

    alias: AliasUrn
    profile_id: str | None  # the profile the alias belongs to; None for an alias seen first here
    alias_type: str  # for a limit: the type that would have been exceeded; else the alias's type
    limit: int | None
    rule: RefusalRule = "limit"


class IdentityPlan(msgspec.Struct, frozen=True):
    # The profile the session, the claimed id and the accepted aliases end up in; None: create one.
    survivor: str | None
    # Profiles merged into the survivor, smaller ones into the largest (union by size).
    merged: list[str]
    # For each merged profile, the aliases of this unit (already held by a profile of the group) that
    # joined the group.
    linked_by: dict[str, list[AliasUrn]]
    # Aliases seen here for the first time that join the survivor.
    new_aliases: list[AliasUrn]
    refusals: list[Refusal]
    # Weak aliases that took part in a refusal under rule 2: from now on they make no new links.
    shared: list[AliasUrn] = msgspec.field(default_factory=list)
    # The profile the session leaves because its evidence there was refused (it joins the survivor).
    session_leaves: str | None = None

    @property
    def refused_aliases(self) -> set[AliasUrn]:
        return {r.alias for r in self.refusals}


@dataclass
class _Side:
    """One party to the unit's evidence: an existing profile, or an alias seen for the first time."""

    profile_id: str | None
    new_alias: AliasUrn | None
    size: int
    identified: bool
    held: dict[str, set[str]]
    evidence: set[AliasUrn] = field(default_factory=set)  # this unit's aliases on this side
    anchors_session: bool = False


def _exceeded(held: dict[str, set[str]], adding: dict[str, set[str]], rules: IdentityRules) -> str | None:
    """The first limited type the union would exceed, or None when it fits."""
    for alias_type in sorted(adding):
        limit = rules.limit(alias_type)
        if limit is not None and len(held.get(alias_type, set()) | adding[alias_type]) > limit:
            return alias_type
    return None


def plan_identity(
    *,
    session_profile: str | None,
    claimed_profile: str | None,
    alias_profiles: Mapping[AliasUrn, str | None],
    profiles: Mapping[str, ProfileFacts],
    rules: IdentityRules = DEFAULTS,
    session_aliases: Collection[AliasUrn] = (),
    shared: Collection[AliasUrn] = (),
    asserted: bool = False,
) -> IdentityPlan:
    """Decide the joins for one unit of evidence.

    `alias_profiles`: the unit's aliases and the profile each belongs to (None: seen first here);
    `session_aliases`: the aliases the session linked before (in its profile); `shared`: aliases marked
    shared, which take part in no link; `asserted`: the client states that the unit's aliases are one
    person (a Segment `alias` call), which is strong evidence for each side it names.
    The sides are ordered by their best evidence (priority of the type, then the larger profile, then the
    id); the first starts the group and each next one joins it when the rules allow, else it is refused.
    """
    refusals: list[Refusal] = []
    sides: dict[str | AliasUrn, _Side] = {}

    def profile_side(pid: str) -> _Side:
        side = sides.get(pid)
        if side is None:
            facts = profiles[pid]
            held = {t: set(v) for t, v in facts.limited.items() if v}
            identified = any(rules.is_strong(t) for t in held)
            side = sides[pid] = _Side(pid, None, facts.size, identified, held)
        return side

    for alias, pid in sorted(alias_profiles.items()):
        if alias in shared:
            refusals.append(Refusal(alias, pid, alias.type, None, "shared"))
        elif pid is not None:
            profile_side(pid).evidence.add(alias)
        else:
            strong = rules.is_strong(alias.type)
            own = {alias.type: {alias.value}} if strong or rules.limit(alias.type) is not None else {}
            sides[alias] = _Side(None, alias, 0, strong, own, {alias})
    if session_profile is not None:
        side = profile_side(session_profile)
        side.anchors_session = True
        side.evidence |= {a for a in session_aliases if a not in shared}
    if claimed_profile is not None:
        profile_side(claimed_profile)

    def order(side: _Side) -> tuple[tuple[int, str], int, int, int, str, str]:
        # Best evidence first; at equal priority the session stays where it is (a second login id in a
        # session does not carry it off), then the larger profile. Last, ties go by the evidence itself
        # (its smallest URN), not by a profile id: ids are random, and the same evidence must be decided
        # the same way whatever ids it met (a replay of the rules relies on it).
        best = min((rules.rank(a.type) for a in side.evidence), default=(1 << 30, ""))
        first_urn = min((str(a) for a in side.evidence), default="")
        return (
            best,
            0 if side.anchors_session else 1,
            -side.size,
            0 if side.profile_id is not None else 1,
            first_urn,
            side.profile_id or "",
        )

    ordered = sorted(sides.values(), key=order)
    group: list[_Side] = []
    held: dict[str, set[str]] = {}
    identified = strong_evidence = False
    shared_now: set[AliasUrn] = set()
    for side in ordered:
        side_strong = (asserted and bool(side.evidence)) or any(
            rules.is_strong(a.type) for a in side.evidence
        )
        if group and identified and side.identified and not (strong_evidence and side_strong):
            # Rule 2: two identified parties and no strong alias of each in this unit.
            for alias in sorted(side.evidence):
                refusals.append(Refusal(alias, side.profile_id, alias.type, None, "strong-evidence"))
            shared_now |= {a for a in side.evidence if not rules.is_strong(a.type)}
            if not strong_evidence:  # the group's own evidence here is weak too: it took part as well
                shared_now |= {a for s in group for a in s.evidence if not rules.is_strong(a.type)}
            continue
        exceeded = _exceeded(held, side.held, rules) if group else None
        if exceeded is not None:
            limit = rules.limit(exceeded)
            for alias in sorted(side.evidence):
                refusals.append(Refusal(alias, side.profile_id, exceeded, limit, "limit"))
            continue
        group.append(side)
        for alias_type, values in side.held.items():
            held.setdefault(alias_type, set()).update(values)
        identified = identified or side.identified
        strong_evidence = strong_evidence or side_strong

    joined = [s for s in group if s.profile_id is not None]
    new_aliases = sorted(s.new_alias for s in group if s.new_alias is not None)
    session_leaves = None
    if session_profile is not None and not any(s.profile_id == session_profile for s in joined):
        session_leaves = session_profile
    shared_list = sorted(shared_now)
    if not joined:
        return IdentityPlan(None, [], {}, new_aliases, refusals, shared_list, session_leaves)
    survivor = min(joined, key=lambda s: (-s.size, s.profile_id or "")).profile_id
    assert survivor is not None
    merged = [s.profile_id for s in joined if s.profile_id != survivor and s.profile_id is not None]
    # The evidence of this unit that joined them: its aliases already held by a profile of the group.
    joining = sorted(a for s in joined for a in s.evidence if alias_profiles.get(a) is not None)
    linked_by = {pid: joining for pid in merged}
    return IdentityPlan(survivor, merged, linked_by, new_aliases, refusals, shared_list, session_leaves)
