"""The ingestion service: one canonical batch in, one managed write transaction out.

Every dialect ends here. The transaction function reads the identity state it needs (locking what it reads),
asks the pure rules in `graph_model.identity` what to do, and writes the result through the repository. The
driver retries the whole function on transient errors and deadlocks, so it keeps no state between attempts.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
from neo4j import AsyncManagedTransaction
from neo4j.exceptions import TransientError

from app.logging import get_logger
from app.store.repository import GraphRepository
from graph_model.enrichment import ClientInfo, event_fields, stored_context
from graph_model.events import CanonicalEvent, IngestBatch
from graph_model.identity import IdentityPlan, ProfileFacts, plan_identity
from graph_model.urn import AliasUrn

log = get_logger(__name__)
_json = msgspec.json.Encoder()


_MAX_LOCK_ROUNDS = 8


class ProfilesKeptMoving(TransientError):
    """Merges kept moving the involved members while this transaction locked their profiles.

    A TransientError, so the driver's managed transaction retries it like a deadlock (and the API answers 503
    if retries run out)."""


class MergeRecord(msgspec.Struct, frozen=True):
    survivor_id: str
    merged_id: str
    linking_event_id: str | None
    aliases: list[str]


class IngestResult(msgspec.Struct):
    profile_id: str | None
    session_id: str | None
    event_ids: list[str]
    saved: int
    duplicates: int
    merges: list[MergeRecord] = msgspec.field(default_factory=list)
    refused: list[str] = msgspec.field(default_factory=list)
    aliases: list[str] = msgspec.field(default_factory=list)


class _EventRow(msgspec.Struct):
    """An event as the transaction sees it: the canonical event plus its storage identity."""

    event: CanonicalEvent
    id: str
    key: str


def event_key(source_id: str, external_id: str | None, event_id: str) -> str:
    """The dedup key: unique per source for client ids; server-made ids never collide with them."""
    return f"{source_id}|ext|{external_id}" if external_id is not None else f"{source_id}|id|{event_id}"


def _event_doc(row: _EventRow, session_id: str | None, client: ClientInfo | None = None) -> dict[str, Any]:
    ev = row.event
    return {
        "id": row.id,
        "key": row.key,
        "type": ev.type,
        "time": _iso(ev.time),
        "external_id": ev.external_id,
        "session_id": session_id,
        "properties_json": _json.encode(ev.properties).decode(),
        "context_json": _json.encode(stored_context(ev.context)).decode(),
        "trait_keys": list(ev.trait_inputs),
        "trait_values": [_json.encode(v).decode() for v in ev.trait_inputs.values()],
        # Flat properties the trait queries read (page, UTM, device, protected IP): graph_model.enrichment.
        "enriched": event_fields(ev.properties, ev.context, client),
    }


def _iso(when: datetime | None) -> str | None:
    """Times travel as ISO 8601 text that Cypher's datetime() reads: the driver's packing of datetime
    objects, in Python, was an eighth of the API's CPU per request."""
    return None if when is None else when.isoformat()


def _commit_params(
    when: str, source_id: str, now: datetime, session: dict[str, Any] | None
) -> dict[str, Any]:
    """One entry of cypher/ingest_round.cypher's $plans with every step empty: callers fill in what applies.
    `when` is the state the plan is for (see the statement's step 5)."""
    return {
        "when": when,
        "session": session,
        "session_id": session["id"] if session else None,
        "touch_aliases": [],
        "new_profile_id": None,
        "profile_id": None,
        "attach_urns": [],
        "linked_urns": [],
        "refused_urns": [],
        "claimed_ids": [],
        "evidence_event_id": None,
        "system_events": [],
    }


def _round_params(source_id: str, now: datetime, limited_types: list[str], **steps: Any) -> dict[str, Any]:
    """The parameters of cypher/ingest_round.cypher with every step empty, overridden by `steps`."""
    return {
        "events": [],
        "request_id": "",
        "source_id": source_id,
        "dialect": "",
        "lock_ids": [],
        "lock_named": False,
        "create_members": False,
        "only_if_all_created": False,
        "new_session": None,
        "new_aliases": [],
        "session_id": None,
        "urns": [],
        "claimed_id": None,
        "limited_types": limited_types,
        "now": _iso(now),
        "plans": [],
        # The events the chosen plan binds: the same for every guess, so sent once, not in each plan.
        "bind_events": [],
        **steps,
    }


# The survivor of a plan made for a returning visitor before their profile is known: the statement that
# carries it out reads the profile (cypher/ingest_round.cypher, 'one_owner').
_OWNER = "(the profile that owns them all)"


