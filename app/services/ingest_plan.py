"""The pure half of ingestion: from a canonical batch and the identity state a round read to the parameters
of `cypher/ingest_round.cypher`.

`app.services.ingestion` runs the rounds; everything here is a function of its arguments (fresh ids aside),
so it is tested without a database (tests/unit/test_ingest_plan.py). The structs are the statement's
parameters field for field (its header lists them): `IngestionService` turns a `RoundParams` into the maps
the driver sends with `msgspec.to_builtins`, and the row the statement answers into a `RoundRow` with
`msgspec.convert`. Times travel as ISO 8601 text that Cypher's `datetime()` reads: the driver's packing of
datetime objects, in Python, was an eighth of the API's CPU per request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

import msgspec

from app.services.identity_writes import SystemEvent, system_event
from graph_model.enrichment import ClientInfo, event_fields, stored_context
from graph_model.events import DEFAULT_MAX_FUTURE_SKEW, CanonicalEvent, IngestBatch, within_future_skew
from graph_model.identity import IdentityPlan, ProfileFacts, plan_identity
from graph_model.identity_rules import IdentityRules
from graph_model.urn import AliasUrn, parse_urn

_json = msgspec.json.Encoder()

# The state a plan is for (the statement's step 5).
When = Literal["always", "all_created", "unowned", "one_owner"]


def iso(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat()


# -- the events of a request ------------------------------------------------------------------------------


class EventRow(msgspec.Struct):
    """An event as the transaction sees it: the canonical event plus its storage identity."""

    event: CanonicalEvent
    id: str
    key: str


class PreparedBatch(msgspec.Struct):
    """A batch with one row per distinct event, and for each event of the request the index of its row."""

    batch: IngestBatch
    rows: list[EventRow]
    order: list[int]


def event_key(source_id: str, external_id: str | None, event_id: str) -> str:
    """The dedup key: unique per source for client ids; server-made ids never collide with them."""
    return f"{source_id}|ext|{external_id}" if external_id is not None else f"{source_id}|id|{event_id}"


def new_ids(n: int) -> list[str]:
    """`n` random (version 4, RFC 4122 variant) UUIDs as text from one read of the OS's random source.
    `str(uuid.uuid4())` costs about 2.7 us an id here (a system call, a UUID object, its formatting), this
    1.2 us; at /track batch 100 the API spends about 90 us of CPU per event."""
    pool = bytearray(os.urandom(16 * n))
    for i in range(0, 16 * n, 16):
        pool[i + 6] = (pool[i + 6] & 0x0F) | 0x40  # version 4
        pool[i + 8] = (pool[i + 8] & 0x3F) | 0x80  # variant 10xx
    h = pool.hex()
    return [
        f"{h[i : i + 8]}-{h[i + 8 : i + 12]}-{h[i + 12 : i + 16]}-{h[i + 16 : i + 20]}-{h[i + 20 : i + 32]}"
        for i in range(0, 32 * n, 32)
    ]


def new_id() -> str:
    """One id as `new_ids` makes them."""
    return new_ids(1)[0]


def prepare(batch: IngestBatch, max_future_skew: timedelta = DEFAULT_MAX_FUTURE_SKEW) -> PreparedBatch:
    """Give every event an id and its dedup key; a repeat inside the batch shares the row it repeats. An event
    time more than `max_future_skew` after the batch's receipt becomes the receive time (API.md, clock
    skew), before anything (an alias's first/last seen, a trait's "latest") reads it."""
    events = [within_future_skew(ev, batch.received_at, max_future_skew) for ev in batch.events]
    if any(a is not b for a, b in zip(events, batch.events, strict=True)):
        batch = msgspec.structs.replace(batch, events=events)
    rows: list[EventRow] = []
    row_of_key: dict[str, int] = {}
    order: list[int] = []
    for ev, event_id in zip(batch.events, new_ids(len(batch.events)), strict=True):
        key = event_key(batch.source_id, ev.external_id, event_id)
        if key not in row_of_key:
            row_of_key[key] = len(rows)
            rows.append(EventRow(ev, event_id, key))
        order.append(row_of_key[key])
    return PreparedBatch(batch, rows, order)


class EventDoc(msgspec.Struct):
    """An entry of $events: an event to store (step 1)."""

    id: str
    key: str
    type: str
    time: str
    original_time: str | None  # the client's time when the receive time replaced it (too far ahead)
    received_at: str | None  # the batch's receive time, the clock-skew rules' (None: the round's $now)
    external_id: str | None
    session_id: str | None
    properties_json: str
    context_json: str
    trait_keys: list[str]
    trait_values: list[str]  # each value as JSON text
    # Flat properties the trait queries read (page, UTM, device, protected IP): graph_model.enrichment.
    enriched: dict[str, Any]


def event_doc(
    row: EventRow,
    session_id: str | None,
    client: ClientInfo | None = None,
    *,
    received_at: datetime | None = None,
) -> EventDoc:
    ev = row.event
    return EventDoc(
        id=row.id,
        key=row.key,
        type=ev.type,
        time=ev.time.isoformat(),
        original_time=iso(ev.original_time),
        received_at=iso(received_at),
        external_id=ev.external_id,
        session_id=session_id,
        properties_json=_json.encode(ev.properties).decode(),
        context_json=_json.encode(stored_context(ev.context)).decode(),
        trait_keys=list(ev.trait_inputs),
        trait_values=[_json.encode(v).decode() for v in ev.trait_inputs.values()],
        enriched=event_fields(ev.properties, ev.context, client),
    )


# -- the members a request makes known ---------------------------------------------------------------------


class SessionDoc(msgspec.Struct):
    """$new_session, a plan's session: the session with the first/last seen this request gives it."""

    id: str
    first_seen: str | None
    last_seen: str | None
    profile_less: bool


