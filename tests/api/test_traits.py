"""Traits from events, the profile API (events and sessions pages) and enrichment, against the real Neo4j."""

from __future__ import annotations

import asyncio
import base64
import os
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import neo4j
from litestar.testing import TestClient

from app.services.traits import TraitsVerifier
from app.store.catalog import catalog
from app.store.repository import GraphRepository
from tests.helpers import Neo4jServer, async_driver, unique

Client = TestClient[Any]
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
WINDOWS_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
    "Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1"
)
ANDROID_PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
    "Mobile Safari/537.36"
)


def at(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def track(
    client: Client,
    source_id: str,
    session_id: str,
    events: list[dict[str, Any]],
    *,
    aliases: list[str] | None = None,
    headers: dict[str, str] | None = None,
    profile: bool = False,
) -> dict[str, Any]:
    body = {
        "source": {"id": source_id},
        "session": {"id": session_id},
        "events": events,
        "aliases": aliases or [],
        "options": {"profile": profile},
    }
    r = client.post("/track", json=body, headers=headers or {})
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def profile(client: Client, admin: dict[str, str], profile_id: str) -> dict[str, Any]:
    r = client.get(f"/profiles/{profile_id}", headers=admin)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def verify(server: Neo4jServer, profile_ids: list[str]) -> Any:
    async def run() -> Any:
        driver = async_driver(server)
        try:
            return await TraitsVerifier(GraphRepository(driver, catalog(), "neo4j")).verify(profile_ids)
        finally:
            await driver.close()

    return asyncio.run(run())


# A history whose traits are known: identify / page views with UTM and user agents, at distinct times.
def history(tag: str) -> list[dict[str, Any]]:
    return [
        {"type": "identify", "time": at(1), "properties": {"first_name": "Ann", "plan": "free"}},
        {
            "type": "page-view",
            "time": at(2),
            "context": {
                "page": {"url": f"https://shop.example/?utm_source=google&utm_campaign={tag}-spring"},
                "browser": {"local": {"browser": {"userAgent": WINDOWS_CHROME}}},
            },
        },
        {"type": "identify", "time": at(3), "properties": {"plan": "gold", "city": "Oslo"}},
        {
            "type": "page-view",
            "time": at(4),
            "context": {
                "page": {"url": "https://shop.example/kettles", "referer": {"host": "shop.example"}},
                "browser": {"local": {"browser": {"userAgent": IPHONE}}},
            },
        },
        {"type": "purchase", "time": at(5), "properties": {"value": 49.9}},
        {
            "type": "page-view",
            "time": at(6),
            "properties": {
                "url": f"https://shop.example/?utm_source=newsletter&utm_medium=email&utm_content={tag}"
            },
        },
        {"type": "identify", "time": at(7), "properties": {"first_name": "Annie", "plan": None}},
        {"type": "purchase", "time": at(8), "properties": {"value": 12}},
    ]


def test_traits_from_a_mixed_dialect_history(
    client: Client, source_id: str, admin: dict[str, str], graph: neo4j.Driver, neo4j_server: Neo4jServer
) -> None:
    session_id, email, customer = unique("sess"), f"{unique('ann')}@example.com", unique("C")
    # Tracardi: an identify with the email (alias and trait input), a page view with UTM, from an iPhone.
    tracked = track(
        client,
        source_id,
        session_id,
        [
            {"type": "identify", "time": at(1), "properties": {"email": email, "first_name": "Ann"}},
            {
                "type": "page-view",
                "time": at(2),
                "context": {"page": {"url": "https://shop.example/?utm_source=google&utm_campaign=spring"}},
            },
        ],
        headers={"User-Agent": IPHONE},
    )
    profile_id = tracked["profile"]["id"]
    # Converge (server form): profile_properties are trait input, the alias joins the profile.
    r = client.post(
        f"/converge/{source_id}",
        json={
            "event_name": "Placed Order",
            "event_id": unique("cv"),
            "timestamp": at(3),
            "properties": {"value": 49.9},
            "profile_properties": {"$first_name": "Annie", "$plan": "gold"},
            "aliases": [f"urn:email:{email}"],
        },
    )
    assert r.status_code == 200 and r.json()["profile"]["id"] == profile_id, r.text
    # Segment identify: traits are trait input; the user agent and IP of the end user come in the context.
    message_id = unique("m")
    r = client.post(
        "/v1/identify",
        auth=(source_id, ""),
        json={
            "userId": unique("u"),
            "traits": {"email": email, "city": "Oslo"},
            "messageId": message_id,
            "timestamp": at(4),
            "context": {
                "ip": "203.0.113.77",
                "userAgent": WINDOWS_CHROME,
                "page": {"url": "https://shop.example/welcome?utm_source=newsletter&utm_medium=email"},
            },
        },
    )
    assert r.status_code == 200, r.text
    # Loymax: a web event in the same session, with the customer id (alias and trait input).
    r = client.post(
        "/web-events",
        json={
            "source": source_id,
            "session_id": session_id,
            "event_type": "add_to_cart",
            "event_id": unique("lx"),
            "customer_id": customer,
            "context": {"id": "sku-1"},
            "timestamp": at(5),
        },
    )
    assert r.status_code == 200 and r.json()["profile"]["id"] == profile_id, r.text

    doc = profile(client, admin, profile_id)
    traits = doc["traits"]
    assert {k: traits[k] for k in ("first_name", "plan", "city", "email", "customer_id")} == {
        "first_name": "Annie",
        "plan": "gold",
        "city": "Oslo",
        "email": email,
        "customer_id": customer,
    }
    assert traits["event_count"] == doc["event_count"] == 5
    assert traits["session_count"] == doc["session_count"] == 1
    assert traits["events_by_type"] == {"Placed Order": 1, "add_to_cart": 1, "identify": 2, "page-view": 1}
    assert traits["first_seen"] == doc["first_seen"] == "2025-03-01T09:01:00Z"
    assert traits["last_seen"] == doc["last_seen"] == "2025-03-01T09:05:00Z"
    assert traits["last_page"] == {
        "url": "https://shop.example/welcome?utm_source=newsletter&utm_medium=email",
        "referrer": None,
    }
    assert traits["utm"] == {
        "first_touch": {
            "source": "google",
            "medium": None,
            "campaign": "spring",
            "term": None,
            "content": None,
        },
        "last_touch": {
            "source": "newsletter",
            "medium": "email",
            "campaign": None,
            "term": None,
            "content": None,
        },
    }
    # The latest event with a device: Segment's (Windows Chrome from the context); the Loymax event after it
    # came from the test client, whose user agent names no device.
    assert traits["device"] == {
        "browser": "Chrome",
        "browser_version": "124",
        "os": "Windows",
        "os_version": "10",
        "type": "desktop",
    }
    # No system event counts: no merge happened here, but the verify recomputation agrees on everything.
    report = verify(neo4j_server, [profile_id])
    assert report.mismatched == 0, msgspec.json.encode(report.mismatches)

    # The IP is kept only truncated, and the raw one is gone from the stored context.
    with graph.session() as s:
        rec = s.run(
            "MATCH (e:Event {source_id: $source, external_id: $mid})"
            " RETURN e.client_ip AS ip, e.context_json AS ctx",
            source=source_id,
            mid=message_id,
        ).single()
    assert rec is not None and rec["ip"] == "203.0.113.0/24"
    assert "203.0.113.77" not in rec["ctx"]


def test_out_of_order_arrival_gives_the_same_traits(
    client: Client, source_id: str, admin: dict[str, str], neo4j_server: Neo4jServer
) -> None:
    events = history("ooo")
    in_order = unique("sess")
    for ev in events:
        pid_a = track(client, source_id, in_order, [ev])["profile"]["id"]
    shuffled = events[:]
    random.Random(7).shuffle(shuffled)
    shuffled.reverse()
    out_of_order = unique("sess")
    pid_b = track(client, source_id, out_of_order, shuffled[:3])["profile"]["id"]
    for ev in shuffled[3:]:
        track(client, source_id, out_of_order, [ev])
    a, b = profile(client, admin, pid_a)["traits"], profile(client, admin, pid_b)["traits"]
    assert a == b
    assert a["first_name"] == "Annie" and a["plan"] is None and a["city"] == "Oslo"
    assert a["utm"]["first_touch"]["campaign"] == "ooo-spring"
    assert a["utm"]["last_touch"]["source"] == "newsletter"
    assert a["last_page"]["url"].endswith("utm_content=ooo")
    assert a["device"]["os"] == "iOS" and a["device"]["type"] == "mobile"
    assert verify(neo4j_server, [pid_a, pid_b]).mismatched == 0


def test_after_a_merge_traits_are_those_of_the_union(
    client: Client, source_id: str, admin: dict[str, str], neo4j_server: Neo4jServer
) -> None:
    events = history("merge")
    first, second, joining = events[:4], events[4:7], events[7:]
    # World 1: two profiles that a later event joins.
    a, b = f"urn:email:{unique('a')}@example.com", f"urn:email:{unique('b')}@example.com"
    s1, s2 = unique("sess"), unique("sess")
    p1 = track(client, source_id, s1, first, aliases=[a])["profile"]["id"]
    p2 = track(client, source_id, s2, second, aliases=[b])["profile"]["id"]
    assert p1 != p2
    joined = track(client, source_id, s2, joining, aliases=[a])
    survivor = joined["profile"]["id"]
    merged_away = p2 if survivor == p1 else p1
    # World 2: the same events, in the same sessions, one profile from the start.
    c = f"urn:email:{unique('c')}@example.com"
    t1, t2 = unique("sess"), unique("sess")
    q = track(client, source_id, t2, second, aliases=[c])["profile"]["id"]
    track(client, source_id, t1, first, aliases=[c])
    track(client, source_id, t2, joining)

    merged = profile(client, admin, survivor)
    union = profile(client, admin, q)
    assert merged["traits"] == union["traits"]
    assert merged["traits"]["session_count"] == 2 and merged["traits"]["event_count"] == len(events)
    # The profile-merged system event is recorded but never counted.
    assert "profile-merged" not in merged["traits"]["events_by_type"]
    # The merged-away id answers with the survivor's document.
    assert profile(client, admin, merged_away) == merged
    assert verify(neo4j_server, [survivor, q]).mismatched == 0


def test_track_with_options_profile_returns_the_profile_document(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    out = track(
        client, source_id, unique("sess"), history("doc")[:3], profile=True, headers={"User-Agent": IPHONE}
    )
    assert out["profile"] == profile(client, admin, out["profile"]["id"])
    assert out["profile"]["traits"]["device"]["type"] == "mobile"


def pages(client: Client, admin: dict[str, str], path: str, **params: Any) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        r = client.get(path, params=query, headers=admin)
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["items"]) <= params.get("limit", 50)
        seen.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return seen


def test_events_pages_newest_first_with_type_filter(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    session_id = unique("sess")
    events = [{"type": "a" if i % 3 else "b", "time": at(i)} for i in range(10)]
    events += [{"type": "a", "time": at(4)}, {"type": "b", "time": at(4)}]  # ties on time: by id
    out = track(client, source_id, session_id, events)
    pid = out["profile"]["id"]
    items = pages(client, admin, f"/profiles/{pid}/events", limit=3)
    assert len(items) == 12 and len({i["id"] for i in items}) == 12
    keys = [(i["time"], i["id"]) for i in items]
    assert keys == sorted(keys, reverse=True)
    assert {i["id"] for i in items} == set(out["events"]["ids"])
    assert all(i["session"] == {"id": session_id} and i["profile"] == {"id": pid} for i in items)
    only_b = pages(client, admin, f"/profiles/{pid}/events", limit=2, type="b")
    assert [i["type"] for i in only_b] == ["b"] * 5
    assert [i["id"] for i in only_b] == [i["id"] for i in items if i["type"] == "b"]
    first = client.get(f"/profiles/{pid}/events", params={"limit": 12}, headers=admin).json()
    assert len(first["items"]) == 12 and first["next_cursor"] is None


def test_events_pages_are_stable_under_concurrent_inserts(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    session_id = unique("sess")
    out = track(client, source_id, session_id, [{"type": "view", "time": at(10 + i)} for i in range(9)])
    pid, original = out["profile"]["id"], set(out["events"]["ids"])
    r = client.get(f"/profiles/{pid}/events", params={"limit": 4}, headers=admin).json()
    seen = [i["id"] for i in r["items"]]
    # Meanwhile: a newer event, a late (older) one, and one between the pages.
    late = track(
        client,
        source_id,
        session_id,
        [
            {"type": "view", "time": at(100)},
            {"type": "view", "time": at(0)},
            {"type": "view", "time": at(13)},
        ],
    )["events"]["ids"]
    cursor = r["next_cursor"]
    while cursor:
        r = client.get(f"/profiles/{pid}/events", params={"limit": 4, "cursor": cursor}, headers=admin).json()
        seen += [i["id"] for i in r["items"]]
        cursor = r["next_cursor"]
    assert len(seen) == len(set(seen)), "an event came twice"
    assert original <= set(seen), "an event was skipped"
    assert late[0] not in seen  # newer than the first page: the next first page shows it
    assert late[1] in seen and late[2] in seen


def test_sessions_pages_and_merged_ids(client: Client, source_id: str, admin: dict[str, str]) -> None:
    alias = f"urn:email:{unique('s')}@example.com"
    sessions = [unique("sess") for _ in range(3)]
    pid = None
    for sid in sessions:
        pid = track(client, source_id, sid, [{"type": "view"}], aliases=[alias])["profile"]["id"]
    other = track(client, source_id, unique("sess"), [{"type": "view"}])["profile"]["id"]
    items = pages(client, admin, f"/profiles/{pid}/sessions", limit=2)
    assert [i["id"] for i in items] == sessions[::-1]
    assert all(
        i["profile"] == {"id": pid} and i["event_count"] == 1 and i["aliases"] == [alias] for i in items
    )
    # Merge `other` in: its old id answers with the survivor's pages.
    other_session = client.get(f"/profiles/{other}/sessions", headers=admin).json()["items"][0]["id"]
    survivor = track(client, source_id, other_session, [{"type": "view"}], aliases=[alias])["profile"]["id"]
    merged_away = other if survivor != other else pid
    assert merged_away != survivor
    by_old = client.get(f"/profiles/{merged_away}/sessions", headers=admin).json()
    by_new = client.get(f"/profiles/{survivor}/sessions", headers=admin).json()
    assert by_old == by_new and len(by_new["items"]) == 4
    events_old = client.get(f"/profiles/{merged_away}/events", headers=admin).json()
    assert events_old == client.get(f"/profiles/{survivor}/events", headers=admin).json()
    assert len(events_old["items"]) == 5


def test_profile_pages_errors(client: Client, source_id: str, admin: dict[str, str]) -> None:
    pid = track(client, source_id, unique("sess"), [{"type": "view"}])["profile"]["id"]
    for path in ("events", "sessions"):
        assert client.get(f"/profiles/{pid}/{path}").status_code == 401
        missing = client.get(f"/profiles/{unique('nope')}/{path}", headers=admin)
        assert missing.status_code == 404 and missing.headers["content-type"].startswith(
            "application/problem+json"
        )
        for bad in ({"limit": 0}, {"limit": 201}, {"cursor": "not-a-cursor"}):
            r = client.get(f"/profiles/{pid}/{path}", params=bad, headers=admin)
            assert r.status_code == 400, (bad, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
    forged = base64.urlsafe_b64encode(b'["2025-01-01T00:00:00", "x"]').decode()  # no zone
    assert client.get(f"/profiles/{pid}/events", params={"cursor": forged}, headers=admin).status_code == 400


def test_traits_verify_command(
    client: Client, source_id: str, neo4j_server: Neo4jServer, tmp_path: Path
) -> None:
    pid = track(client, source_id, unique("sess"), history("cli"))["profile"]["id"]
    env = {**os.environ, "NEO4J_URI": neo4j_server.uri, "IDGRAPH_DATA_DIR": str(tmp_path)}
    if neo4j_server.password:
        env |= {"NEO4J_USER": neo4j_server.user or "neo4j", "NEO4J_PASSWORD": neo4j_server.password}
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "traits", "verify", "--profile", pid],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "1 profiles checked, 0 with traits that differ" in done.stderr


def test_traits_verify_lists_a_stale_event(
    client: Client, source_id: str, graph: neo4j.Driver, neo4j_server: Neo4jServer
) -> None:
    out = track(client, source_id, unique("sess"), history("stale"))
    pid = out["profile"]["id"]
    with graph.session() as s:  # as if enrichment rules had changed since this event was written
        s.run("MATCH (e:Event {id: $id}) SET e.ua_os = 'BeOS'", id=out["events"]["ids"][3]).consume()
    report = verify(neo4j_server, [pid])
    assert report.mismatched == 1
    assert set(report.mismatches[0].differences) == {"device"}
    assert report.mismatches[0].differences["device"]["api"]["os"] == "BeOS"
