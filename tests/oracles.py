"""The identity oracles the concurrency tests share: the request streams, the way they are sent, and the
checks of the final graph against a reference.

- the union-find stream (tests/api/test_identity_concurrency.py): weak links only, so the rules are
  union-find and the final partition must be exactly the oracle's;
- the rules stream (tests/api/test_identity_rules_concurrency.py): strong and weak aliases and reused
  sessions, checked by the invariants of the v2 rules and against the rules replayed in the order the graph
  recorded.

tests/system/test_scale_out.py sends the same streams to two API processes at once. `urls` is where the
requests go, round robin: one server, or several sharing one Neo4j.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from graph_model.components import UnionFind
from graph_model.identity_rules import DEFAULTS
from graph_model.replay import Unit, replay
from graph_model.urn import parse_urn
from tests.helpers import assert_profiles_consistent

RULES_LINKS = 1100


def send_until_acked(url: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST /track until acknowledged: a 503 (retries exhausted, Neo4j busy) wrote nothing, so it is sent
    again. Its answer."""
    with httpx.Client(timeout=60) as http:
        for _ in range(20):
            r = http.post(f"{url}/track", json=body)
            if r.status_code == 200:
                answer: dict[str, Any] = r.json()
                return answer
            assert r.status_code == 503, r.text
        raise AssertionError("a link was never acknowledged")


def send_all(urls: Sequence[str], bodies: list[dict[str, Any]], writers: int = 8) -> list[dict[str, Any]]:
    """Every body from `writers` concurrent clients, body i to urls[i % len(urls)]; the answers in order."""
    with ThreadPoolExecutor(max_workers=writers) as pool:
        return list(pool.map(lambda i: send_until_acked(urls[i % len(urls)], bodies[i]), range(len(bodies))))


def union_find_stream(run: str, source_id: str) -> tuple[list[dict[str, Any]], UnionFind[str]]:
    """1,200 new sessions, each linking two device ids from a pool of 2,500 (a third of them touching a hot
    subset of 20), and the union-find oracle of their links."""
    rng = random.Random(20261123)
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
    return bodies, oracle


def check_union_find(
    graph: Any, run: str, bodies: list[dict[str, Any]], oracle: UnionFind[str]
) -> set[frozenset[str]]:
    """The graph's partition of the run's aliases is the oracle's, with its bookkeeping whole: no duplicate
    profile, no lost link, no orphan session or handle. The oracle's components."""
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
    return expected


def rules_stream(run: str, source_id: str) -> list[dict[str, Any]]:
    """1,100 requests mixing emails, user ids and devices (a few of them kiosks), a quarter of them in a
    returning session."""
    rng = random.Random(20261130)
    emails = [f"urn:email:{run}-{i}@x.io" for i in range(300)]
    users = [f"urn:user_id:{run}-u{i}" for i in range(100)]
    devices = [f"urn:device_id:{run}-d{i}" for i in range(400)]
    # A few hot devices (kiosks) that many people use.
    kiosks = devices[:8]
    bodies: list[dict[str, Any]] = []
    sessions: list[str] = []
    for _ in range(RULES_LINKS):
        kind = rng.random()
        device = rng.choice(kiosks) if rng.random() < 0.25 else rng.choice(devices)
        if kind < 0.35:
            aliases = [device, rng.choice(emails)]
        elif kind < 0.55:
            aliases = rng.sample(emails, 2)
        elif kind < 0.70:
            aliases = [rng.choice(users), rng.choice(emails)]
        elif kind < 0.85:
            aliases = [device, rng.choice(devices)]
        else:
            aliases = [device, rng.choice(users)]
        if sessions and rng.random() < 0.25:
            session = rng.choice(sessions)  # a returning session: it may have to leave its profile
        else:
            session = f"{run}-s{len(sessions)}"
            sessions.append(session)
        bodies.append(
            {
                "source": {"id": source_id},
                "session": {"id": session},
                "aliases": sorted(set(aliases)),
                "events": [{"type": "link"}],
            }
        )
    return bodies


