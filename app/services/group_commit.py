"""Group commit: requests that arrive while the API's write transactions are busy share the next one.

At batch 1 a request's own work is small, and what it costs beyond that is per transaction: BEGIN and COMMIT
round trips, Neo4j's commit, a statement's planning lookup. `GroupCommit.submit` writes a request at once
when fewer than `in_flight` transactions are running; otherwise the request waits for one to finish, and
every request that waited meanwhile goes into the next transaction together (`IngestionService.ingest_many`:
first rounds of disjoint identities in one statement, the outcome that of writing them one by one). Each
caller is answered only after the transaction that holds its request committed. A group that fails is
written again one request per transaction, so a request that fails fails alone and takes no other down.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from app.services.ingestion import IngestResult
from graph_model.events import IngestBatch

Write = Callable[[Sequence[IngestBatch]], Awaitable[list[IngestResult]]]
Request = tuple[list[IngestBatch], "asyncio.Future[list[IngestResult]]"]


class GroupCommit:
    def __init__(self, write: Write, *, in_flight: int = 2, max_batches: int = 200) -> None:
        if in_flight < 1:
            raise ValueError("in_flight must be positive")
        self._write = write
        self._free = in_flight
        self._max_batches = max_batches
        self._waiting: list[Request] = []

    async def submit(self, batches: Sequence[IngestBatch]) -> list[IngestResult]:
        """Write `batches` (one request), alone or with others; the results once its transaction committed."""
        future: asyncio.Future[list[IngestResult]] = asyncio.get_running_loop().create_future()
        self._waiting.append((list(batches), future))
        self._dispatch()
        return await future

    def _dispatch(self) -> None:
        while self._free > 0 and self._waiting:
            group: list[Request] = []
            size = 0
            while self._waiting and (not group or size + len(self._waiting[0][0]) <= self._max_batches):
                request = self._waiting.pop(0)
                group.append(request)
                size += len(request[0])
            self._free -= 1
            asyncio.get_running_loop().create_task(self._commit(group))

    async def _commit(
        self, group: list[tuple[list[IngestBatch], asyncio.Future[list[IngestResult]]]]
    ) -> None:
        try:
            live = [(batches, future) for batches, future in group if not future.done()]  # done: cancelled
            if len(live) == 1:
                await self._alone(*live[0])
            elif live:
                try:
                    results = await self._write([b for batches, _ in live for b in batches])
                except Exception:
                    # One of them may be to blame: each on its own, so only that one fails.
                    await asyncio.gather(*(self._alone(batches, future) for batches, future in live))
                else:
                    at = 0
                    for batches, future in live:
                        _settle(future, results[at : at + len(batches)])
                        at += len(batches)
        finally:
            self._free += 1
            self._dispatch()

    async def _alone(self, batches: list[IngestBatch], future: asyncio.Future[list[IngestResult]]) -> None:
        try:
            results = await self._write(batches)
        except Exception as exc:
            if not future.done():
                future.set_exception(exc)
        else:
            _settle(future, results)


def _settle(future: asyncio.Future[list[IngestResult]], results: list[IngestResult]) -> None:
    if not future.done():  # the caller may have gone away (a closed connection cancels its handler)
        future.set_result(results)
