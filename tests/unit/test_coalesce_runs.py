"""A user's consecutive messages naming the same identities become one batch (graph_model.round_groups)."""

from __future__ import annotations

from datetime import UTC, datetime

from graph_model.events import CanonicalEvent, IngestBatch
from graph_model.round_groups import coalesce_runs
from graph_model.urn import parse_urn

NOW = datetime(2026, 5, 1, tzinfo=UTC)


def message(n: int, *aliases: str, asserted: bool = False, session: str | None = None) -> IngestBatch:
    urns = [parse_urn(a) for a in aliases]
    event = CanonicalEvent(type="viewed", time=NOW, external_id=f"m{n}", aliases=urns)
    return IngestBatch(
        source_id="s",
        dialect="segment",
        events=[event],
        received_at=NOW,
        asserted=asserted,
        session_id=session,
    )


def ids(batches: list[IngestBatch]) -> list[list[str | None]]:
    return [[e.external_id for e in b.events] for b in batches]


U, A, E = "urn:user_id:u", "urn:anonymous_id:a", "urn:email:u@example.com"


def test_consecutive_messages_with_the_same_identities_are_one_batch_in_order() -> None:
    batches = [message(0, U, A), message(1, U, A), message(2, U, A, E), message(3, U, A), message(4, U, A)]
    assert ids(coalesce_runs(batches, max_events=100)) == [["m0", "m1"], ["m2"], ["m3", "m4"]]


def test_a_run_is_cut_at_max_events() -> None:
    batches = [message(n, U) for n in range(5)]
    assert ids(coalesce_runs(batches, max_events=2)) == [["m0", "m1"], ["m2", "m3"], ["m4"]]


def test_other_users_alias_calls_and_sessions_are_left_alone() -> None:
    batches = [
        message(0, U),
        message(1, "urn:user_id:other"),
        message(2, "urn:user_id:other", asserted=True),
        message(3, "urn:user_id:other", asserted=True),
        message(4, U, session="s1"),
        message(5, U, session="s1"),
    ]
    assert ids(coalesce_runs(batches, max_events=100)) == [["m0"], ["m1"], ["m2"], ["m3"], ["m4"], ["m5"]]
