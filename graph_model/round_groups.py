"""Which batches of one request (the messages of a Segment batch, the lines of an import chunk) may share one
statement, and whether running them that way came out as running them one by one.

Batches that name disjoint identities (no alias, session, claimed profile id or client event id in common)
need nothing of each other before their first round, so their first rounds run as one statement
(`cypher/ingest_round.cypher` in its many-rounds form). `levels` puts each batch one level after the last
earlier batch it shares a key with: a user's messages keep their order, and a batch of 100 users is one
level. Two batches with disjoint keys may still reach one profile through different aliases of it; the
profiles each batch touched are only known after its rounds, so `out_of_order` checks afterwards that every
profile saw its batches in the request's order, and the caller writes the request one batch at a time
instead when it did not. Pure: no I/O, nothing of app.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import msgspec

from graph_model.events import IngestBatch


def identity_keys(batch: IngestBatch) -> set[str]:
    """What a batch's rounds may read or write that another batch of the request could also name."""
    keys = {f"alias:{a}" for a in batch.all_aliases()}
    if batch.session_id is not None:
        keys.add(f"session:{batch.session_id}")
    if batch.claimed_profile_id is not None:
        keys.add(f"profile:{batch.claimed_profile_id}")
    keys.update(f"event:{ev.external_id}" for ev in batch.events if ev.external_id is not None)
    return keys


def levels(keys: Sequence[set[str]]) -> list[list[int]]:
    """Batch indexes by level, each level in request order: a batch's level is one more than the highest
    level of an earlier batch sharing a key with it (0 when none does)."""
    level_of_key: dict[str, int] = {}
    out: list[list[int]] = []
    for index, batch_keys in enumerate(keys):
        level = 1 + max((level_of_key[k] for k in batch_keys if k in level_of_key), default=-1)
        for k in batch_keys:
            level_of_key[k] = level
        if level == len(out):
            out.append([])
        out[level].append(index)
    return out


@dataclass(frozen=True)
class Touch:
    """What one batch did, for `out_of_order`: its level, whether its first round committed (the
    statement carried it out at its place among the level's rounds) and the profiles it read or wrote."""

    level: int
    first_round: bool
    profiles: frozenset[str]


def out_of_order(touches: Sequence[Touch]) -> bool:
    """True when some profile was touched by batches i < j in a different order than one by one would.

    The rounds ran level by level; in a level, first rounds in request order, then the further rounds of
    those whose first round did not commit, in request order. So batch i ran wholly before batch j when i's
    level is lower, or when both share a level and i committed in its first round."""
    by_profile: dict[str, list[int]] = {}
    for index, touch in enumerate(touches):
        for pid in touch.profiles:
            by_profile.setdefault(pid, []).append(index)
    for indexes in by_profile.values():
        for i, j in pairwise(indexes):
            a, b = touches[i], touches[j]
            if not (a.level < b.level or (a.level == b.level and a.first_round)):
                return True
    return False


def _same_identity(a: IngestBatch, b: IngestBatch) -> bool:
    """Whether `b` may join `a` as more events: the same user naming the same identities in the same way."""
    return (
        not a.asserted
        and not b.asserted
        and a.session_id is None
        and b.session_id is None
        and a.claimed_profile_id is None
        and b.claimed_profile_id is None
        and not a.aliases
        and not b.aliases
        and (a.source_id, a.dialect, a.profile_less, a.save_session, a.save_events, a.received_at, a.client)
        == (b.source_id, b.dialect, b.profile_less, b.save_session, b.save_events, b.received_at, b.client)
        and all(ev.aliases == a.events[0].aliases for ev in (*a.events, *b.events))
    )


def coalesce_runs(batches: Sequence[IngestBatch], max_events: int) -> list[IngestBatch]:
    """Consecutive batches of one request that name the same identities, one batch each (a user's Segment
    messages, one per event), as one batch with their events in order, at most `max_events` each.

    One batch is one identity decision for all its events, as one /track request of many events is; one by
    one they would be that many decisions, each finding the identity the one before left (the identity rules
    decide the same: every event names the same aliases and nothing else). Batches that claim a profile id,
    carry a session or request-level aliases, or assert a link (a Segment `alias`) are left as they are."""
    out: list[IngestBatch] = []
    for batch in batches:
        last = out[-1] if out else None
        if (
            last is not None
            and last.events
            and batch.events
            and len(last.events) + len(batch.events) <= max_events
            and _same_identity(last, batch)
        ):
            out[-1] = msgspec.structs.replace(last, events=[*last.events, *batch.events])
        else:
            out.append(batch)
    return out
