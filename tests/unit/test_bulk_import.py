"""`idgraph import` without a database: which dialect a line is, and how a failing batch is retried."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

from app.services.bulk_import import BulkImporter, detect_dialect
from app.services.ingestion import IngestResult
from graph_model.events import IngestBatch


def test_dialects_are_detected_by_shape() -> None:
    assert detect_dialect({"eventType": "view", "sessionId": "s"}) == "esp"
    assert detect_dialect({"events": [{"eventType": "view"}]}) == "esp"
    assert detect_dialect({"type": "track", "userId": "u", "event": "x"}) == "segment"
    assert detect_dialect({"batch": []}) == "segment"
    assert detect_dialect({"method": "set", "aliases": ["urn:email:a@b.c"]}) == "converge"
    assert detect_dialect({"event_name": "Order", "event_id": "1"}) == "converge"
    assert detect_dialect({"event_type": "view", "session_id": "s"}) == "loymax"
    assert detect_dialect({"session": {"id": "s"}, "events": [{"type": "view"}]}) == "tracardi"
    assert detect_dialect({"type": "identify"}) is None  # no Segment id: nothing says what it is
    assert detect_dialect({"foo": 1}) is None


class _FlakyService:
    """Fails any write that includes a batch of the session named 'poison'; records what it wrote."""

    def __init__(self) -> None:
        self.calls: list[list[str | None]] = []

    async def ingest_many(self, batches: Sequence[IngestBatch]) -> list[IngestResult]:
        sessions = [b.session_id for b in batches]
        self.calls.append(sessions)
        if "poison" in sessions:
            raise RuntimeError("constraint violated")
        return [IngestResult("p", b.session_id, [], len(b.events), 0) for b in batches]


def test_a_failing_batch_is_retried_line_by_line() -> None:
    service = _FlakyService()
    rejected: list[tuple[int, str]] = []
    importer = BulkImporter(
        service,  # type: ignore[arg-type]
        source_id="src",
        batch_size=3,
        on_reject=lambda n, reason, _: rejected.append((n, reason)),
    )
    lines = [
        (n, json.dumps({"session_id": sid, "event_type": "view"}).encode())
        for n, sid in enumerate(["a", "poison", "b", "c"], start=1)
    ]
    asyncio.run(importer.run(lines))
    assert service.calls == [["a", "poison", "b"], ["a"], ["poison"], ["b"], ["c"]]
    assert rejected == [(2, "write failed: RuntimeError: constraint violated")]
    assert (importer.report.saved, importer.report.rejected) == (3, 1)
