"""A linking request that merges two components is two statements: its first round, and the round that
commits its plan with the merge (traits fold and union by size) in the same statement
(app/store/merge_statements.py); it was four (the fold and the merge each a statement of their own). What
the merge writes is tests/api/test_bare_merge_baseline.py's concern: the delta equals the hand-written one."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import neo4j

from app.services.ingestion import IngestionService
from app.store.catalog import QueryCatalog, catalog
from app.store.repository import GraphRepository, Tx
from bench.identity import generate, link_batch
from tests.helpers import Neo4jServer, async_driver


class CountingRepository(GraphRepository):
    """The statements run, by name, in order."""

    ran: list[str]

    async def rows(self, tx: Tx, name: str, /, **params: Any) -> list[dict[str, Any]]:
        self.ran.append(name)
        return await super().rows(tx, name, **params)

    async def plain_rows(self, tx: Tx, name: str, /, **params: Any) -> list[dict[str, Any]]:
        self.ran.append(name)
        return await super().plain_rows(tx, name, **params)

    async def single(self, tx: Tx, name: str, /, **params: Any) -> dict[str, Any] | None:
        self.ran.append(name)
        return await super().single(tx, name, **params)


async def _link(server: Neo4jServer) -> tuple[list[str], str, str, str]:
    driver = async_driver(server)
    try:
        seeds = GraphRepository(driver, QueryCatalog("bench.identity_cypher"), "neo4j")
        tag = uuid.uuid4().hex[:8]
        pa, a = await generate(seeds, 10, f"rt{tag}a", 1)
        pb, b = await generate(seeds, 30, f"rt{tag}b", 1)
        repo = CountingRepository(driver, catalog(), "neo4j")
        repo.ran = []
        result = await IngestionService(repo).ingest(link_batch(a, b))
        assert [(m.survivor_id, m.merged_id) for m in result.merges] == [(pb, pa)], result
        return repo.ran, pa, pb, a
    finally:
        await driver.close()


def test_a_linking_merge_is_two_statements(neo4j_server: Neo4jServer, graph: neo4j.Driver) -> None:
    ran, merged, survivor, alias = asyncio.run(_link(neo4j_server))
    assert ran == ["ingest_round", "ingest_round_merging"], ran
    records, _, _ = graph.execute_query(
        """
        OPTIONAL MATCH (gone:Profile {id: $merged})
        MATCH (:Alias {urn: $alias})-[:BELONGS_TO]->(p:Profile)
        MATCH (:ProfileId {id: $merged})-[:BELONGS_TO]->(p)
        RETURN gone IS NULL AS gone, p.id AS owner, p.size AS size, p.tf_events AS events,
               p.tf_sessions AS sessions, p.clock AS clock
        """,
        merged=merged,
        alias=alias,
    )
    row = records[0]
    # The merged profile is gone, its alias and id handle are the survivor's, and the survivor counts the
    # members of both (1 + 1 session + 10 aliases, 1 + 1 + 30), the link session, and both sides' events
    # (seeded without a summary: the link event only) in its fold.
    assert (row["gone"], row["owner"], row["size"]) == (True, survivor, 12 + 32 + 1), dict(row)
    assert (row["events"], row["sessions"], row["clock"]) == (1, 1, 1), dict(row)