class AliasDoc(msgspec.Struct):
    """An entry of $new_aliases, of a plan's touch_aliases: an alias with the first/last seen this request
    gives it."""

    urn: str
    type: str
    value: str
    first_seen: str
    last_seen: str

    @property
    def alias(self) -> AliasUrn:
        return AliasUrn(self.type, self.value)


class Members(msgspec.Struct):
    session: SessionDoc | None
    aliases: list[AliasDoc]  # in URN order

    @property
    def urns(self) -> list[str]:
        return [doc.urn for doc in self.aliases]

    def alias_set(self) -> set[AliasUrn]:
        return {doc.alias for doc in self.aliases}

    def without(self, urns: frozenset[str]) -> Members:
        return Members(self.session, [doc for doc in self.aliases if doc.urn not in urns])


def members(batch: IngestBatch, session_id: str | None, events: list[EventRow], now: datetime) -> Members:
    """The session and the aliases `events` (the events that count) and the request make known, with the
    first/last seen their times give; an alias no event carries gets the events' span, or `now`."""
    times = [r.event.time for r in events]
    first, last = (min(times), max(times)) if times else (None, None)
    session = (
        SessionDoc(session_id, iso(first), iso(last), batch.profile_less) if session_id is not None else None
    )
    seen: dict[AliasUrn, list[datetime]] = {a: [] for a in batch.aliases}
    for row in events:
        for alias in row.event.aliases:
            seen.setdefault(alias, []).append(row.event.time)
    aliases = []
    for alias in sorted(seen):
        alias_times = seen[alias] or [t for t in (first, last) if t] or [now]
        aliases.append(
            AliasDoc(
                str(alias),
                alias.type,
                alias.value,
                min(alias_times).isoformat(),
                max(alias_times).isoformat(),
            )
        )
    return Members(session, aliases)


class EventBinding(msgspec.Struct):
    """An entry of $bind_events: a created event, the aliases it links and those it was refused."""

    id: str
    linked_urns: list[str]
    refused_urns: list[str]


def bindings(
    batch: IngestBatch, events: list[EventRow], refused: set[AliasUrn], kept: set[AliasUrn]
) -> list[EventBinding]:
    """The events to bind (none if the batch saves none), each with the aliases it links (of `kept`, those
    not `refused`) and those it was refused."""
    if not batch.save_events:
        return []
    return [
        EventBinding(
            r.id,
            [str(a) for a in r.event.aliases if a not in refused and a in kept],
            [str(a) for a in r.event.aliases if a in refused],
        )
        for r in events
    ]


# -- plans ------------------------------------------------------------------------------------------------


class MergeRecord(msgspec.Struct, frozen=True):
    survivor_id: str
    merged_id: str
    linking_event_id: str | None
    aliases: list[str]


