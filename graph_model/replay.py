"""The identity rules replayed in memory: units of evidence in, the partition they make out.

The ingestion service carries `plan_identity` out against the graph; this does the same against plain
dicts, step for step (union by size, sessions that leave, refused new aliases on profiles of their own,
shared aliases), so it is the sequential reference of what the graph must hold. Two uses:
- tests replay what concurrent writers sent, in the order the graph recorded, and compare partitions;
- `idgraph identity rebuild` replays every recorded link under the current rules to see what changes.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import msgspec

from graph_model.components import UnionFind
from graph_model.identity import ProfileFacts, plan_identity
from graph_model.identity_rules import IdentityRules
from graph_model.urn import AliasUrn


class Unit(msgspec.Struct, frozen=True):
    """One unit of evidence: a request's session (None: bound to the profile directly) and its aliases."""

    session_id: str | None
    aliases: tuple[AliasUrn, ...]
    asserted: bool = False
    # An operator's manual merge: a member of each of the two profiles (`urn:...` for an alias,
    # `session:<id>` for a session) whose profiles become one, whatever the rules say.
    manual: tuple[str, str] | None = None


class _Profile:
    __slots__ = ("aliases", "held", "sessions", "size")

    def __init__(self) -> None:
        self.size = 1  # its id handle
        self.aliases: set[AliasUrn] = set()
        self.sessions: set[str] = set()
        self.held: dict[str, set[str]] = {}


