"""Re-deriving components from evidence: what a profile splits into when a link is taken back.

A profile is a connected component of its members (sessions, aliases, profile id handles) joined by evidence
links. When an alias is blocked after the fact or a link is removed, the members are regrouped by the links
that remain; the group holding the profile's own id handle keeps the profile, and every other group becomes a
profile of its own — under the oldest merged-away id it holds, so a profile that should never have merged
comes back under its old id.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Generic, TypeVar

import msgspec

_K = TypeVar("_K", bound=Hashable)


class UnionFind(Generic[_K]):
    """Disjoint sets with path halving: the one union-find of the domain (components, replays, oracles)."""

    def __init__(self) -> None:
        self.parent: dict[_K, _K] = {}

    def find(self, x: _K) -> _K:
        parent = self.parent
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, *items: _K) -> None:
        """Put every item in one set (each item is added if new)."""
        roots = [self.find(item) for item in items]
        for root in roots[1:]:
            first, other = self.find(roots[0]), self.find(root)
            if first != other:
                self.parent[other] = first

    def groups(self) -> list[set[_K]]:
        out: dict[_K, set[_K]] = {}
        for x in list(self.parent):
            out.setdefault(self.find(x), set()).add(x)
        return list(out.values())


class SplitGroup(msgspec.Struct, frozen=True):
    profile_id: str | None  # an existing handle id to reuse; None: a new id is needed
    members: frozenset[str]


class SplitPlan(msgspec.Struct, frozen=True):
    kept: frozenset[str]
    groups: list[SplitGroup]


def connected_groups(members: Iterable[str], links: Iterable[tuple[str, str]]) -> list[set[str]]:
    """Connected components of `members` under `links`; links to non-members are ignored."""
    sets: UnionFind[str] = UnionFind()
    wanted = set(members)
    for m in wanted:
        sets.find(m)
    for a, b in links:
        if a in wanted and b in wanted:
            sets.union(a, b)
    return sorted(sets.groups(), key=lambda g: min(g))


def handle_key(profile_id: str) -> str:
    return f"profile_id:{profile_id}"


def plan_split(
    profile_id: str,
    members: Iterable[str],
    links: Iterable[tuple[str, str]],
    handle_created: Mapping[str, str],
) -> SplitPlan:
    """Regroup a profile's members. `handle_created` maps each handle id to its ISO 8601 creation time."""
    groups = connected_groups(members, links)
    own = handle_key(profile_id)
    kept: frozenset[str] = frozenset()
    others: list[SplitGroup] = []
    for group in groups:
        if own in group:
            kept = frozenset(group)
            continue
        handles = sorted(
            (key.removeprefix("profile_id:") for key in group if key.startswith("profile_id:")),
            key=lambda hid: (handle_created.get(hid, ""), hid),
        )
        others.append(SplitGroup(handles[0] if handles else None, frozenset(group)))
    return SplitPlan(kept, others)
