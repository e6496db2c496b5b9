"""The ingestion service: one canonical batch in, one managed write transaction out.

Every dialect ends here. The transaction function reads the identity state it needs (locking what it reads),
asks the pure rules in `graph_model.identity` what to do, and writes the result through the repository. The
driver retries the whole function on transient errors and deadlocks, so it keeps no state between attempts.
This module only orchestrates the rounds; what each round sends is built in `app.services.ingest_plan`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import msgspec
from neo4j import AsyncManagedTransaction
from neo4j.exceptions import TransientError

from app.logging import get_logger
from app.services import ingest_plan as plan_of
from app.services.identity_writes import MAX_LOCK_ROUNDS
from app.services.ingest_plan import (
    Commit,
    EventBinding,
    IdentityState,
    Members,
    MergeRecord,
    PreparedBatch,
    RoundParams,
    RoundRow,
)
from app.services.trait_folds import TraitFolds
from app.store.repository import GraphRepository, Tx
from graph_model import round_groups
from graph_model.events import DEFAULT_MAX_FUTURE_SKEW, IngestBatch
from graph_model.identity_rules import DEFAULTS, IdentityRules
from graph_model.urn import AliasUrn

__all__ = ["IngestResult", "IngestionService", "MergeRecord", "ProfilesKeptMoving"]

log = get_logger(__name__)


class ProfilesKeptMoving(TransientError):
    """Merges kept moving the involved members while this transaction locked their profiles.

    A TransientError, so the driver's managed transaction retries it like a deadlock (and the API answers 503
    if retries run out)."""


class _OutOfOrder(Exception):
    """Batches of one request met in a profile out of the request's order (graph_model.round_groups)."""


class _Start(msgspec.Struct):
    """A batch's first round, built ahead: `_write` goes on from what it read."""

    request_id: str
    now: datetime
    session_id: str | None
    members: Members
    guesses: dict[str, Commit]
    params: RoundParams


class IngestResult(msgspec.Struct):
    profile_id: str | None
    session_id: str | None
    event_ids: list[str]
    saved: int
    duplicates: int
    merges: list[MergeRecord] = msgspec.field(default_factory=list)
    refused: list[str] = msgspec.field(default_factory=list)
    aliases: list[str] = msgspec.field(default_factory=list)


