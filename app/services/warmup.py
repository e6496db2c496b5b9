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
from app.services.container import Services
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
            "converge",
            {"event_name": "Warm", "event_id": ids("c1"), "aliases": [f"urn:email:cv-{email}"]},
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
    requests = []
    for dialect, obj, profile_less in lines:
        batches = translate(
            obj, dialect, source_id="idgraph-warmup", received_at=now, blocked=frozenset(), max_events=1000
        )
        requests.append([msgspec.structs.replace(b, profile_less=profile_less) for b in batches])
    return requests


async def warm_up(services: Services) -> list[str]:
    """Rehearse the write paths and the reads; the requests rehearsed (dialect x batches), [] on failure."""
    started = time.monotonic()
    try:
        await services.ingestion.rehearse(_rehearsal_batches())
        # At once: Neo4j plans them side by side, so start-up waits for the slowest, not for the sum.
        requests = _dialect_requests(uuid.uuid4().hex)
        await asyncio.gather(*(services.ingestion.rehearse_many(request) for request in requests))
        rehearsed = [f"{request[0].dialect}x{len(request)}" for request in requests]
        missing = f"warmup-{uuid.uuid4()}"
        await services.sources.get(missing)
        await services.read.alias(f"urn:email:{missing}@warmup.invalid")
        await services.read.profile(missing)
        await services.read.session(missing)
        await services.read.event(missing)
    except Exception as exc:  # a warm-up must never keep the API from starting
        log.warning("warm-up failed; the first requests will be slower", error_type=type(exc).__name__)
        return []
    log.info("warm-up done", seconds=round(time.monotonic() - started, 2), rehearsed=rehearsed)
    return rehearsed
