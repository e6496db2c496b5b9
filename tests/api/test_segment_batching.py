"""A Segment batch of many users is written a few statements at a time, with the same identity outcome as
its messages sent one per request (graph_model/round_groups.py, app/store/many_rounds.py)."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.testing import TestClient

from tests.helpers import metric_value, unique

Client = TestClient[Any]


def scenario(seed: int) -> list[dict[str, Any]]:
    """100 messages of 60 people with `{p}` where ids go: first visits, logins that merge an anonymous
    visitor, alias calls, logins of different people on shared kiosks (refused joins, shared ids), people
    coming back under one id only, and a repeated message id."""
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(hours=1)
    messages: list[dict[str, Any]] = []
    for person in range(60):
        anon, user, email = f"{{p}}-anon-{person}", f"{{p}}-user-{person}", f"{{p}}-{person}@example.com"
        kiosk = f"{{p}}-kiosk-{person % 3}"
        shape = person % 4
        if shape == 0:  # anonymous, then a login, then back as the user alone
            messages += [
                {"type": "track", "anonymousId": anon, "event": "Viewed"},
                {"type": "identify", "anonymousId": anon, "userId": user, "traits": {"email": email}},
                {"type": "track", "userId": user, "event": "Ordered"},
            ]
        elif shape == 1:  # an alias call joins the anonymous id to the user id
            messages += [
                {"type": "page", "anonymousId": anon, "name": "Home"},
                {"type": "alias", "previousId": anon, "userId": user},
            ]
        elif shape == 2:  # a login on a kiosk several people use
            messages += [
                {"type": "identify", "anonymousId": kiosk, "userId": user, "traits": {"email": email}}
            ]
        else:  # a new user in one message
            messages += [{"type": "identify", "userId": user, "traits": {"email": email, "plan": "pro"}}]
    rng.shuffle(messages)
    messages = messages[:99]
    for n, message in enumerate(messages):
        message["messageId"] = f"{{p}}-m{n}"
        # Recent: anonymous data older than the retention is purged.
        message["timestamp"] = (start + timedelta(seconds=n)).isoformat()
    return [*messages, dict(messages[0])]  # the same message twice: stored once


def fill(value: Any, prefix: str) -> Any:
    if isinstance(value, str):
        return value.replace("{p}", prefix)
    if isinstance(value, dict):
        return {k: fill(v, prefix) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, prefix) for v in value]
    return value


def outcome(graph: Any, prefix: str) -> dict[str, Any]:
    """The partition of the prefix's aliases into profiles, which are shared, and each alias's events,
    with the prefix taken out so two worlds compare."""
    with graph.session() as session:
        rows = session.run(
            """
            MATCH (a:Alias) WHERE a.value CONTAINS $prefix
            OPTIONAL MATCH (a)-[:BELONGS_TO]->(p:Profile)
            RETURN a.urn AS urn, p.id AS profile, coalesce(a.shared, false) AS shared,
                   COUNT { (:Event)-[:HAS_ALIAS]->(a) } AS linked,
                   COUNT { (:Event)-[:REFUSED_ALIAS]->(a) } AS refused
            """,
            prefix=prefix,
        ).data()
        events = session.run(
            "MATCH (e:Event) WHERE e.external_id STARTS WITH $prefix RETURN count(e) AS n", prefix=prefix
        ).single()
    groups: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        groups[row["profile"] or row["urn"]].add(row["urn"].replace(prefix, "P"))
    return {
        "partition": sorted(sorted(g) for g in groups.values()),
        "aliases": sorted(
            (r["urn"].replace(prefix, "P"), r["shared"], r["linked"], r["refused"]) for r in rows
        ),
        "events": events["n"] if events else 0,
    }


def statements(client: Client, admin: dict[str, str]) -> float:
    text = client.get("/metrics", headers=admin).text
    return sum(
        metric_value(text, "idgraph_neo4j_query_duration_seconds_count", query=name)
        for name in ("ingest_round", "ingest_rounds", "ingest_round_merging")
    )


def batched_and_one_by_one(
    client: Client, source_id: str, admin: dict[str, str], graph: Any, messages: list[dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, Any], float]:
    """`messages` sent once as one /v1/batch and once one per request, each under its own prefix: the outcome
    of each, and the statements the batch took."""
    batched, single = unique("b"), unique("s")

    before = statements(client, admin)
    r = client.post("/v1/batch", json={"batch": fill(messages, batched), "writeKey": source_id})
    assert r.status_code == 200, r.text
    batch_statements = statements(client, admin) - before

    for message in fill(messages, single):
        r = client.post(f"/v1/{message['type']}", json=message | {"writeKey": source_id})
        assert r.status_code == 200, r.text

    return outcome(graph, batched), outcome(graph, single), batch_statements


def test_a_batch_of_many_users_is_few_statements_and_the_same_as_one_by_one(
    client: Client, source_id: str, admin: dict[str, str], graph: Any
) -> None:
    messages = scenario(seed=21)
    got, expected, batch_statements = batched_and_one_by_one(client, source_id, admin, graph, messages)
    assert expected["events"] == 99  # 100 messages, one of them a repeat
    assert any(shared for _, shared, _, _ in expected["aliases"])  # the kiosks were refused and shared
    assert any(len(group) >= 3 for group in expected["partition"])  # logins merged anonymous visitors
    assert got == expected
    # One by one is a statement or more per message; together the first rounds share statements.
    assert batch_statements < 50, batch_statements


def test_a_batch_sent_twice_stores_nothing_twice(
    client: Client, source_id: str, admin: dict[str, str], graph: Any
) -> None:
    prefix = unique("t")
    body = {"batch": fill(scenario(seed=5), prefix), "writeKey": source_id}
    for _ in range(2):
        r = client.post("/v1/batch", json=body)
        assert r.status_code == 200, r.text
    assert outcome(graph, prefix)["events"] == 99


def one_user(messages: int) -> list[dict[str, Any]]:
    """`messages` messages of one user with `{p}` where ids go: a run of track calls, an identify with an
    email in the middle (other identities: a run of its own), more track calls, and one message repeated."""
    start = datetime.now(UTC) - timedelta(hours=1)
    user = {"userId": "{p}-user", "anonymousId": "{p}-anon"}
    out: list[dict[str, Any]] = []
    for n in range(messages):
        if n == messages // 2:
            message = {"type": "identify", "traits": {"email": "{p}@example.com"}, **user}
        else:
            message = {"type": "track", "event": "Viewed", "properties": {"n": n}, **user}
        message |= {"messageId": f"{{p}}-m{n}", "timestamp": (start + timedelta(seconds=n)).isoformat()}
        out.append(message)
    return [*out, dict(out[3])]


def test_a_batch_of_one_user_is_one_identity_decision_per_run_and_the_same_as_one_by_one(
    client: Client, source_id: str, admin: dict[str, str], graph: Any
) -> None:
    messages = one_user(60)
    got, expected, batch_statements = batched_and_one_by_one(client, source_id, admin, graph, messages)
    assert expected["events"] == 60
    assert got == expected
    # Three runs (track calls, the identify, track calls): a few statements, not one or more per message.
    assert batch_statements <= 6, batch_statements
