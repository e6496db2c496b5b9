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


class _SlowService:
    """Records which sessions are being written at once; each write takes a moment."""

    def __init__(self) -> None:
        self.active: set[str] = set()
        self.overlaps: list[set[str]] = []
        self.order: list[str] = []

    async def ingest_many(self, batches: Sequence[IngestBatch]) -> list[IngestResult]:
        sessions = {b.session_id or "" for b in batches}
        assert not sessions & self.active, "a chunk ran beside one that shares its session"
        self.active |= sessions
        self.overlaps.append(set(self.active))
        await asyncio.sleep(0.01)
        self.active -= sessions
        self.order.extend(f"{b.session_id}:{ev.external_id}" for b in batches for ev in b.events)
        return [IngestResult("p", b.session_id, [], len(b.events), 0) for b in batches]


def test_chunks_of_different_people_run_in_parallel_and_one_persons_in_file_order() -> None:
    service = _SlowService()
    importer = BulkImporter(service, source_id="src", batch_size=1, parallel=3)  # type: ignore[arg-type]
    sessions = ["a", "b", "a", "c", "a"]
    lines = [
        (n, json.dumps({"session_id": sid, "event_type": "view", "event_id": f"e{n}"}).encode())
        for n, sid in enumerate(sessions, start=1)
    ]
    asyncio.run(importer.run(lines))
    assert max(len(active) for active in service.overlaps) >= 2  # b and c beside an a
    assert [s for s in service.order if s.startswith("a:")] == ["a:e1", "a:e3", "a:e5"]
    assert importer.report.saved == 5


def test_an_event_without_a_client_id_gets_one_from_its_line() -> None:
    text = json.dumps({"session_id": "s", "event_type": "view"}).encode()
    lines = [(7, text), (8, text)]
    seen: list[list[str | None]] = []

    class _Recorder:
        async def ingest_many(self, batches: Sequence[IngestBatch]) -> list[IngestResult]:
            seen.append([ev.external_id for b in batches for ev in b.events])
            return [IngestResult("p", b.session_id, [], 1, 0) for b in batches]

    for _ in range(2):  # the same file twice: the same ids, so the second run is all duplicates
        asyncio.run(BulkImporter(_Recorder(), source_id="src").run(lines))  # type: ignore[arg-type]
    assert seen[0] == seen[1]
    first, second = seen[0]
    assert first and second and first.startswith("import:7:") and first != second


def test_a_chunk_closes_once_its_lines_hold_batch_events_events() -> None:
    service = _FlakyService()
    importer = BulkImporter(service, source_id="src", batch_size=100, batch_events=5)  # type: ignore[arg-type]
    lines = [  # three events a line: the second line takes a chunk to six, past five
        (n, json.dumps({"session": {"id": sid}, "events": [{"type": "view"}] * 3}).encode())
        for n, sid in enumerate(["a", "b", "c", "d", "e"], start=1)
    ]
    asyncio.run(importer.run(lines))
    assert service.calls == [["a", "b"], ["c", "d"], ["e"]]
    assert importer.report.saved == 15
