"""Start-up warm-up: have Neo4j plan the statements of the hot paths before the first request needs them.

On a fresh or restarted Neo4j the first /track waited 3-10 s (more under load) while its dozen statements
were planned; a health check said "ok" meanwhile. The rehearsal writes nothing: the ingestion runs in a
transaction that is rolled back, and the reads look up ids that do not exist.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

from app.logging import get_logger
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


async def warm_up(services: Services) -> None:
    started = time.monotonic()
    try:
        await services.ingestion.rehearse(_rehearsal_batches())
        missing = f"warmup-{uuid.uuid4()}"
        await services.sources.get(missing)
        await services.read.alias(f"urn:email:{missing}@warmup.invalid")
        await services.read.profile(missing)
        await services.read.session(missing)
        await services.read.event(missing)
    except Exception as exc:  # a warm-up must never keep the API from starting
        log.warning("warm-up failed; the first requests will be slower", error_type=type(exc).__name__)
        return
    log.info("warm-up done", seconds=round(time.monotonic() - started, 2))