class IngestionService:
    def __init__(
        self,
        repository: GraphRepository,
        rules: IdentityRules = DEFAULTS,
        *,
        max_future_skew: timedelta = DEFAULT_MAX_FUTURE_SKEW,
    ) -> None:
        self._repo = repository
        self._rules = rules
        # An event time further than this after its receipt is replaced by the receive time (API.md).
        self._max_future_skew = max_future_skew
        # The types whose values a profile's facts list: strong ones and limited ones (step 4 reads them).
        self._held_types = rules.held_types()
        self._folds = TraitFolds(repository)

    async def ingest(self, batch: IngestBatch) -> IngestResult:
        return (await self.ingest_many([batch]))[0]

    async def ingest_many(self, batches: Sequence[IngestBatch]) -> list[IngestResult]:
        """Write several batches (the messages of one Segment request) in one transaction, all or none."""
        prepared = [plan_of.prepare(batch, self._max_future_skew) for batch in batches]
        request_id = plan_of.new_id()

        async def write_all(tx: AsyncManagedTransaction) -> list[IngestResult]:
            # One marker per batch: a repeat of an event written by an earlier batch of the same request is a
            # duplicate too.
            return [await self._write(tx, p, f"{request_id}/{i}") for i, p in enumerate(prepared)]

        if len(prepared) > 1:
            try:
                results = await self._repo.write_unit_pipelined(
                    lambda tx: self._write_by_levels(tx, prepared, request_id)
                )
            except _OutOfOrder:  # two batches met in one profile out of turn: one by one instead
                results = await self._repo.write_unit_pipelined(write_all)
        else:
            results = await self._repo.write_unit_pipelined(write_all)
        for p, result in zip(prepared, results, strict=True):
            # A repeat inside the batch is a duplicate and answers with the id of the event it repeats.
            result.duplicates += len(p.batch.events) - len(p.rows)
            result.event_ids = [result.event_ids[i] for i in p.order]
            if result.merges or result.refused:
                log.info("identity changed", merges=len(result.merges), refused=len(result.refused))
        return results

    async def ingest_messages(self, batches: Sequence[IngestBatch], max_events: int) -> None:
        """The messages of one request (a Segment batch: one batch per message), all or none, a user's
        consecutive messages naming the same identities written as one batch of their events
        (graph_model.round_groups.coalesce_runs): one identity decision for them, as /track makes for the
        events of one request, instead of one round trip each."""
        await self.ingest_many(round_groups.coalesce_runs(batches, max_events))

    async def rehearse(self, batches: Sequence[IngestBatch]) -> None:
        """Run the write path for `batches` in a transaction that is rolled back: nothing is stored.

        Neo4j plans a statement the first time it sees it, which on a cold server takes seconds; rehearsing
        once at start-up makes the first real request as fast as the rest.
        """
        prepared = [plan_of.prepare(batch, self._max_future_skew) for batch in batches]
        async with self._repo.rolled_back() as tx:
            for i, p in enumerate(prepared):
                await self._write(tx, p, f"rehearsal/{i}")

    async def rehearse_many(self, batches: Sequence[IngestBatch]) -> None:
        """`rehearse` for the batches of one request as `ingest_many` writes them (first rounds of disjoint
        identities together: the many-rounds statement), rolled back."""
        prepared = [plan_of.prepare(batch, self._max_future_skew) for batch in batches]
        async with self._repo.rolled_back() as tx:
            with contextlib.suppress(_OutOfOrder):  # planned all the same
                await self._write_by_levels(tx, prepared, "rehearsal")

    async def _round(
        self, tx: Tx, params: RoundParams, merge: tuple[str, list[str]] | None = None
    ) -> RoundRow:
        """One run of cypher/ingest_round.cypher: the structs become plain maps only here, for the driver.
        With `merge` (survivor, merged profiles), those merge first, in the same statement."""
        if merge is None:
            row = await self._repo.ingest_round(tx, **msgspec.to_builtins(params))
        else:
            survivor_id, merged_ids = merge
            row = await self._repo.ingest_round_merging(
                tx, survivor_id=survivor_id, merged_ids=merged_ids, **msgspec.to_builtins(params)
            )
        return msgspec.convert(row, RoundRow)

    async def _write_by_levels(
        self, tx: Tx, prepared: list[PreparedBatch], request_id: str
    ) -> list[IngestResult]:
        """`ingest_many`'s batches with the first rounds of those naming disjoint identities in one
        statement (graph_model.round_groups), then the further rounds of those whose first round did not
        commit, one batch at a time. Raises _OutOfOrder (the transaction rolls back) when two batches
        reached one profile in another order than one by one would have."""
        starts = [self._start(p, f"{request_id}/{i}") for i, p in enumerate(prepared)]
        results: list[IngestResult | None] = [None] * len(prepared)
        touches: list[round_groups.Touch | None] = [None] * len(prepared)
        by_level = round_groups.levels([round_groups.identity_keys(p.batch) for p in prepared])
        for level, indexes in enumerate(by_level):
            if len(indexes) > 1:
                rows = await self._rounds(tx, [starts[i].params for i in indexes])
            else:
                rows = [await self._round(tx, starts[indexes[0]].params)]
            for i, row in zip(indexes, rows, strict=True):
                touched: set[str] = set()
                results[i] = await self._write(tx, prepared[i], starts[i].request_id, starts[i], row, touched)
                touches[i] = round_groups.Touch(level, row.committed is not None, frozenset(touched))
        if round_groups.out_of_order([t for t in touches if t is not None]):
            raise _OutOfOrder
        return [r for r in results if r is not None]

    def _start(self, prepared: PreparedBatch, request_id: str) -> _Start:
        """The request's first round, built before it runs (the many-rounds statement sends several)."""
        batch, rows = prepared.batch, prepared.rows
        now = datetime.now(UTC)
        session_id = batch.session_id if batch.save_session else None
        # The members as they are if every event is new, the usual case: then the first round can create
        # them itself (see cypher/ingest_round, step 3).
        members = plan_of.members(batch, session_id, rows, now)
        guesses = plan_of.guesses(batch, members, rows, self._rules)
        params = plan_of.first_round(
            prepared, request_id, session_id, members, guesses, now, self._held_types
        )
        return _Start(request_id, now, session_id, members, guesses, params)

    async def _rounds(self, tx: Tx, params: list[RoundParams]) -> list[RoundRow]:
        """First rounds of several batches in one statement (ingest_round in its many-rounds form)."""
        rounds = [msgspec.to_builtins(p) | {"round_index": i} for i, p in enumerate(params)]
        rows = await self._repo.ingest_rounds(tx, rounds=rounds, limited_types=self._held_types)
        rows.sort(key=lambda row: int(row["round_index"]))
        return [msgspec.convert(row, RoundRow) for row in rows]

    async def _write(
        self,
        tx: Tx,
        prepared: PreparedBatch,
        request_id: str,
        start: _Start | None = None,
        first: RoundRow | None = None,
        touched: set[str] | None = None,
    ) -> IngestResult:
        """One round trip in the common case, two or more when the identity state needs a decision.

        Round trips were most of the time a request took (bench/ingest.py: twelve statements in a row, then
        two), so every step is part of one statement that does nothing for an empty parameter
        (cypher/ingest_round.cypher). The first round deduplicates, locks, creates the new members and reads
        the identity state, and commits at once if that state is one of the usual ones this method planned
        for ahead (a new visitor, a returning one): see `ingest_plan.guesses`."""
        batch, rows = prepared.batch, prepared.rows
        start = start or self._start(prepared, request_id)
        now, session_id, members, guesses = start.now, start.session_id, start.members, start.guesses
        limited_types = self._held_types
        touched = set() if touched is None else touched

        # 1. Deduplicate (only events this request creates go further), lock the profiles the evidence
        #    names, create the new members, read the identity state, and commit a guess that fits it.
        #    (`first` when the many-rounds statement ran it already.)
        first = first or await self._round(tx, start.params)
        if batch.save_events:
            outcome = {rec.key: (rec.id, rec.created) for rec in first.stored}
        else:
            outcome = {r.key: (r.id, True) for r in rows}
        event_ids = [outcome[r.key][0] for r in rows]
        fresh = [r for r in rows if outcome[r.key][1]]
        duplicates = len(rows) - len(fresh)
        saved = len(fresh) if batch.save_events else 0
        if first.committed is not None:
            touched.update(p for p in (*first.locked, first.committed_profile) if p)
            linked_urns = guesses[first.committed].linked_urns
            return IngestResult(
                first.committed_profile, session_id, event_ids, saved, duplicates, aliases=linked_urns
            )
        if len(fresh) < len(rows):  # repeats: the members are what the created events say
            members = plan_of.members(batch, session_id, fresh, now)

        if batch.profile_less:
            bind_events = plan_of.bindings(batch, fresh, set(), set())
            await self._commit(
                tx, batch.source_id, now, plan_of.bare_commit("always", members.session), bind_events
            )
            return IngestResult(None, session_id, event_ids, saved, duplicates)

        # 2. Until every profile involved (the session's, the aliases', the claimed id's) is locked and the
        #    new members exist, more rounds: usually none.
        state = await self._lock_involved(tx, first, batch, members, limited_types, now)
        if state.blocked:  # blocked after the fact: seen, but never identity again
            members = members.without(state.blocked)
        plan = plan_of.decide(state, members, self._rules, asserted=batch.asserted)

        # 3. Carry the plan out: merges first (rare), then everything else in one statement.
        if plan.survivor is None:
            profile_id = new_profile_id = plan_of.new_id()
        else:
            profile_id, new_profile_id = plan.survivor, None
        touched.update(state.named | {profile_id})
        merges = plan_of.merge_records(plan, profile_id, fresh)
        # The merge runs in the commit round's statement (one round trip fewer than a statement of its own)
        # unless something else must run between the two.
        merge_in_commit = (
            bool(plan.merged)
            and plan.session_leaves is None
            and all(refusal.profile_id is not None for refusal in plan.refusals)
        )
        if plan.merged and not merge_in_commit:
            await self._repo.merge_components(tx, survivor_id=profile_id, merged_ids=sorted(plan.merged))
        if plan.session_leaves is not None and session_id is not None:
            # Its evidence there was refused: the session leaves with its events, and its links to the
            # aliases it leaves behind become refused links (rule 4).
            await self._repo.rows(
                tx, "ingest_session_leave", session_id=session_id, profile_id=plan.session_leaves
            )
            # the profile it left no longer counts it in its traits fold
            await self._folds.recompute_profiles(tx, [plan.session_leaves])
        for refusal in plan.refusals:
            if refusal.profile_id is None:  # a new alias that may not join: it starts a profile of its own
                await self._own_profile(tx, refusal.alias, batch.source_id, now)
        commit = plan_of.plan_commit(
            "always",
            batch,
            plan,
            members,
            fresh,
            profile_id=profile_id,
            new_profile_id=new_profile_id,
            claimed_known=state.claimed_profile is not None,
            merges=merges,
            clock_ids=sorted(state.named),
        )
        bind_events = plan_of.bindings(batch, fresh, plan.refused_aliases, members.alias_set())
        merged = sorted(plan.merged) if merge_in_commit else None
        await self._commit(tx, batch.source_id, now, commit, bind_events, merged=merged)
        return IngestResult(
            profile_id,
            session_id,
            event_ids,
            saved,
            duplicates,
            merges,
            sorted(str(a) for a in plan.refused_aliases),
            commit.linked_urns,
        )

    async def _commit(
        self,
        tx: Tx,
        source_id: str,
        now: datetime,
        commit: Commit,
        bind_events: list[EventBinding] | None = None,
        *,
        merged: list[str] | None = None,
    ) -> None:
        """Carry out a plan made for the state the lock rounds read: a round with no other step; with
        `merged`, those profiles merged into the plan's profile first, in the same statement."""
        params = plan_of.commit_round(source_id, commit, bind_events, now, self._held_types)
        merge = None
        if merged:
            assert commit.profile_id is not None
            merge = (commit.profile_id, merged)
        row = await self._round(tx, params, merge)
        assert row.committed == "always"

    async def _own_profile(self, tx: Tx, alias: AliasUrn, source_id: str, now: datetime) -> None:
        """A profile of its own for a new alias merge protection kept out."""
        await self._commit(tx, source_id, now, plan_of.own_profile_commit(alias))

    async def _lock_involved(
        self,
        tx: Tx,
        first: RoundRow,
        batch: IngestBatch,
        members: Members,
        limited_types: list[str],
        now: datetime,
    ) -> IdentityState:
        """Lock the profiles the evidence touches, in id order, until no member has moved meanwhile.

        Every writer takes profile locks before it writes a member, and a member moves only under its
        profile's lock; so after locking what a read named, the next read either names the same profiles
        (stable) or the survivor of a merge that committed in between, which is locked next. New members
        (the session, aliases) are created only once the profiles named are locked, and read again after:
        another writer may have created one of them first. Locks taken in a later round can deadlock; Neo4j
        detects that and the driver retries the whole transaction.

        `first` is the request's first round, which has done one such step already (and created the new
        members unless an event was a repeat); each further round is one statement too
        (cypher/ingest_round.cypher).
        """
        row = first
        locked: set[str] = set(first.locked)
        created = first.created
        for _ in range(MAX_LOCK_ROUNDS):
            state = plan_of.read_state(row)
            named = state.named
            if created and named <= locked:
                return state
            lock_now = sorted(named - locked)
            params = plan_of.lock_round(batch, members, lock_now, not created, now, limited_types)
            row = await self._round(tx, params)
            locked |= set(lock_now)
            created = True
        raise ProfilesKeptMoving(f"profiles still moving after {MAX_LOCK_ROUNDS} lock rounds")
