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

from tests.helpers import LiveServer


class UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def groups(self) -> set[frozenset[str]]:
        out: dict[str, set[str]] = defaultdict(set)
        for x in self.parent:
            out[self.find(x)].add(x)
        return {frozenset(g) for g in out.values()}


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
    oracle = UnionFind()
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
    expected = {g for g in oracle.groups()}
    assert {frozenset(g) for g in actual.values()} == expected
    print(
        f"\noracle: {len(bodies)} links from 8 writers in {elapsed:.1f}s, {len(expected)} components, "
        f"largest {max(len(g) for g in expected)} aliases"
    )
    assert len(expected) > 100 and max(len(g) for g in expected) > 200  # the stream really merged and split

    profile_ids = list(actual)
    checks, _, _ = graph.execute_query(
        """
        UNWIND $ids AS pid
        MATCH (p:Profile {id: pid})
        CALL (p) {
          MATCH (m)-[:BELONGS_TO]->(p)
          RETURN count(m) AS members, count(CASE WHEN m.profile_id = p.id THEN 1 END) AS tagged
        }
        CALL (p) {
          MATCH (s:Session)-[:BELONGS_TO]->(p)
          RETURN count(s) AS sessions
        }
        OPTIONAL MATCH (h:ProfileId {id: p.id})-[:BELONGS_TO]->(own:Profile)
        RETURN p.id AS id, p.size AS size, members, tagged, sessions, own.id AS own
        """,
        ids=profile_ids,
    )
    assert len(checks) == len(profile_ids)
    for c in checks:
        assert c["size"] == c["members"] == c["tagged"], c
        assert c["own"] == c["id"], "a profile's own id must resolve to itself"
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
