"""Re-normalising stored phone aliases (`idgraph identity renormalize`): pure planning.

Phone URNs used to keep a leading `+` and the digits, so `urn:phone:0049301234567` and
`urn:phone:+49301234567` were two aliases of one number. Read again through `graph_model.urn.normalise_phone`
they are one E.164 value: every stored alias is grouped with the others that read as the same number, and each
group becomes one alias. When the group's aliases belong to different profiles, the one number is evidence
that those profiles are one person, and it is decided as any link is (`plan_identity`): the same phone held by
each side, which joins them unless a rule forbids it (a weak phone between identified profiles, a limit, a
shared alias).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import msgspec

from graph_model.identity import IdentityPlan, ProfileFacts, plan_identity
from graph_model.identity_rules import IdentityRules
from graph_model.urn import AliasUrn, InvalidUrn


class StoredPhone(msgspec.Struct, frozen=True):
    """A stored phone alias as the graph holds it."""

    urn: str
    value: str
    profile_id: str | None
    blocked: bool = False
    shared: bool = False

    @property
    def alias(self) -> AliasUrn:
        return AliasUrn("phone", self.value)


class PhoneGroup(msgspec.Struct, frozen=True):
    """Stored aliases that are one number: `target` is its alias now, `members` the stored aliases (the
    target itself among them when it is stored), in URN order."""

    target: AliasUrn
    members: list[StoredPhone]

    @property
    def target_stored(self) -> bool:
        return any(m.urn == str(self.target) for m in self.members)

    @property
    def profile_ids(self) -> list[str]:
        return sorted({m.profile_id for m in self.members if m.profile_id is not None})


class Regrouping(msgspec.Struct):
    groups: list[PhoneGroup]  # only groups with an alias to change
    unchanged: int  # stored aliases already normal and alone with their number
    unparsable: list[str]  # stored aliases whose value reads as no phone number: left as they are


def group_phones(phones: Iterable[StoredPhone], normalise: Callable[[str], str]) -> Regrouping:
    """Group stored phone aliases by the value `normalise` gives them; keep the groups that change."""
    by_value: dict[str, list[StoredPhone]] = {}
    unparsable: list[str] = []
    for phone in phones:
        try:
            value = normalise(phone.value)
        except InvalidUrn:
            unparsable.append(phone.urn)
            continue
        by_value.setdefault(value, []).append(phone)
    groups: list[PhoneGroup] = []
    unchanged = 0
    for value in sorted(by_value):
        target = AliasUrn("phone", value)
        members = sorted(by_value[value], key=lambda m: m.urn)
        if [m.urn for m in members] == [str(target)]:
            unchanged += 1
        else:
            groups.append(PhoneGroup(target, members))
    return Regrouping(groups, unchanged, sorted(unparsable))


def decide_group(
    group: PhoneGroup,
    facts: Mapping[str, ProfileFacts],
    rules: IdentityRules,
    normalise: Callable[[str], str],
) -> IdentityPlan:
    """Which of the group's profiles join, by the identity rules: the unit of evidence is the group's
    aliases, each held by its profile. `facts` are read with the old values; each profile's phones are
    counted as the numbers they are now, so a limit sees one number once. Blocked aliases take no part."""
    members = [m for m in group.members if not m.blocked]
    return plan_identity(
        session_profile=None,
        claimed_profile=None,
        alias_profiles={m.alias: m.profile_id for m in members},
        profiles={pid: _renormalised(f, normalise) for pid, f in facts.items()},
        rules=rules,
        shared={m.alias for m in members if m.shared},
    )


def _renormalised(facts: ProfileFacts, normalise: Callable[[str], str]) -> ProfileFacts:
    phones = facts.limited.get("phone")
    if not phones:
        return facts
    values = set()
    for value in phones:
        try:
            values.add(normalise(value))
        except InvalidUrn:
            values.add(value)
    return msgspec.structs.replace(facts, limited={**facts.limited, "phone": frozenset(values)})
