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


# The order in which a batch's evidence claims the batch when merge protection makes a choice: a login id
# outranks an email, an email a phone, any of those an identifier of another kind, and a device's anonymous id
# comes last, since shared devices (a family tablet, a shop kiosk) are where wrong merges come from. When a
# kiosk's anonymous id (in the first shopper's profile) arrives with the next shopper's customer id, the
# customer id's side wins, takes the new email with it, and the kiosk's link is the one refused.
ALIAS_PRIORITY: tuple[str, ...] = ("user_id", "customer_id", "email", "phone")
DEVICE_ALIAS_TYPES: frozenset[str] = frozenset({"anonymous_id", "device_id"})


def alias_rank(alias_type: str) -> int:
    if alias_type in ALIAS_PRIORITY:
        return ALIAS_PRIORITY.index(alias_type)
    return len(ALIAS_PRIORITY) + (1 if alias_type in DEVICE_ALIAS_TYPES else 0)


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
    claimed profile id, then the aliases by priority (`alias_rank`; the larger profile first within a rank):
    an alias held by a profile brings that profile in, an alias seen for the first time comes itself, and
    each joins if the group keeps every limited alias type within its limit. A refused new alias gets a
    profile of its own (every alias belongs to exactly one profile); a refused profile keeps its members.
    """
    by_profile: dict[str, list[AliasUrn]] = {}
    for alias, pid in alias_profiles.items():
        if pid is not None:
            by_profile.setdefault(pid, []).append(alias)

    # Evidence in the order it claims the batch: (profile id, None) brings a profile, (None, alias) a new
    # alias.
    ordered: list[tuple[str | None, AliasUrn | None]] = []
    for pid in (session_profile, claimed_profile):
        if pid is not None and (pid, None) not in ordered:
            ordered.append((pid, None))
    aliases_by_rank = sorted(
        alias_profiles.items(),
        key=lambda item: (
            alias_rank(item[0].type),
            -profiles[item[1]].size if item[1] is not None else 0,
            item[1] or "",
            item[0],
        ),
    )
    for alias, pid in aliases_by_rank:
        step = (pid, None) if pid is not None else (None, alias)
        if step not in ordered:
            ordered.append(step)

    group: list[str] = []
    held: dict[str, set[str]] = {}
    refused_profiles: set[str] = set()
    accepted_new: list[AliasUrn] = []
    refusals: list[Refusal] = []
    for pid, new_alias in ordered:
        if pid is not None:
            if pid in refused_profiles:
                continue
            facts = profiles[pid]
            exceeded = _fits(held, facts.limited, limits) if group or accepted_new else None
            if exceeded is None:
                group.append(pid)
                for alias_type, values in facts.limited.items():
                    held.setdefault(alias_type, set()).update(values)
            else:
                refused_profiles.add(pid)
                for alias in by_profile.get(pid, []):
                    refusals.append(Refusal(alias, pid, exceeded, limits[exceeded]))
        elif new_alias is not None:
            adding = {new_alias.type: frozenset({new_alias.value})} if new_alias.type in limits else {}
            exceeded = _fits(held, adding, limits)
            if exceeded is None:
                accepted_new.append(new_alias)
                if adding:
                    held.setdefault(new_alias.type, set()).add(new_alias.value)
            else:
                refusals.append(Refusal(new_alias, None, exceeded, limits[exceeded]))

    accepted_new.sort()
    if not group:
        return IdentityPlan(None, [], {}, accepted_new, refusals)
    survivor = min(group, key=lambda pid: (-profiles[pid].size, pid))
    merged = [pid for pid in group if pid != survivor]
    # The evidence of this batch that joined them: its aliases already held by any profile of the group.
    joining = sorted(alias for pid in group for alias in by_profile.get(pid, []))
    linked_by = {pid: joining for pid in merged}
    return IdentityPlan(survivor, merged, linked_by, accepted_new, refusals)