class Replay:
    """An identity graph in memory, fed one unit at a time."""

    def __init__(self, rules: IdentityRules) -> None:
        self.rules = rules
        self._held_types = set(rules.held_types())
        self._ids = (f"r{n}" for n in itertools.count(1))
        self.profiles: dict[str, _Profile] = {}
        self.alias_profile: dict[AliasUrn, str] = {}
        self.session_profile: dict[str, str] = {}
        self.session_links: dict[str, set[AliasUrn]] = {}  # accepted links of each session
        self.shared: set[AliasUrn] = set()
        # Which strong aliases accepted evidence has joined, ever (a union-find): two strong aliases may
        # share a profile only if they are joined here.
        self._strong: UnionFind[AliasUrn] = UnionFind()
        # Each session link's last decision: True accepted (it holds the component together), False refused.
        self.link_accepted: dict[tuple[str, AliasUrn], bool] = {}

    # -- state ---------------------------------------------------------------------------------------------

    def _new_profile(self) -> str:
        pid = next(self._ids)
        self.profiles[pid] = _Profile()
        return pid

    def _attach_alias(self, pid: str, alias: AliasUrn) -> None:
        profile = self.profiles[pid]
        profile.aliases.add(alias)
        profile.size += 1
        if alias.type in self._held_types:
            profile.held.setdefault(alias.type, set()).add(alias.value)
        self.alias_profile[alias] = pid

    def _attach_session(self, pid: str, session_id: str) -> None:
        self.profiles[pid].sessions.add(session_id)
        self.profiles[pid].size += 1
        self.session_profile[session_id] = pid

    def _merge(self, survivor: str, merged: str) -> None:
        into, gone = self.profiles[survivor], self.profiles.pop(merged)
        into.size += gone.size
        into.aliases |= gone.aliases
        into.sessions |= gone.sessions
        for alias_type, values in gone.held.items():
            into.held.setdefault(alias_type, set()).update(values)
        for alias in gone.aliases:
            self.alias_profile[alias] = survivor
        for session in gone.sessions:
            self.session_profile[session] = survivor

    def _facts(self, pid: str) -> ProfileFacts:
        p = self.profiles[pid]
        return ProfileFacts(pid, p.size, {t: frozenset(v) for t, v in p.held.items()})

    # -- one unit ------------------------------------------------------------------------------------------

    def apply(self, unit: Unit) -> None:
        if unit.manual is not None:
            self._apply_manual(*unit.manual)
            return
        aliases = list(dict.fromkeys(unit.aliases))
        for alias in aliases:  # step 3: new aliases exist before the read, with no profile yet
            self.alias_profile.setdefault(alias, "")
        alias_profiles = {a: (self.alias_profile[a] or None) for a in aliases}
        session_profile = self.session_profile.get(unit.session_id) if unit.session_id else None
        session_aliases = [
            a
            for a in self.session_links.get(unit.session_id or "", set())
            if self.alias_profile.get(a) == session_profile
        ]
        named = {p for p in (session_profile, *alias_profiles.values()) if p}
        plan = plan_identity(
            session_profile=session_profile,
            claimed_profile=None,
            alias_profiles=alias_profiles,
            profiles={pid: self._facts(pid) for pid in named},
            rules=self.rules,
            session_aliases=session_aliases,
            shared={a for a in aliases if a in self.shared},
            asserted=unit.asserted,
        )
        survivor = plan.survivor or self._new_profile()
        for merged in plan.merged:
            self._merge(survivor, merged)
        if plan.session_leaves is not None and unit.session_id is not None:
            old = self.profiles.get(plan.session_leaves)
            if old is not None and unit.session_id in old.sessions:
                old.sessions.discard(unit.session_id)
                old.size -= 1
                del self.session_profile[unit.session_id]
                links = self.session_links.get(unit.session_id, set())
                left = {a for a in links if self.alias_profile.get(a) == plan.session_leaves}
                links -= left
                for alias in left:
                    self.link_accepted[(unit.session_id, alias)] = False
        refused = plan.refused_aliases
        for refusal in plan.refusals:
            if refusal.profile_id is None and not self.alias_profile.get(refusal.alias):
                self._attach_alias(self._new_profile(), refusal.alias)
        for alias in plan.new_aliases:
            if not self.alias_profile.get(alias):
                self._attach_alias(survivor, alias)
        if unit.session_id is not None:
            if unit.session_id not in self.session_profile:
                self._attach_session(survivor, unit.session_id)
            links = self.session_links.setdefault(unit.session_id, set())
            links.update(a for a in aliases if a not in refused)
            for alias in aliases:
                # An accepted link stays accepted (the graph MERGEs it); a refused one may be accepted later.
                kept = alias not in refused or self.link_accepted.get((unit.session_id, alias), False)
                self.link_accepted[(unit.session_id, alias)] = kept
        self.shared |= set(plan.shared)
        # The strong evidence this unit accepted joins its strong aliases: its own, and the session's when
        # the session stayed.
        stayed = plan.session_leaves is None
        accepted = [a for a in aliases if a not in refused]
        accepted += [a for a in session_aliases if stayed]
        self._join_strong([a for a in accepted if self.rules.is_strong(a.type)])

    def _owner(self, key: str) -> str | None:
        if key.startswith("urn:"):
            alias_type, _, value = key[4:].partition(":")
            return self.alias_profile.get(AliasUrn(alias_type, value)) or None
        return self.session_profile.get(key.removeprefix("session:"))

    def _apply_manual(self, first: str, second: str) -> None:
        a, b = self._owner(first), self._owner(second)
        if a is None or b is None or a == b:
            return
        survivor, merged = sorted((a, b), key=lambda pid: (-self.profiles[pid].size, pid))
        strong = [x for pid in (a, b) for x in self.profiles[pid].aliases if self.rules.is_strong(x.type)]
        self._merge(survivor, merged)
        self._join_strong(strong)

    def _join_strong(self, aliases: list[AliasUrn]) -> None:
        self._strong.union(*aliases)

    def strongly_joined(self, aliases: Iterable[AliasUrn]) -> bool:
        """Whether accepted strong evidence (or a manual merge) joined all of these strong aliases."""
        return len({self._strong.find(a) for a in aliases}) <= 1

    # -- answers -------------------------------------------------------------------------------------------

    def groups(self) -> list[tuple[frozenset[AliasUrn], frozenset[str]]]:
        """The profiles as (aliases, session ids)."""
        return [(frozenset(p.aliases), frozenset(p.sessions)) for p in self.profiles.values()]

    def partition(self) -> list[frozenset[str]]:
        """The profiles as sets of members (`urn:...` for aliases, session ids as they are), sorted."""
        groups: dict[str, set[str]] = {}
        for alias, pid in self.alias_profile.items():
            if pid:
                groups.setdefault(pid, set()).add(str(alias))
        for session, pid in self.session_profile.items():
            groups.setdefault(pid, set()).add(session)
        return sorted((frozenset(g) for g in groups.values()), key=lambda g: sorted(g))


def replay(units: Iterable[Unit], rules: IdentityRules) -> Replay:
    state = Replay(rules)
    for unit in units:
        state.apply(unit)
    return state
