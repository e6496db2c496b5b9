"""What a rebuild changes: the partition the graph holds against the one a replay of the rules makes.

Members are keyed `urn:<type>:<value>` (aliases) and `session:<id>` (sessions). Profiles and replayed groups
that share members form a change set; each is carried out on its own (one transaction, under the locks of
its profiles), so a rebuild can stop anywhere and run again. In a change set, every replayed group keeps
the id of the profile that holds most of it (each id once), or gets a new profile; a profile no group keeps
is merged into the one that took most of its members, so its id keeps resolving.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

import msgspec

from graph_model.components import UnionFind


class Move(msgspec.Struct, frozen=True):
    target: str  # a profile id; with `create`, a placeholder the caller replaces by a new id
    create: bool
    sessions: list[str]  # session ids
    aliases: list[str]  # alias URNs


class ChangeSet(msgspec.Struct, frozen=True):
    profiles: list[str]  # the profiles it changes, as they are now (lock these)
    before: dict[str, list[str]]  # their members now (the replayed ones), to check nothing moved meanwhile
    moves: list[Move]
    retired: list[tuple[str, str]]  # (profile no group keeps, the profile it merges into)
    split: list[str]  # profiles whose members go to more than one profile


def _members(keys: Iterable[str]) -> tuple[list[str], list[str]]:
    sessions = sorted(k.removeprefix("session:") for k in keys if k.startswith("session:"))
    aliases = sorted(k for k in keys if k.startswith("urn:"))
    return sessions, aliases


def plan_rebuild(
    current: Mapping[str, str], sizes: Mapping[str, int], groups: Iterable[frozenset[str]]
) -> list[ChangeSet]:
    """The change sets that turn `current` (member -> profile id) into `groups` (the replay's profiles).
    Members the replay does not know stay where they are."""
    groups = [g for g in groups if g]
    # Profiles and groups that share a member belong to one change set.
    together: UnionFind[str] = UnionFind()
    for i, group in enumerate(groups):
        together.union(f"g:{i}", *(f"p:{current[m]}" for m in group if m in current))
    sets: dict[str, tuple[set[str], list[int]]] = {}
    for i in range(len(groups)):
        sets.setdefault(together.find(f"g:{i}"), (set(), []))[1].append(i)
    for key in list(together.parent):
        if key.startswith("p:"):
            sets.setdefault(together.find(key), (set(), []))[0].add(key[2:])

    known = {m for g in groups for m in g}
    changes: list[ChangeSet] = []
    for profiles, group_ids in sets.values():
        members_of: dict[str, set[str]] = {p: set() for p in profiles}
        for member, pid in current.items():
            if pid in members_of and member in known:
                members_of[pid].add(member)
        mine = [groups[i] for i in group_ids]
        if len(profiles) == 1 and len(mine) == 1 and members_of[next(iter(profiles))] == set(mine[0]):
            continue  # already as the rules say
        taken: dict[str, frozenset[str]] = {}
        dest: dict[str, str] = {}  # member -> the profile (or new placeholder) it ends in
        moves: list[Move] = []
        new_count = 0
        for group in sorted(mine, key=lambda g: (-len(g), sorted(g))):
            overlap = Counter(current[m] for m in group if m in current and current[m] not in taken)
            if overlap:
                target = min(overlap, key=lambda p: (-overlap[p], -sizes.get(p, 0), p))
                taken[target] = group
                moving = [m for m in group if current.get(m) != target]
                create = False
            else:
                new_count += 1
                target, moving, create = f"new-{new_count}", sorted(group), True
            dest.update(dict.fromkeys(group, target))
            if moving:
                sessions, aliases = _members(moving)
                moves.append(Move(target, create, sessions, aliases))
        retired = []
        for pid in sorted(profiles - set(taken)):
            went = Counter(dest[m] for m in members_of[pid])
            if went:
                retired.append((pid, min(went, key=lambda t: (-went[t], t))))
        split = sorted(p for p in profiles if len({dest[m] for m in members_of[p]}) > 1)
        changes.append(
            ChangeSet(
                sorted(profiles),
                {p: sorted(members_of[p]) for p in sorted(profiles)},
                moves,
                retired,
                split,
            )
        )
    return sorted(changes, key=lambda c: c.profiles)