class Commit(msgspec.Struct, kw_only=True):
    """An entry of $plans: what carrying out one identity plan writes (step 6), for the state `when` names.
    Every step is empty by default; merges are not in it (they run before, `merge_components`)."""

    when: When
    session: SessionDoc | None = None
    session_id: str | None = None
    touch_aliases: list[AliasDoc] = []  # first/last seen widened
    new_profile_id: str | None = None  # a profile to create
    profile_id: str | None = None  # the profile members join; None in 'one_owner': the one the round read
    attach_urns: list[str] = []  # aliases seen first here that join it
    linked_urns: list[str] = []  # evidence: the anchor saw these aliases
    refused_urns: list[str] = []  # evidence of links merge protection refused
    claimed_ids: list[str] = []  # id handles the anchor claims
    shared_urns: list[str] = []  # weak aliases that took part in a refused join: marked shared
    clock_ids: list[str] = []  # profiles read and locked: they take the request's stamp (step 6d, clock)
    evidence_event_id: str | None = None
    system_events: list[SystemEvent] = []


def _id_of(session: SessionDoc | None) -> str | None:
    return session.id if session else None


def bare_commit(when: When, session: SessionDoc | None) -> Commit:
    """A plan that binds the session, if any, and writes nothing else."""
    return Commit(when=when, session=session, session_id=_id_of(session))


def merge_records(plan: IdentityPlan, survivor: str, fresh: list[EventRow]) -> list[MergeRecord]:
    """One record per profile merged into `survivor`; the linking event is the first created one carrying
    an alias that joined them, else the first created one."""
    records = []
    for merged_id in plan.merged:
        linking = plan.linked_by.get(merged_id, [])
        event_id = next((r.id for r in fresh if any(a in linking for a in r.event.aliases)), None)
        if event_id is None and fresh:
            event_id = fresh[0].id
        records.append(MergeRecord(survivor, merged_id, event_id, [str(a) for a in linking]))
    return records


def identity_events(
    plan: IdentityPlan, profile_id: str | None, merges: list[MergeRecord], fresh: list[EventRow]
) -> list[SystemEvent]:
    """profile-merged for each merge, about the profile merged away; merge-refused for each refusal, about
    the profile the batch joined."""
    records = [
        system_event(
            "profile-merged",
            m.merged_id,
            {
                "survivor_id": m.survivor_id,
                "merged_id": m.merged_id,
                "linking_event_id": m.linking_event_id,
                "aliases": m.aliases,
            },
            names_urns=m.aliases,
            linking_event_id=m.linking_event_id,
        )
        for m in merges
    ]
    for r in plan.refusals:
        if r.rule == "shared":  # a shared alias links nothing by design: no refusal to audit each time
            continue
        linking = next((row.id for row in fresh if r.alias in row.event.aliases), None)
        records.append(
            system_event(
                "merge-refused",
                profile_id,
                {
                    "profile_id": profile_id,
                    "alias": str(r.alias),
                    "alias_profile_id": r.profile_id,
                    "alias_type": r.alias_type,
                    "limit": r.limit,
                    "rule": r.rule,
                    "linking_event_id": linking,
                },
                names_urns=[str(r.alias)],
                linking_event_id=linking,
            )
        )
    return records


def plan_commit(
    when: When,
    batch: IngestBatch,
    plan: IdentityPlan,
    members: Members,
    fresh: list[EventRow],
    *,
    profile_id: str | None,
    new_profile_id: str | None = None,
    claimed_known: bool = False,
    merges: list[MergeRecord] | None = None,
    clock_ids: list[str] | None = None,
) -> Commit:
    """What carrying out `plan` writes besides the merges. Its `linked_urns` are the aliases the answer
    names. `claimed_known`: the claimed profile id exists, so the anchor claims it; a new profile's anchor
    claims its own handle."""
    refused = plan.refused_aliases
    claims = (
        batch.claimed_profile_id if claimed_known else None,
        profile_id if plan.survivor is None else None,
    )
    return Commit(
        when=when,
        session=members.session,
        session_id=_id_of(members.session),
        touch_aliases=list(members.aliases),
        new_profile_id=new_profile_id,
        profile_id=profile_id,
        attach_urns=[str(a) for a in plan.new_aliases],
        linked_urns=sorted(doc.urn for doc in members.aliases if doc.alias not in refused),
        refused_urns=sorted(str(a) for a in refused),
        claimed_ids=[h for h in claims if h],
        shared_urns=[str(a) for a in plan.shared],
        clock_ids=sorted(clock_ids or []),
        evidence_event_id=fresh[0].id if fresh else None,
        system_events=identity_events(plan, profile_id, merges or [], fresh),
    )


