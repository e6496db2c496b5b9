"""Start-up warm-up: have Neo4j plan the statements of the hot paths before the first request needs them.

On a fresh or restarted Neo4j the first /track waited 3-10 s (more under load) while its dozen statements
were planned; a health check said "ok" meanwhile. The rehearsal writes nothing: the ingestion runs in a
transaction that is rolled back, and the reads look up ids that do not exist.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec

from app.logging import get_logger
from app.services.bulk_import import translate
from app.services.changes import PURGE_BATCH
from app.services.container import Services
from graph_model.changes import stamp
from graph_model.enrichment import device_of
from graph_model.events import CanonicalEvent, IngestBatch
from graph_model.urn import AliasUrn, make_alias

log = get_logger(__name__)


def _rehearsal_batches() -> list[IngestBatch]:
    now = datetime.now(UTC)
    tag = uuid.uuid4().hex
    first, second = (
        make_alias("email", f"a-{tag}@warmup.invalid"),
        make_alias("email", f"b-{tag}@warmup.invalid"),
    )

    def batch(session: str, aliases: list[AliasUrn], kind: str) -> IngestBatch:
        event = CanonicalEvent(
            type=kind, time=now, external_id=f"{session}-e", aliases=aliases, trait_inputs={"warm": True}
        )
        return IngestBatch(
            source_id="idgraph-warmup",
            dialect="warmup",
            session_id=f"{session}-{tag}",
            events=[event],
            received_at=now,
        )

    # Two profiles, then a session that sees both aliases: creation, attach and the merge path all run.
    return [
        batch("w1", [first], "identify"),
        batch("w2", [second], "identify"),
        batch("w3", [first, second], "identify"),
    ]


def _dialect_requests(tag: str) -> list[list[IngestBatch]]:
    """One request of each dialect's write path, translated by the dialect's own code as its endpoint does
    (Tracardi /track and /collect, Unomi/ESP, Converge, Loymax, Segment single messages and a batch of
    several users with a login, an alias call and a refused join), so every statement and parameter shape
    the first real request of any of them needs is planned before /health says ok."""
    now = datetime.now(UTC)

    def ids(kind: str) -> str:
        return f"warmup-{kind}-{tag}"

    email = f"{ids('e')}@warmup.invalid"
    lines: list[tuple[str, dict[str, Any], bool]] = [
        (
            "tracardi",
            {"session": {"id": ids("ts")}, "events": [{"type": "page-view", "id": ids("t1")}]},
            False,
        ),
        (
            "tracardi",
            {"session": {"id": ids("tc")}, "events": [{"type": "page-view", "id": ids("t2")}]},
            True,
        ),
        (
            "esp",
            {
                "sessionId": ids("es"),
                "events": [
                    {
                        "eventType": "identify",
                        "itemId": ids("e1"),
                        "target": {"itemType": "analyticsUser", "properties": {"email": f"esp-{email}"}},
                    }
                ],
            },
            False,
        ),
        (
            # An anonymous view, ESP's usual event: its first one ran 200+ ms longer in Neo4j (nothing
            # planned, a part of the statement never executed) when only the identify above was rehearsed.
            "esp",
            {
                "events": [
                    {
                        "eventType": "view",
                        "sessionId": ids("ev"),
                        "itemId": ids("e2"),
                        "target": {"itemType": "page", "itemId": "warm", "properties": {}},
                    }
                ]
            },
            False,
        ),
        (
            "converge",
            {"event_name": "Warm", "event_id": ids("c1"), "aliases": [f"urn:email:cv-{email}"]},
            False,
        ),
        (
            # In a session, as a site sends it (the one above has none).
            "converge",
            {
                "event_name": "Warm",
                "event_id": ids("c2"),
                "session_id": ids("cs"),
                "aliases": [f"urn:email:cs-{email}"],
            },
            False,
        ),
        (
            "loymax",
            {"session_id": ids("ls"), "event_type": "view", "event_id": ids("l1"), "customer_id": ids("c")},
            False,
        ),
        (
            "segment",
            {
                "type": "identify",
                "userId": ids("u0"),
                "traits": {"email": f"sg-{email}"},
                "messageId": ids("s0"),
            },
            False,
        ),
        (
            "segment",
            {
                "batch": [
                    {
                        "type": "identify",
                        "userId": ids("u1"),
                        "anonymousId": ids("a1"),
                        "traits": {"email": f"sb-{email}"},
                        "messageId": ids("m1"),
                    },
                    {
                        "type": "identify",
                        "userId": ids("u2"),
                        "anonymousId": ids("a2"),
                        "messageId": ids("m2"),
                    },
                    {"type": "track", "userId": ids("u1"), "event": "Warm", "messageId": ids("m3")},
                    {"type": "alias", "previousId": ids("a3"), "userId": ids("u3"), "messageId": ids("m4")},
                    {"type": "page", "anonymousId": ids("a1"), "name": "Warm", "messageId": ids("m5")},
                    {
                        "type": "identify",
                        "anonymousId": ids("a1"),
                        "userId": ids("u2"),
                        "messageId": ids("m6"),
                    },
                ]
            },
            False,
        ),
    ]
    # A Segment batch as libraries send it: messages of several new users, identified (with an email) or
    # tracked, one round each in the many-rounds statement. With only the batch above rehearsed, the first
    # such request still took 2-4 times the steady time (bench/ingest_paths.py `first`).
    users = [
        {
            "type": "identify" if i % 2 == 0 else "track",
            "userId": ids(f"nu{i}"),
            "anonymousId": ids(f"na{i}"),
            "messageId": ids(f"nm{i}"),
            **({"traits": {"email": f"n{i}-{email}"}} if i % 2 == 0 else {"event": "Warm"}),
        }
        for i in range(10)
    ]
    lines.append(("segment", {"batch": users}, False))
    requests = []
    for dialect, obj, profile_less in lines:
        batches = translate(
            obj, dialect, source_id="idgraph-warmup", received_at=now, blocked=frozenset(), max_events=1000
        )
        requests.append([msgspec.structs.replace(b, profile_less=profile_less) for b in batches])
    return requests


# Browsers and HTTP clients: the user-agent rules load on the first parse (0.2-0.5 s, in the first request's
# time when no warm-up did it; bench/ingest_paths.py `first`).
_USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0"
    " Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    " Mobile/15E148",
    "python-httpx/0.28.1",
)


def _load_user_agent_rules() -> None:
    for user_agent in _USER_AGENTS:
        device_of(user_agent)


async def _rehearse_background(services: Services) -> None:
    """The statements the webhook delivery worker runs as soon as /health says ok (its poll and the feed's
    retention purge), planned here in a rolled-back transaction with a cut-off that matches nothing; else
    Neo4j plans them at the moment the first request arrives, on the same CPUs."""
    store = services.store
    await store.read("webhook_list")
    epoch = datetime.fromtimestamp(0, UTC)
    async with store.rolled_back() as tx:
        await store.rows(tx, "changes_purge", before=stamp(epoch), limit=PURGE_BATCH)
        await store.rows(tx, "webhook_deliveries_purge", cutoff=epoch.isoformat(), limit=PURGE_BATCH)


async def _rehearse_sources(services: Services, times: int = 3) -> None:
    """A source created and then found, rolled back: the first request of a source reads it (found, which
    the lookup of a missing id below never exercises; 40-130 ms more on a fresh Neo4j without this)."""
    store = services.store
    for _ in range(times):
        source_id = f"idgraph-warmup-{uuid.uuid4().hex}"
        async with store.rolled_back() as tx:
            now = datetime.now(UTC)
            await store.rows(tx, "source_create", id=source_id, name="warm-up", now=now, request_id=source_id)
            await store.rows(tx, "source_get", id=source_id)


async def warm_up(services: Services) -> list[str]:
    """Rehearse the write paths and the reads; the requests rehearsed (dialect x batches), [] on failure."""
    started = time.monotonic()
    try:
        await services.ingestion.rehearse(_rehearsal_batches())
        # At once: Neo4j plans them side by side, so start-up waits for the slowest, not for the sum.
        requests = _dialect_requests(uuid.uuid4().hex)
        await asyncio.gather(
            *(services.ingestion.rehearse_many(request) for request in requests),
            _rehearse_background(services),
            _rehearse_sources(services),
            asyncio.to_thread(_load_user_agent_rules),
        )
        rehearsed = [f"{request[0].dialect}x{len(request)}" for request in requests]
        missing = f"warmup-{uuid.uuid4()}"
        # Independent lookups, planned side by side.
        await asyncio.gather(
            services.sources.get(missing),
            services.read.alias(f"urn:email:{missing}@warmup.invalid"),
            services.read.profile(missing),
            services.read.session(missing),
            services.read.event(missing),
        )
    except Exception as exc:  # a warm-up must never keep the API from starting
        log.warning("warm-up failed; the first requests will be slower", error_type=type(exc).__name__)
        return []
    log.info("warm-up done", seconds=round(time.monotonic() - started, 2), rehearsed=rehearsed)
    return rehearsed
