"""The repository: the one gateway through which every Cypher statement runs.

A statement is named by its file in `cypher/` and its values travel as parameters; every run is timed under
that name for /metrics. Nothing here decides anything: it moves parameters in and rows out. Services compose
calls inside managed transactions (`write_unit`, `read_unit`), which the driver retries whole on transient
errors and deadlocks, so a request is written whole or not at all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

from neo4j import AsyncDriver, AsyncManagedTransaction, AsyncSession, AsyncTransaction
from neo4j.exceptions import ClientError

from app.metrics import neo4j_timer
from app.store import bookmarks
from app.store.catalog import QueryCatalog

_R = TypeVar("_R")
_P = ParamSpec("_P")
Tx = AsyncManagedTransaction | AsyncTransaction


_SCHEMA_ALREADY_THERE = frozenset(
    {
        "Neo.ClientError.Schema.EquivalentSchemaRuleAlreadyExists",
        "Neo.ClientError.Schema.IndexAlreadyExists",
        "Neo.ClientError.Schema.ConstraintAlreadyExists",
    }
)


@contextmanager
def _bookmark_errors() -> Iterator[None]:
    """A bookmark Neo4j cannot read came from a client (the process's own are Neo4j's): a 400, not a 500."""
    try:
        yield
    except ClientError as exc:
        if bookmarks.is_invalid_bookmark(exc):
            raise bookmarks.invalid_bookmark() from None
        raise


class GraphRepository:
    def __init__(self, driver: AsyncDriver, catalog: QueryCatalog, database: str) -> None:
        self._driver = driver
        self._q = catalog
        self._db = database
        # One bookmark manager for everything this process runs (app/store/bookmarks.py): the driver's own
        # for execute_query, shared with the sessions, so a read here always sees this process's writes.
        self._bookmarks = driver.execute_query_bookmark_manager

    def _bookmark_manager(self, *, write: bool) -> Any:
        """The process's bookmark manager, plus the current request's bookmarks when a request is open."""
        request = bookmarks.current_request()
        if request is None or not (write or request.after):
            # A read of a request that sent no bookmarks: the scoped manager would add nothing to the
            # process's and record nothing, so the process's serves it without a wrapper per statement.
            return self._bookmarks
        return bookmarks.ScopedBookmarks(self._bookmarks, request, write=write)

    @property
    def catalog(self) -> QueryCatalog:
        return self._q

    # -- statements inside a transaction the caller owns ---------------------------------------------------

    async def rows(self, tx: Tx, name: str, /, **params: Any) -> list[dict[str, Any]]:
        """Run `cypher/<name>.cypher` in the caller's transaction; its rows as dicts."""
        with neo4j_timer(name):
            result = await tx.run(self._q[name], params)
            return await result.data()

    async def plain_rows(self, tx: Tx, name: str, /, **params: Any) -> list[dict[str, Any]]:
        """`rows` for a statement that returns no nodes, relationships or paths: each record as it came.
        `result.data()` walks every value of every row looking for those (5% of the API's CPU at /track
        batch 100, on the rounds' rows of a hundred stored events)."""
        with neo4j_timer(name):
            result = await tx.run(self._q[name], params)
            return [dict(record) async for record in result]

    async def single(self, tx: Tx, name: str, /, **params: Any) -> dict[str, Any] | None:
        """The one row `cypher/<name>.cypher` answers in the caller's transaction; None for no row."""
        with neo4j_timer(name):
            result = await tx.run(self._q[name], params)
            record = await result.single()
            return dict(record) if record is not None else None

    async def ingest_round(self, tx: Tx, **params: Any) -> dict[str, Any]:
        """One round of ingestion (`cypher/ingest_round.cypher`, which names its parameters): deduplicate,
        lock, create the new members, read the identity state, and commit the first of the given plans the
        state allows."""
        row = await self.single(tx, "ingest_round", **params)
        assert row is not None  # the statement always answers one row
        return row

    async def ingest_rounds(
        self, tx: Tx, *, rounds: list[dict[str, Any]], limited_types: list[str]
    ) -> list[dict[str, Any]]:
        """First rounds of several batches in one statement: `ingest_round` once per entry of `rounds` (its
        parameters each, plus `round_index`), in order (app/store/many_rounds.py); a row per round."""
        return await self.plain_rows(tx, "ingest_rounds", rounds=rounds, limited_types=limited_types)

    async def lock_profiles(self, tx: Tx, *, profile_ids: list[str]) -> None:
        await self.rows(tx, "ingest_lock_profiles", profile_ids=sorted(profile_ids))

    async def merge_components(self, tx: Tx, *, survivor_id: str, merged_ids: list[str]) -> None:
        # The traits fold first, while the merged profiles still hold their summaries (O(1), no event read),
        # then the merge: one statement, derived from the two files (app/store/merge_statements.py).
        await self.rows(tx, "merge_components_folded", survivor_id=survivor_id, merged_ids=merged_ids)

    async def ingest_round_merging(
        self, tx: Tx, *, survivor_id: str, merged_ids: list[str], **params: Any
    ) -> dict[str, Any]:
        """`merge_components`, then `ingest_round` with `params`, in one statement (one round trip): the
        round sees the merge's writes as a next statement would (app/store/merge_statements.py)."""
        row = await self.single(
            tx, "ingest_round_merging", survivor_id=survivor_id, merged_ids=merged_ids, **params
        )
        assert row is not None  # the statement always answers one row
        return row

    async def record_system_events(
        self, tx: Tx, *, events: list[dict[str, Any]], source_id: str, now: datetime
    ) -> None:
        await self.rows(tx, "record_system_events", events=events, source_id=source_id, now=now)
        # Their change-feed entries, in the same transaction (cypher/changes_from_system_events.cypher).
        await self.rows(tx, "changes_from_system_events", events=events)

    # -- one statement, one auto-managed transaction -------------------------------------------------------

    async def read(self, name: str, /, **params: Any) -> list[dict[str, Any]]:
        """Run a read-only statement on a reader (a follower on a cluster); its rows as dicts."""
        with neo4j_timer(name), _bookmark_errors():
            records, _, _ = await self._driver.execute_query(
                self._q[name],
                params,
                database_=self._db,
                routing_="r",
                bookmark_manager_=self._bookmark_manager(write=False),
            )
        return [r.data() for r in records]

    async def write(self, name: str, /, **params: Any) -> list[dict[str, Any]]:
        """Run a statement on the writer in a retried transaction of its own; its rows as dicts."""
        with neo4j_timer(name), _bookmark_errors():
            records, _, _ = await self._driver.execute_query(
                self._q[name],
                params,
                database_=self._db,
                bookmark_manager_=self._bookmark_manager(write=True),
            )
        return [r.data() for r in records]

    # -- units of work: a managed transaction function, retried whole -------------------------------------

    @asynccontextmanager
    async def session(self, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        """A session for several units of work in a row (each sees the ones before it), causally after this
        process's writes and the current request's bookmarks; what it commits counts as the request's."""
        with _bookmark_errors():
            async with self._driver.session(
                database=self._db, bookmark_manager=self._bookmark_manager(write=write)
            ) as session:
                yield session

    async def write_unit(
        self,
        work: Callable[Concatenate[AsyncManagedTransaction, _P], Awaitable[_R]],
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> _R:
        async with self.session() as session:
            return await session.execute_write(work, *args, **kwargs)

    async def read_unit(
        self,
        work: Callable[Concatenate[AsyncManagedTransaction, _P], Awaitable[_R]],
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> _R:
        async with self.session(write=False) as session:
            return await session.execute_read(work, *args, **kwargs)

    async def write_unit_pipelined(self, work: Callable[[AsyncManagedTransaction], Awaitable[_R]]) -> _R:
        """`write_unit(work)` with BEGIN sent together with the first statement instead of in a round trip
        of its own.

        `execute_query` does this; `execute_write` waits for BEGIN's answer first, which was one of the four
        round trips a one-event /track request made (bench/ingest.py). The switch is the session's private
        `_pipelined_begin` flag, the one `execute_query` sets (neo4j 6.4, pinned); without it, plain
        execute_write. tests/unit/test_store.py notices when a driver upgrade drops it."""
        async with self.session() as session:
            pipelined = getattr(session, "_pipelined_begin", None)
            if pipelined is None:
                return await session.execute_write(work)
            with pipelined:
                return await session.execute_write(work)

    @asynccontextmanager
    async def rolled_back(self) -> AsyncIterator[AsyncTransaction]:
        """An explicit transaction that is always rolled back: the warm-up rehearses writes in it."""
        async with self.session() as session:
            tx = await session.begin_transaction()
            try:
                yield tx
            finally:
                await tx.rollback()

    # -- schema and health ---------------------------------------------------------------------------------

    async def bootstrap_schema(self) -> int:
        """Create every constraint and index (idempotent: each says IF NOT EXISTS), then wait for them
        online. `schema_await_indexes` sorts last among the `schema_*` files, so it runs after the others."""
        names = self._q.schema_names()
        for name in names:
            try:
                await self.write(name)
            except ClientError as exc:
                # IF NOT EXISTS checks and creates in two steps: another process starting at the same time
                # (a replica, a worker) may create the same rule in between. Then it exists, as wanted.
                if exc.code not in _SCHEMA_ALREADY_THERE:
                    raise
        return len(names)

    async def ping(self) -> bool:
        rows = await self.read("health_ping")
        return bool(rows and rows[0]["ok"] == 1)
