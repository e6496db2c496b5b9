"""Group commit (app/services/group_commit.py) with a fake writer: who shares a transaction, who fails."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from app.services.group_commit import GroupCommit
from app.services.ingestion import IngestResult
from graph_model.events import CanonicalEvent, IngestBatch


def request(name: str) -> list[IngestBatch]:
    event = CanonicalEvent(type="view", time=datetime(2025, 1, 1, tzinfo=UTC))
    return [IngestBatch(source_id="s", dialect="t", events=[event], session_id=name)]


class Writer:
    """Records each transaction's sessions; fails any that holds 'bad'; each write takes a moment."""

    def __init__(self) -> None:
        self.transactions: list[list[str | None]] = []

    async def __call__(self, batches: Sequence[IngestBatch]) -> list[IngestResult]:
        sessions = [b.session_id for b in batches]
        self.transactions.append(sessions)
        await asyncio.sleep(0.01)
        if "bad" in sessions:
            raise RuntimeError("bad input")
        return [IngestResult(None, b.session_id, [], 1, 0) for b in batches]


def test_requests_that_wait_share_the_next_transaction_and_each_gets_its_own_answer() -> None:
    writer = Writer()

    async def run() -> list[list[IngestResult]]:
        group = GroupCommit(writer, in_flight=1)
        return await asyncio.gather(*(group.submit(request(f"s{i}")) for i in range(5)))

    results = asyncio.run(run())
    assert [[r.session_id for r in rs] for rs in results] == [["s0"], ["s1"], ["s2"], ["s3"], ["s4"]]
    # The first went alone at once; the four that arrived while it ran went together.
    assert writer.transactions == [["s0"], ["s1", "s2", "s3", "s4"]]


def test_a_failing_request_fails_alone() -> None:
    writer = Writer()

    async def run() -> list[list[IngestResult] | BaseException]:
        group = GroupCommit(writer, in_flight=1)
        names = ["first", "a", "bad", "b"]
        return await asyncio.gather(*(group.submit(request(n)) for n in names), return_exceptions=True)

    first, a, bad, b = asyncio.run(run())
    assert isinstance(bad, RuntimeError)
    assert [r.session_id for r in a] == ["a"] and [r.session_id for r in b] == ["b"]  # type: ignore[union-attr]
    assert writer.transactions[1] == ["a", "bad", "b"]  # together first, then each alone
    assert sorted(map(str, writer.transactions[2:])) == sorted(map(str, [["a"], ["bad"], ["b"]]))
    assert first and not isinstance(first, BaseException)


def test_in_flight_must_be_positive() -> None:
    with pytest.raises(ValueError):
        GroupCommit(Writer(), in_flight=0)