class _Guess(msgspec.Struct):
    """A commit planned for a state the first round may find, sent along so that it can commit at once."""

    commit: dict[str, Any]
    linked_urns: list[str]


class IngestionService:
    def __init__(self, repository: GraphRepository, merge_limits: dict[str, int]) -> None:
        self._repo = repository
        self._limits = dict(merge_limits)

    async def ingest(self, batch: IngestBatch) -> IngestResult:
        return (await self.ingest_many([batch]))[0]

    async def ingest_many(self, batches: Sequence[IngestBatch]) -> list[IngestResult]:
        """Write several batches (the messages of one Segment request) in one transaction, all or none."""
        prepared = [(batch, *self._rows(batch)) for batch in batches]
        request_id = str(uuid.uuid4())

        async def write_all(tx: AsyncManagedTransaction) -> list[IngestResult]:
            # One marker per batch: a repeat of an event written by an earlier batch of the same request is a
            # duplicate too.
            return [
                await self._write(tx, batch, rows, f"{request_id}/{i}")
                for i, (batch, rows, _) in enumerate(prepared)
            ]

        results = await self._repo.write_unit_pipelined(write_all)
        for (batch, rows, order), result in zip(prepared, results, strict=True):
            # A repeat inside the batch is a duplicate and answers with the id of the event it repeats.
            result.duplicates += len(batch.events) - len(rows)
            result.event_ids = [result.event_ids[i] for i in order]
            if result.merges or result.refused:
                log.info("identity changed", merges=len(result.merges), refused=len(result.refused))
        return results

    async def rehearse(self, batches: Sequence[IngestBatch]) -> None:
        """Run the write path for `batches` in a transaction that is rolled back: nothing is stored.

        Neo4j plans a statement the first time it sees it, which on a cold server takes seconds; rehearsing
        once at start-up makes the first real request as fast as the rest.
        """
        prepared = [(batch, *self._rows(batch)) for batch in batches]
        async with self._repo.rolled_back() as tx:
            for i, (batch, rows, _) in enumerate(prepared):
                await self._write(tx, batch, rows, f"rehearsal/{i}")  # type: ignore[arg-type]

    @staticmethod
    def _rows(batch: IngestBatch) -> tuple[list[_EventRow], list[int]]:
        """One row per distinct event, and for each event of the request the index of its row."""
        rows: list[_EventRow] = []
        row_of_key: dict[str, int] = {}
        order: list[int] = []
        for ev in batch.events:
            event_id = str(uuid.uuid4())
            key = event_key(batch.source_id, ev.external_id, event_id)
            if key not in row_of_key:
                row_of_key[key] = len(rows)
                rows.append(_EventRow(ev, event_id, key))
            order.append(row_of_key[key])
        return rows, order

    async def _write(
        self, tx: AsyncManagedTransaction, batch: IngestBatch, rows: list[_EventRow], request_id: str
    ) -> IngestResult:
        """One round trip in the common case, two or more when the identity state needs a decision.

        Round trips were most of the time a request took (bench/ingest.py: twelve statements in a row, then
        two), so every step is part of one statement that does nothing for an empty parameter
        (cypher/ingest_round.cypher). The first round deduplicates, locks, creates the new members and reads
        the identity state, and commits at once if that state is one of the usual ones this method planned
        for ahead (a new visitor, a returning one): see `_guesses`."""
        now = datetime.now(UTC)
        session_id = batch.session_id if batch.save_session else None
        limited_types = sorted(self._limits)
        identity = not batch.profile_less
        # The members as they are if every event is new, the usual case: then the first round can create
        # them itself (see cypher/ingest_round, step 3).
        session_doc, aliases = self._members(batch, session_id, rows, now)
        guesses = self._guesses(batch, session_doc, aliases, rows, now)
        linkable = {alias for alias, _ in aliases} if identity else set()  # a profile-less event links none

        # 1. Deduplicate (only events this request creates go further), lock the profiles the evidence
        #    names, create the new members, read the identity state, and commit a guess that fits it.
        first = await self._repo.ingest_round(
            tx,
            **_round_params(
                batch.source_id,
                now,
                limited_types,
                events=[_event_doc(r, batch.session_id, batch.client) for r in rows]
                if batch.save_events
                else [],
                request_id=request_id,
                dialect=batch.dialect,
                lock_named=identity,
                create_members=identity,
                only_if_all_created=True,
                new_session=session_doc,
                new_aliases=[doc for _, doc in aliases],
                session_id=session_id if identity else None,
                urns=[doc["urn"] for _, doc in aliases] if identity else [],
                claimed_id=batch.claimed_profile_id if identity else None,
                plans=[g.commit for g in guesses.values()],
                bind_events=self._bindings(batch, rows, set(), linkable) if guesses else [],
            ),
        )
        if batch.save_events:
            outcome = {rec["key"]: (rec["id"], rec["created"]) for rec in first["stored"]}
        else:
            outcome = {r.key: (r.id, True) for r in rows}
        event_ids = [outcome[r.key][0] for r in rows]
        fresh = [r for r in rows if outcome[r.key][1]]
        duplicates = len(rows) - len(fresh)
        saved = len(fresh) if batch.save_events else 0
        if first["committed"] is not None:
            guess = guesses[first["committed"]]
            profile_id = first["committed_profile"]
            return IngestResult(
                profile_id, session_id, event_ids, saved, duplicates, aliases=guess.linked_urns
            )
        if len(fresh) < len(rows):  # repeats: the members are what the created events say
            session_doc, aliases = self._members(batch, session_id, fresh, now)
        commit = _commit_params("always", batch.source_id, now, session_doc)

        if batch.profile_less:
            await self._commit(tx, batch.source_id, now, commit, self._bindings(batch, fresh, set(), set()))
            return IngestResult(None, session_id, event_ids, saved, duplicates)

        # 2. Until every profile involved (the session's, the aliases', the claimed id's) is locked and the
        #    new members exist, more rounds: usually none.
        state = await self._lock_involved(
            tx,
            first,
            batch.source_id,
            session_doc,
            [doc for _, doc in aliases],
            batch.claimed_profile_id,
            limited_types,
            now,
        )
        session_profile, alias_profiles, claimed_profile, blocked, facts = state
        if blocked:  # blocked after the fact: seen, but never identity again
            aliases = [(a, doc) for a, doc in aliases if doc["urn"] not in blocked]
        by_urn = {str(alias): alias for alias, _ in aliases}
        plan = plan_identity(
            session_profile=session_profile,
            claimed_profile=claimed_profile,
            alias_profiles={by_urn[urn]: pid for urn, pid in alias_profiles.items()},
            profiles=facts,
            limits=self._limits,
        )

        # 3. Carry the plan out: merges first (rare), then everything else in one statement.
        profile_id = plan.survivor
        if profile_id is None:
            profile_id = commit["new_profile_id"] = str(uuid.uuid4())
        merges = self._merge_records(plan, profile_id, fresh)
        if plan.merged:
            await self._repo.merge_components(tx, survivor_id=profile_id, merged_ids=sorted(plan.merged))
        for refusal in plan.refusals:
            if refusal.profile_id is None:  # a new alias that may not join: it starts a profile of its own
                await self._own_profile(tx, refusal.alias, batch.source_id, now)
        linked_urns = self._fill_commit(
            commit, batch, plan, profile_id, aliases, fresh, claimed_profile is not None, merges
        )
        kept = {alias for alias, _ in aliases}
        bind_events = self._bindings(batch, fresh, plan.refused_aliases, kept)
        await self._commit(tx, batch.source_id, now, commit, bind_events)
        return IngestResult(
            profile_id,
            session_id,
            event_ids,
            saved,
            duplicates,
            merges,
            sorted(str(a) for a in plan.refused_aliases),
            linked_urns,
        )

    def _guesses(
        self,
        batch: IngestBatch,
        session_doc: dict[str, Any] | None,
        aliases: list[tuple[AliasUrn, dict[str, Any]]],
        rows: list[_EventRow],
        now: datetime,
    ) -> dict[str, _Guess]:
        """Plans, made by the same rules, for the states most requests find, by the state each is for.

        A profile-less batch needs only that every event is new. Otherwise: a new visitor (nothing the request
        names belongs to a profile yet) and a returning one (one profile holds every alias named and the
        session, unless the session is new).
        A claimed profile id, a merge or a refusal is left to the full protocol."""
        if batch.profile_less:
            return {
                "all_created": _Guess(_commit_params("all_created", batch.source_id, now, session_doc), [])
            }
        if batch.claimed_profile_id is not None:
            return {}
        guesses = {}
        unowned = plan_identity(
            session_profile=None,
            claimed_profile=None,
            alias_profiles={alias: None for alias, _ in aliases},
            profiles={},
            limits=self._limits,
        )
        if not unowned.refusals:
            commit = _commit_params("unowned", batch.source_id, now, session_doc)
            new_id = commit["new_profile_id"] = str(uuid.uuid4())
            linked = self._fill_commit(commit, batch, unowned, new_id, aliases, rows, False, [])
            guesses["unowned"] = _Guess(commit, linked)
        if session_doc is not None or aliases:
            # A session seen before or a new one: the same plan, since the commit binds a session that has
            # no profile yet to the survivor.
            returning = plan_identity(
                session_profile=_OWNER,
                claimed_profile=None,
                alias_profiles={alias: _OWNER for alias, _ in aliases},
                profiles={_OWNER: ProfileFacts(_OWNER, 1, {})},
                limits=self._limits,
            )
            commit = _commit_params("one_owner", batch.source_id, now, session_doc)
            # profile_id None: the statement takes the owner it read and locked.
            linked = self._fill_commit(commit, batch, returning, None, aliases, rows, False, [])
            guesses["one_owner"] = _Guess(commit, linked)
        return guesses

    def _fill_commit(
        self,
        commit: dict[str, Any],
        batch: IngestBatch,
        plan: IdentityPlan,
        profile_id: str | None,
        aliases: list[tuple[AliasUrn, dict[str, Any]]],
        fresh: list[_EventRow],
        claimed_known: bool,
        merges: list[MergeRecord],
    ) -> list[str]:
        """Fill in what carrying out `plan` writes besides the merges; the linked aliases' URNs."""
        refused = plan.refused_aliases
        linked_urns = sorted(str(alias) for alias, _ in aliases if alias not in refused)
        commit.update(
            touch_aliases=[doc for _, doc in aliases],
            profile_id=profile_id,
            attach_urns=[str(a) for a in plan.new_aliases],
            linked_urns=linked_urns,
            refused_urns=sorted(str(a) for a in refused),
            claimed_ids=[
                h
                for h in (
                    batch.claimed_profile_id if claimed_known else None,
                    profile_id if plan.survivor is None else None,
                )
                if h
            ],
            evidence_event_id=fresh[0].id if fresh else None,
            system_events=self._system_events(plan, profile_id, merges, fresh),
        )
        return linked_urns

    @staticmethod
    def _bindings(
        batch: IngestBatch, events: list[_EventRow], refused: set[AliasUrn], kept: set[AliasUrn]
    ) -> list[dict[str, Any]]:
        """The events to bind (none if the batch saves none), each with the aliases it links (of `kept`,
        those not `refused`) and those it was refused."""
        if not batch.save_events:
            return []
        return [
            {
                "id": r.id,
                "linked_urns": [str(a) for a in r.event.aliases if a not in refused and a in kept],
                "refused_urns": [str(a) for a in r.event.aliases if a in refused],
            }
            for r in events
        ]

    async def _commit(
        self,
        tx: AsyncManagedTransaction,
        source_id: str,
        now: datetime,
        commit: dict[str, Any],
        bind_events: list[dict[str, Any]] | None = None,
    ) -> None:
        """Carry out a plan made for the state the lock rounds read: a round with no other step."""
        row = await self._repo.ingest_round(
            tx,
            **_round_params(
                source_id, now, sorted(self._limits), plans=[commit], bind_events=bind_events or []
            ),
        )
        assert row["committed"] == "always"

    async def _own_profile(
        self,
        tx: AsyncManagedTransaction,
        alias: AliasUrn,
        source_id: str,
        now: datetime,
    ) -> None:
        """A profile for a new alias merge protection kept out; its id handle names the alias as evidence,
        so the new component holds together when it is re-derived."""
        own_id, urns = str(uuid.uuid4()), [str(alias)]
        commit = {
            **_commit_params("always", source_id, now, None),
            "new_profile_id": own_id,
            "profile_id": own_id,
            "attach_urns": urns,
            "linked_urns": urns,
        }
        await self._commit(tx, source_id, now, commit)

    async def _lock_involved(
        self,
        tx: AsyncManagedTransaction,
        first: dict[str, Any],
        source_id: str,
        session_doc: dict[str, Any] | None,
        alias_docs: list[dict[str, Any]],
        claimed_id: str | None,
        limited_types: list[str],
        now: datetime,
    ) -> tuple[str | None, dict[str, str | None], str | None, set[str], dict[str, ProfileFacts]]:
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
        urns = [doc["urn"] for doc in alias_docs]
        session_id = session_doc["id"] if session_doc else None
        row = first
        locked: set[str] = set(first["locked"])
        created: bool = first["created"]
        for _ in range(_MAX_LOCK_ROUNDS):
            aliases, named = self._named(row)
            if created and named <= locked:
                return (
                    row["session_profile"],
                    aliases,
                    row["claimed_profile"],
                    set(row["blocked"]),
                    self._facts(row["profiles"]),
                )
            lock_now = sorted(named - locked)
            row = await self._repo.ingest_round(
                tx,
                **_round_params(
                    source_id,
                    now,
                    limited_types,
                    lock_ids=lock_now,
                    create_members=not created,
                    new_session=session_doc,
                    new_aliases=alias_docs,
                    session_id=session_id,
                    urns=urns,
                    claimed_id=claimed_id,
                ),
            )
            locked |= set(lock_now)
            created = True
        raise ProfilesKeptMoving(f"profiles still moving after {_MAX_LOCK_ROUNDS} lock rounds")

    @staticmethod
    def _named(row: dict[str, Any]) -> tuple[dict[str, str | None], set[str]]:
        """The aliases read (blocked ones left out) and every profile the read names."""
        blocked = set(row["blocked"])
        aliases = {urn: pid for urn, pid in row["aliases"] if urn not in blocked}
        named = {p for p in (row["session_profile"], row["claimed_profile"], *aliases.values()) if p}
        return aliases, named

    @staticmethod
    def _facts(rows: list[dict[str, Any]]) -> dict[str, ProfileFacts]:
        facts: dict[str, ProfileFacts] = {}
        for rec in rows:
            limited: dict[str, set[str]] = {}
            for item in rec["limited"]:
                alias_type, _, value = item.partition(":")
                limited.setdefault(alias_type, set()).add(value)
            facts[rec["id"]] = ProfileFacts(
                rec["id"], rec["size"], {k: frozenset(v) for k, v in limited.items()}
            )
        return facts

    @staticmethod
    def _members(
        batch: IngestBatch, session_id: str | None, events: list[_EventRow], now: datetime
    ) -> tuple[dict[str, Any] | None, list[tuple[AliasUrn, dict[str, Any]]]]:
        """The session and the aliases `events` (the events that count) and the request make known, with
        the first/last seen their times give."""
        times = [r.event.time for r in events]
        first, last = (min(times), max(times)) if times else (None, None)
        session = (
            {
                "id": session_id,
                "first_seen": _iso(first),
                "last_seen": _iso(last),
                "profile_less": batch.profile_less,
            }
            if session_id is not None
            else None
        )
        seen: dict[AliasUrn, list[datetime]] = {a: [] for a in batch.aliases}
        for row in events:
            for alias in row.event.aliases:
                seen.setdefault(alias, []).append(row.event.time)
        aliases = []
        for alias in sorted(seen):
            alias_times = seen[alias] or [t for t in (first, last) if t] or [now]
            aliases.append(
                (
                    alias,
                    {
                        "urn": str(alias),
                        "type": alias.type,
                        "value": alias.value,
                        "first_seen": _iso(min(alias_times)),
                        "last_seen": _iso(max(alias_times)),
                    },
                )
            )
        return session, aliases

    @staticmethod
    def _merge_records(plan: IdentityPlan, survivor: str, fresh: list[_EventRow]) -> list[MergeRecord]:
        records = []
        for merged_id in plan.merged:
            linking = plan.linked_by.get(merged_id, [])
            event_id = next((r.id for r in fresh if any(a in linking for a in r.event.aliases)), None)
            if event_id is None and fresh:
                event_id = fresh[0].id
            records.append(MergeRecord(survivor, merged_id, event_id, [str(a) for a in linking]))
        return records

    @staticmethod
    def _system_events(
        plan: IdentityPlan, profile_id: str | None, merges: list[MergeRecord], fresh: list[_EventRow]
    ) -> list[dict[str, Any]]:
        docs = []
        for m in merges:
            docs.append(
                {
                    "id": str(uuid.uuid4()),
                    "type": "profile-merged",
                    "about_id": m.merged_id,
                    "names_urns": m.aliases,
                    "linking_event_id": m.linking_event_id,
                    "properties_json": _json.encode(
                        {
                            "survivor_id": m.survivor_id,
                            "merged_id": m.merged_id,
                            "linking_event_id": m.linking_event_id,
                            "aliases": m.aliases,
                        }
                    ).decode(),
                }
            )
        for r in plan.refusals:
            linking = next((row.id for row in fresh if r.alias in row.event.aliases), None)
            docs.append(
                {
                    "id": str(uuid.uuid4()),
                    "type": "merge-refused",
                    "about_id": profile_id,
                    "names_urns": [str(r.alias)],
                    "linking_event_id": linking,
                    "properties_json": _json.encode(
                        {
                            "profile_id": profile_id,
                            "alias": str(r.alias),
                            "alias_profile_id": r.profile_id,
                            "alias_type": r.alias_type,
                            "limit": r.limit,
                            "linking_event_id": linking,
                        }
                    ).decode(),
                }
            )
        return docs
