"""Pure identity rules: which profiles a batch of evidence joins, and which joins merge protection refuses.

The repository reads the current state (the session's profile, the profile of every alias, each profile's
size and its aliases of limited types), asks `plan_identity` what to do, and carries the plan out. Keeping
the decision here makes it testable without a database and keeps one rule for every dialect.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from graph_model.urn import AliasUrn


class ProfileFacts(msgspec.Struct, frozen=True):
    id: str
    size: int
    # For each alias type that has a limit: the values of that type the profile already holds.
    limited: Mapping[str, frozenset[str]] = msgspec.field(default_factory=dict)


class Refusal(msgspec.Struct, frozen=True):
    """A link merge protection did not make: `alias` stays where it is (or gets a profile of its own)."""

    alias: AliasUrn
    profile_id: str | None  # the profile the alias already belongs to; None for an alias seen first here
    alias_type: str  # the limited type that would have been exceeded
    limit: int


class IdentityPlan(msgspec.Struct, frozen=True):
    # The profile the session, the claimed id and the accepted aliases end up in; None: create one.
    survivor: str | None
    # Profiles merged into the survivor, smaller ones into the largest (union by size).
    merged: list[str]
    # For each merged profile, the aliases of this batch (already held by a merged or surviving profile)
    # that joined the group.
    linked_by: dict[str, list[AliasUrn]]
    # Aliases seen here for the first time that join the survivor.
    new_aliases: list[AliasUrn]
    refusals: list[Refusal]

    @property
    def refused_aliases(self) -> set[AliasUrn]:
        return {r.alias for r in self.refusals}


def _fits(
    held: dict[str, set[str]], adding: Mapping[str, frozenset[str]], limits: Mapping[str, int]
) -> str | None:
    """The first limited type the union would exceed, or None when it fits."""
    for alias_type, values in adding.items():
        limit = limits.get(alias_type)
        if limit is not None and len(held.get(alias_type, set()) | values) > limit:
            return alias_type
    return None


def plan_identity(
    *,
    session_profile: str | None,
    claimed_profile: str | None,
    alias_profiles: Mapping[AliasUrn, str | None],
    profiles: Mapping[str, ProfileFacts],
    limits: Mapping[str, int],
) -> IdentityPlan:
    """Decide the merges for one batch of evidence.

    The session's own profile is the anchor: a refused link never moves a session out of it. Then the
    claimed profile id, then the aliases' profiles from the largest down, each joins if the union keeps every
    limited alias type within its limit. Aliases seen for the first time join under the same rule; a refused
    new alias gets a profile of its own (every alias belongs to exactly one profile).
    """
    by_profile: dict[str, list[AliasUrn]] = {}
    new_aliases: list[AliasUrn] = []
    for alias, pid in alias_profiles.items():
        if pid is None:
            new_aliases.append(alias)
        else:
            by_profile.setdefault(pid, []).append(alias)

    ordered: list[str] = []
    for pid in (session_profile, claimed_profile):
        if pid is not None and pid not in ordered:
            ordered.append(pid)
    rest = sorted(
        (pid for pid in by_profile if pid not in ordered), key=lambda pid: (-profiles[pid].size, pid)
    )
    ordered.extend(rest)

    group: list[str] = []
    held: dict[str, set[str]] = {}
    refusals: list[Refusal] = []
    for pid in ordered:
        facts = profiles[pid]
        exceeded = _fits(held, facts.limited, limits) if group else None
        if exceeded is None:
            group.append(pid)
            for alias_type, values in facts.limited.items():
                held.setdefault(alias_type, set()).update(values)
        else:
            for alias in by_profile.get(pid, []):
                refusals.append(Refusal(alias, pid, exceeded, limits[exceeded]))

    accepted_new: list[AliasUrn] = []
    for alias in sorted(new_aliases):
        adding = {alias.type: frozenset({alias.value})} if alias.type in limits else {}
        exceeded = _fits(held, adding, limits)
        if exceeded is None:
            accepted_new.append(alias)
            if adding:
                held.setdefault(alias.type, set()).add(alias.value)
        else:
            refusals.append(Refusal(alias, None, exceeded, limits[exceeded]))

    if not group:
        return IdentityPlan(None, [], {}, accepted_new, refusals)
    survivor = min(group, key=lambda pid: (-profiles[pid].size, pid))
    merged = [pid for pid in group if pid != survivor]
    # The evidence of this batch that joined them: its aliases already held by any profile of the group.
    joining = sorted(alias for pid in group for alias in by_profile.get(pid, []))
    linked_by = {pid: joining for pid in merged}
    return IdentityPlan(survivor, merged, linked_by, accepted_new, refusals)
