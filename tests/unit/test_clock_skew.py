"""Clock skew (API.md, Conventions): Segment's `sentAt` correction, and far-future times replaced by the
receive time with the sent value kept as `original_time`, before anything reads the event's time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from app.dialects.segment import Message, to_batches
from app.services import ingest_plan as ip
from graph_model.events import (
    DEFAULT_MAX_FUTURE_SKEW,
    CanonicalEvent,
    IngestBatch,
    sent_at_corrected,
    within_future_skew,
)
from graph_model.urn import AliasUrn

RECEIVED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FAR_FUTURE = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


def segment(*messages: dict[str, Any], sent_at: str | None = None, live: bool = True) -> list[CanonicalEvent]:
    batches = to_batches(
        [Message(**m) for m in messages],
        source_id="src",
        batch_context={},
        received_at=RECEIVED,
        blocked=(),
        max_events=100,
        paths=[f"$.batch[{i}]" for i in range(len(messages))],
        sent_at=sent_at,
        correct_clock_skew=live,
    )
    return [b.events[0] for b in batches]


def test_segment_time_is_corrected_by_the_batch_sent_at() -> None:
    # The device clock is 3 hours fast: the message was stamped 10 s before the batch was sent.
    (ev,) = segment(
        {"type": "track", "event": "Clicked", "anonymous_id": "a", "timestamp": "2026-03-01T15:00:00Z"},
        sent_at="2026-03-01T15:00:10Z",
    )
    assert ev.time == RECEIVED - timedelta(seconds=10)
    assert ev.context["segment"]["originalTimestamp"] == "2026-03-01T15:00:00Z"
    assert ev.original_time is None  # corrected, not replaced


def test_segment_message_sent_at_wins_over_the_batch_and_an_unreadable_one_corrects_nothing() -> None:
    message = {"type": "track", "event": "Clicked", "anonymous_id": "a", "timestamp": "2026-03-01T15:00:00Z"}
    (own,) = segment({**message, "sent_at": "2026-03-01T15:01:00Z"}, sent_at="2026-03-01T15:00:10Z")
    assert own.time == RECEIVED - timedelta(minutes=1)
    (bad,) = segment(message, sent_at="yesterday")
    assert bad.time == datetime(2026, 3, 1, 15, 0, tzinfo=UTC)
    (none,) = segment({**message, "timestamp": None}, sent_at="2026-03-01T15:00:10Z")
    assert none.time == RECEIVED


def test_segment_import_takes_timestamps_as_sent() -> None:
    # `idgraph import` replays old messages: their sentAt is not now, so no correction.
    (ev,) = segment(
        {"type": "track", "event": "Clicked", "anonymous_id": "a", "timestamp": "2024-01-01T00:00:00Z"},
        sent_at="2024-01-01T00:00:01Z",
        live=False,
    )
    assert ev.time == datetime(2024, 1, 1, tzinfo=UTC)


def test_sent_at_correction_is_received_minus_age() -> None:
    stamped = datetime(2000, 1, 1, tzinfo=UTC)  # a device clock 26 years slow
    assert sent_at_corrected(stamped, stamped + timedelta(seconds=5), RECEIVED) == RECEIVED - timedelta(
        seconds=5
    )
    assert sent_at_corrected(stamped, None, RECEIVED) == stamped


def test_far_future_time_is_replaced_by_the_receive_time_and_kept_as_original_time() -> None:
    ev = CanonicalEvent(type="page", time=FAR_FUTURE)
    bounded = within_future_skew(ev, RECEIVED, DEFAULT_MAX_FUTURE_SKEW)
    assert (bounded.time, bounded.original_time) == (RECEIVED, FAR_FUTURE)
    assert ev.time == FAR_FUTURE  # the input is not changed


def test_time_within_the_future_skew_is_kept() -> None:
    for ahead in (timedelta(0), timedelta(hours=23), DEFAULT_MAX_FUTURE_SKEW):
        ev = CanonicalEvent(type="page", time=RECEIVED + ahead)
        assert within_future_skew(ev, RECEIVED, DEFAULT_MAX_FUTURE_SKEW) is ev
    late = CanonicalEvent(type="page", time=RECEIVED + timedelta(hours=25))
    assert within_future_skew(late, RECEIVED, DEFAULT_MAX_FUTURE_SKEW).time == RECEIVED
    assert within_future_skew(late, RECEIVED, timedelta(hours=48)) is late


def test_far_future_time_is_replaced_before_aliases_and_the_event_row_read_it() -> None:
    email = AliasUrn("email", "a@x.test")
    batch = IngestBatch(
        source_id="src",
        dialect="tracardi",
        session_id="s1",
        received_at=RECEIVED,
        events=[
            CanonicalEvent(type="identify", time=FAR_FUTURE, aliases=[email], trait_inputs={"plan": "x"})
        ],
    )
    prepared = ip.prepare(batch)
    (row,) = prepared.rows
    assert row.event.time == RECEIVED and row.event.original_time == FAR_FUTURE
    members = ip.members(prepared.batch, "s1", prepared.rows, RECEIVED)
    assert members.aliases[0].last_seen == RECEIVED.isoformat()
    assert members.session is not None and members.session.last_seen == RECEIVED.isoformat()
    doc = ip.event_doc(row, "s1", received_at=batch.received_at)
    assert (doc.time, doc.original_time, doc.received_at) == (
        RECEIVED.isoformat(),
        FAR_FUTURE.isoformat(),
        RECEIVED.isoformat(),
    )
    sane = ip.prepare(msgspec.structs.replace(batch, events=[CanonicalEvent(type="page", time=RECEIVED)]))
    assert ip.event_doc(sane.rows[0], "s1").original_time is None