def own_profile_commit(alias: AliasUrn) -> Commit:
    """A profile for a new alias merge protection kept out; its id handle names the alias as evidence, so
    the new component holds together when it is re-derived."""
    own_id, urn = new_id(), str(alias)
    return Commit(
        when="always", new_profile_id=own_id, profile_id=own_id, attach_urns=[urn], linked_urns=[urn]
    )


# The survivor of a plan made for a returning visitor before their profile is known: the statement that
# carries it out reads the profile (cypher/ingest_round.cypher, 'one_owner').
_OWNER = "(the profile that owns them all)"


def guesses(
    batch: IngestBatch, members: Members, rows: list[EventRow], rules: IdentityRules
) -> dict[str, Commit]:
    """Plans, made by the same rules, for the states most requests find, by the state each is for, so that
    the first round can commit at once.

    A profile-less batch needs only that every event is new. Otherwise: a new visitor (nothing the request
    names belongs to a profile yet) and a returning one (one profile holds every alias named and the
    session, unless the session is new).
    A claimed profile id, a merge or a refusal is left to the full protocol."""
    if batch.profile_less:
        return {"all_created": bare_commit("all_created", members.session)}
    if batch.claimed_profile_id is not None:
        return {}
    found: dict[str, Commit] = {}
    unowned = plan_identity(
        session_profile=None,
        claimed_profile=None,
        alias_profiles={doc.alias: None for doc in members.aliases},
        profiles={},
        rules=rules,
    )
    if not unowned.refusals:
        fresh_id = new_id()
        found["unowned"] = plan_commit(
            "unowned", batch, unowned, members, rows, profile_id=fresh_id, new_profile_id=fresh_id
        )
    if members.session is not None or members.aliases:
        # A session seen before or a new one: the same plan, since the commit binds a session that has no
        # profile yet to the survivor.
        returning = plan_identity(
            session_profile=_OWNER,
            claimed_profile=None,
            alias_profiles={doc.alias: _OWNER for doc in members.aliases},
            profiles={_OWNER: ProfileFacts(_OWNER, 1, {})},
            rules=rules,
        )
        # profile_id None: the statement takes the owner it read and locked.
        found["one_owner"] = plan_commit("one_owner", batch, returning, members, rows, profile_id=None)
    return found


# -- one round --------------------------------------------------------------------------------------------


class RoundParams(msgspec.Struct, kw_only=True):
    """The parameters of cypher/ingest_round.cypher (its header says what each step does with them). Every
    step is empty by default, so a round sets only the steps it runs."""

    source_id: str
    now: str
    limited_types: list[str]
    events: list[EventDoc] = []
    request_id: str = ""
    dialect: str = ""
    lock_ids: list[str] = []
    lock_named: bool = False
    create_members: bool = False
    only_if_all_created: bool = False
    new_session: SessionDoc | None = None
    new_aliases: list[AliasDoc] = []
    session_id: str | None = None
    urns: list[str] = []
    claimed_id: str | None = None
    plans: list[Commit] = []
    # The events the chosen plan binds: the same for every guess, so sent once, not in each plan.
    bind_events: list[EventBinding] = []


def first_round(
    prepared: PreparedBatch,
    request_id: str,
    session_id: str | None,
    members: Members,
    guesses: Mapping[str, Commit],
    now: datetime,
    limited_types: list[str],
) -> RoundParams:
    """The request's first round: store the events, lock what the evidence names, create the new members,
    read the identity state and commit a guess that fits it. A profile-less batch locks, creates, reads and
    links nothing: it only stores its events, and its guess binds them to the session."""
    batch, rows = prepared.batch, prepared.rows
    identity = not batch.profile_less
    linkable = members.alias_set() if identity else set()
    return RoundParams(
        source_id=batch.source_id,
        now=now.isoformat(),
        limited_types=limited_types,
        events=[event_doc(r, batch.session_id, batch.client, received_at=batch.received_at) for r in rows]
        if batch.save_events
        else [],
        request_id=request_id,
        dialect=batch.dialect,
        lock_named=identity,
        create_members=identity,
        only_if_all_created=True,
        new_session=members.session,
        new_aliases=members.aliases,
        session_id=session_id if identity else None,
        urns=members.urns if identity else [],
        claimed_id=batch.claimed_profile_id if identity else None,
        plans=list(guesses.values()),
        bind_events=bindings(batch, rows, set(), linkable) if guesses else [],
    )


