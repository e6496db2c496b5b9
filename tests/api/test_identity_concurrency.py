"""Concurrent writers on overlapping identities, checked against a union-find oracle.

Each request is a new session carrying two aliases from a small pool, so links collide constantly and
components merge from many sides at once. Afterwards the graph's partition of aliases must be exactly the
oracle's, and the component bookkeeping (one profile per member, sizes, one-hop handles) must hold.
"""

from __future__ import annotations

import random
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from graph_model.components import UnionFind
from tests.helpers import LiveServer, assert_profiles_consistent


def _send(url: str, body: dict[str, Any]) -> None:
    """Send until acknowledged: a 503 (retries exhausted, Neo4j busy) wrote nothing, so it is sent again."""
    with httpx.Client(timeout=60) as http:
        for _ in range(20):
            r = http.post(f"{url}/track", json=body)
            if r.status_code == 200:
                return
            assert r.status_code == 503, r.text
        raise AssertionError("a link was never acknowledged")


def test_concurrent_links_match_union_find_oracle(live_server: LiveServer, graph: Any) -> None:
    rng = random.Random(20261123)
    run = uuid.uuid4().hex[:8]
    with httpx.Client() as http:
        source = http.post(f"{live_server.url}/sources", json={"name": "oracle"}, headers=live_server.admin)
        source_id = source.json()["id"]
    pool = [f"urn:device_id:{run}-{i}" for i in range(2500)]
    oracle: UnionFind[str] = UnionFind()
    bodies = []
    for _ in range(1200):
        a, b = rng.sample(pool, 2)
        # A third of the links touch a hot subset, so one big component keeps merging from many sides
        # while most of the rest stay small.
        if rng.random() < 0.3:
            b = pool[rng.randrange(20)]
            if b == a:
                continue
        oracle.union(a, b)
        bodies.append(
            {
                "source": {"id": source_id},
                "session": {"id": f"{run}-{uuid.uuid4().hex}"},
                "aliases": [a, b],
                "events": [{"type": "link"}],
            }
        )
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool_exec:
        list(pool_exec.map(lambda body: _send(live_server.url, body), bodies))
    elapsed = time.monotonic() - started

    records, _, _ = graph.execute_query(
        """
        MATCH (a:Alias) WHERE a.urn STARTS WITH $prefix
        OPTIONAL MATCH (a)-[:BELONGS_TO]->(p:Profile)
        RETURN a.urn AS urn, collect(p.id) AS profiles
        """,
        prefix=f"urn:device_id:{run}-",
    )
    assert all(len(r["profiles"]) == 1 for r in records), "an alias without exactly one profile"
    actual: dict[str, set[str]] = defaultdict(set)
    for r in records:
        actual[r["profiles"][0]].add(r["urn"])
    expected = {frozenset(g) for g in oracle.groups()}
    assert {frozenset(g) for g in actual.values()} == expected
    print(
        f"\noracle: {len(bodies)} links from 8 writers in {elapsed:.1f}s, {len(expected)} components, "
        f"largest {max(len(g) for g in expected)} aliases"
    )
    assert len(expected) > 100 and max(len(g) for g in expected) > 200  # the stream really merged and split

    checks = assert_profiles_consistent(graph, list(actual))
    assert sum(c["sessions"] for c in checks) == len(bodies), "every session belongs to exactly one profile"
    # Every session of the run, and no profile left without members.
    orphans, _, _ = graph.execute_query(
        """
        MATCH (s:Session) WHERE s.id STARTS WITH $run AND NOT (s)-[:BELONGS_TO]->(:Profile)
        RETURN count(s) AS n
        """,
        run=run,
    )
    assert orphans[0]["n"] == 0
    # Merged-away ids resolve in one hop: no handle points at a profile that is gone.
    handles, _, _ = graph.execute_query(
        "MATCH (h:ProfileId) WHERE NOT (h)-[:BELONGS_TO]->(:Profile) RETURN count(h) AS n"
    )
    assert handles[0]["n"] == 0
