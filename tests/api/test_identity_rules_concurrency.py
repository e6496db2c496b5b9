"""Concurrent writers under the v2 rules: strong and weak identifiers mixed, sessions reused, 8 writers.

What must hold in any commit order: every alias and session in exactly one profile; no profile over a limit;
two strong aliases share a profile only if accepted evidence joins them through strong aliases; sizes and
handles consistent; and the rules replayed one request at a time in the order the graph recorded (each
request's stamp, `identity_seq`, a per-profile Lamport clock) give the same partition.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from graph_model.identity_rules import DEFAULTS
from graph_model.replay import Unit, replay
from graph_model.urn import parse_urn
from tests.helpers import LiveServer, assert_profiles_consistent

LINKS = 1100


def _send(url: str, body: dict[str, Any]) -> dict[str, Any]:
    """Send until acknowledged: a 503 (retries exhausted, Neo4j busy) wrote nothing, so it is sent again."""
    with httpx.Client(timeout=60) as http:
        for _ in range(20):
            r = http.post(f"{url}/track", json=body)
            if r.status_code == 200:
                answer: dict[str, Any] = r.json()
                return answer
            assert r.status_code == 503, r.text
        raise AssertionError("a link was never acknowledged")


def _stream(run: str, source_id: str) -> list[dict[str, Any]]:
    rng = random.Random(20261130)
    emails = [f"urn:email:{run}-{i}@x.io" for i in range(300)]
    users = [f"urn:user_id:{run}-u{i}" for i in range(100)]
    devices = [f"urn:device_id:{run}-d{i}" for i in range(400)]
    # A few hot devices (kiosks) that many people use.
    kiosks = devices[:8]
    bodies: list[dict[str, Any]] = []
    sessions: list[str] = []
    for _ in range(LINKS):
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


def test_mixed_strong_and_weak_links_from_8_writers_keep_the_rules_invariants(
    live_server: LiveServer, graph: Any
) -> None:
    run = uuid.uuid4().hex[:8]
    with httpx.Client() as http:
        source = http.post(f"{live_server.url}/sources", json={"name": "rules-v2"}, headers=live_server.admin)
        source_id = source.json()["id"]
    bodies = _stream(run, source_id)
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda body: _send(live_server.url, body), bodies))

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
    print(
        f"\nrules v2 under concurrency: {len(bodies)} requests, {len(groups)} profiles, "
        f"{refused[0]['n']} refusals, {shared[0]['n']} shared aliases, {strong_profiles} multi-email profiles"
    )
    assert refused[0]["n"] > 50 and shared[0]["n"] > 5 and strong_profiles > 10