def lock_round(
    batch: IngestBatch,
    members: Members,
    lock_ids: list[str],
    create: bool,
    now: datetime,
    limited_types: list[str],
) -> RoundParams:
    """A further lock round: lock `lock_ids`, create the members if no round has yet, read again."""
    return RoundParams(
        source_id=batch.source_id,
        now=now.isoformat(),
        limited_types=limited_types,
        lock_ids=lock_ids,
        create_members=create,
        new_session=members.session,
        new_aliases=members.aliases,
        session_id=_id_of(members.session),
        urns=members.urns,
        claimed_id=batch.claimed_profile_id,
    )


def commit_round(
    source_id: str,
    commit: Commit,
    bind_events: list[EventBinding] | None,
    now: datetime,
    limited_types: list[str],
) -> RoundParams:
    """A round that only carries out `commit`, a plan for the state the lock rounds read."""
    return RoundParams(
        source_id=source_id,
        now=now.isoformat(),
        limited_types=limited_types,
        plans=[commit],
        bind_events=bind_events or [],
    )


class StoredEvent(msgspec.Struct):
    key: str
    id: str  # the stored event's: a repeat's is the one it repeats
    created: bool


class ProfileRow(msgspec.Struct):
    id: str
    size: int
    limited: list[str]  # "type:value" of its aliases of the limited types


class RoundRow(msgspec.Struct):
    """The one row cypher/ingest_round.cypher answers."""

    stored: list[StoredEvent]
    locked: list[str]  # profiles step 2 locked for $lock_named
    created: bool  # step 3 ran
    session_profile: str | None
    aliases: list[tuple[str, str | None]]  # (urn, its profile) for each of $urns that exists
    blocked: list[str]
    claimed_profile: str | None
    profiles: list[ProfileRow]
    shared: list[str]  # those of $urns that are shared: they make no new links
    session_aliases: list[str]  # the aliases the session already links, in its profile
    committed: str | None  # the `when` of the plan carried out; None: none fitted
    committed_profile: str | None


class IdentityState(msgspec.Struct, frozen=True):
    """Where the evidence belongs, as one round read it."""

    session_profile: str | None
    alias_profiles: dict[str, str | None]  # by URN, blocked aliases left out
    claimed_profile: str | None
    blocked: frozenset[str]
    facts: dict[str, ProfileFacts]
    shared: frozenset[str] = frozenset()
    session_aliases: tuple[str, ...] = ()

    @property
    def named(self) -> set[str]:
        """Every profile the read names."""
        pids = (self.session_profile, self.claimed_profile, *self.alias_profiles.values())
        return {p for p in pids if p}


def read_state(row: RoundRow) -> IdentityState:
    blocked = frozenset(row.blocked)
    return IdentityState(
        session_profile=row.session_profile,
        alias_profiles={urn: pid for urn, pid in row.aliases if urn not in blocked},
        claimed_profile=row.claimed_profile,
        blocked=blocked,
        facts=profile_facts(row.profiles),
        shared=frozenset(row.shared),
        session_aliases=tuple(row.session_aliases),
    )


def profile_facts(rows: list[ProfileRow]) -> dict[str, ProfileFacts]:
    facts: dict[str, ProfileFacts] = {}
    for rec in rows:
        limited: dict[str, set[str]] = {}
        for item in rec.limited:
            alias_type, _, value = item.partition(":")
            limited.setdefault(alias_type, set()).add(value)
        facts[rec.id] = ProfileFacts(rec.id, rec.size, {k: frozenset(v) for k, v in limited.items()})
    return facts


def decide(
    state: IdentityState, members: Members, rules: IdentityRules, *, asserted: bool = False
) -> IdentityPlan:
    """The identity plan for the state the lock rounds settled on; `members` without the blocked aliases."""
    by_urn = {doc.urn: doc.alias for doc in members.aliases}
    return plan_identity(
        session_profile=state.session_profile,
        claimed_profile=state.claimed_profile,
        alias_profiles={by_urn[urn]: pid for urn, pid in state.alias_profiles.items()},
        profiles=state.facts,
        rules=rules,
        session_aliases=[parse_urn(urn) for urn in state.session_aliases],
        shared={by_urn[urn] for urn in state.shared if urn in by_urn},
        asserted=asserted,
    )