def check_rules(graph: Any, run: str, bodies: list[dict[str, Any]], answers: list[dict[str, Any]]) -> str:
    """What must hold after the rules stream in any commit order (the numbered checks); a one-line summary."""
    # 1. Every alias and every session of the run in exactly one profile.
    members, _, _ = graph.execute_query(
        """
        MATCH (m) WHERE (m:Alias AND m.urn CONTAINS $run) OR (m:Session AND m.id STARTS WITH $run)
        OPTIONAL MATCH (m)-[:BELONGS_TO]->(p:Profile)
        RETURN coalesce(m.urn, m.id) AS key, m:Alias AS alias, m.type AS type, collect(p.id) AS profiles
        """,
        run=run,
    )
    assert all(len(r["profiles"]) == 1 for r in members), "a member without exactly one profile"
    profile_of = {r["key"]: r["profiles"][0] for r in members}
    groups: dict[str, set[str]] = defaultdict(set)
    for key, pid in profile_of.items():
        groups[pid].add(key)

    # 2. No profile over a limit.
    for pid, keys in groups.items():
        by_type: dict[str, int] = defaultdict(int)
        for key in keys:
            if key.startswith("urn:"):
                by_type[parse_urn(key).type] += 1
        for alias_type, count in by_type.items():
            limit = DEFAULTS.limit(alias_type)
            assert limit is None or count <= limit, (pid, alias_type, count)

    # 3. Sizes and handles consistent.
    assert_profiles_consistent(graph, list(groups))

    # 4. The sequential reference: the rules replayed in the order the graph recorded give this partition.
    event_ids = [answer["events"]["ids"][0] for answer in answers]
    stamps, _, _ = graph.execute_query(
        "UNWIND $ids AS id MATCH (e:Event {id: id}) RETURN e.id AS id, e.identity_seq AS seq",
        ids=event_ids,
    )
    seq = {r["id"]: r["seq"] for r in stamps}
    assert all(seq.get(i) is not None for i in event_ids), "every request's events carry its stamp"
    order = sorted(range(len(bodies)), key=lambda i: (seq[event_ids[i]], i))
    reference = replay(
        (Unit(bodies[i]["session"]["id"], tuple(parse_urn(u) for u in bodies[i]["aliases"])) for i in order),
        DEFAULTS,
    )
    actual = sorted((frozenset(g) for g in groups.values()), key=lambda g: sorted(g))
    assert actual == reference.partition()

    # 5. Strong aliases share a profile only where accepted strong evidence joined them, when it arrived (a
    #    session that later leaves takes its events with it, not the join it made).
    for pid, keys in groups.items():
        strong = [
            parse_urn(k) for k in keys if k.startswith("urn:") and DEFAULTS.is_strong(parse_urn(k).type)
        ]
        assert reference.strongly_joined(strong), f"profile {pid} joins strong aliases without evidence"

    # The stream really exercised the rules: merges, refusals, shared kiosks and sessions that moved.
    shared, _, _ = graph.execute_query(
        "MATCH (a:Alias) WHERE a.urn CONTAINS $run AND a.shared RETURN count(a) AS n", run=run
    )
    refused, _, _ = graph.execute_query(
        """
        MATCH (e:SystemEvent {type: 'merge-refused'})-[:NAMES]->(a:Alias) WHERE a.urn CONTAINS $run
        RETURN count(DISTINCT e) AS n
        """,
        run=run,
    )
    strong_profiles = sum(
        1 for keys in groups.values() if sum(1 for k in keys if k.startswith("urn:email")) >= 2
    )
    assert refused[0]["n"] > 50 and shared[0]["n"] > 5 and strong_profiles > 10
    return (
        f"{len(bodies)} requests, {len(groups)} profiles, {refused[0]['n']} refusals, "
        f"{shared[0]['n']} shared aliases, {strong_profiles} multi-email profiles"
    )
