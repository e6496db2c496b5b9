"""The identity change feed and its webhooks (issue 19), against real receivers: small HTTP servers on
127.0.0.1 that this module starts, and API servers of its own with the delivery worker on and a short retry
schedule (the suite's shared servers deliver nothing)."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from tests.helpers import LiveServer, metric_value, send, serve_app, unique
from tests.webhook_receiver import HOOK_ENV, Receiver, run_receiver, verified, wait_for


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with run_receiver() as recv:
        yield recv


# -- an API server that delivers -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hooks(settings_env: dict[str, str]) -> Iterator[LiveServer]:
    with serve_app(settings_env | HOOK_ENV) as server:
        yield server


@pytest.fixture
def api(hooks: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=hooks.url, timeout=60) as http:
        yield http


def register(http: httpx.Client, admin: dict[str, str], url: str, **body: Any) -> dict[str, Any]:
    r = http.post("/webhooks", json={"url": url, **body}, headers=admin)
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def new_source(http: httpx.Client | TestClient[Any], admin: dict[str, str]) -> str:
    sid = unique("src")
    assert http.post("/sources", json={"id": sid, "name": "changes"}, headers=admin).status_code == 201
    return sid


# -- the feed --------------------------------------------------------------------------------------------


def test_feed_cursor_errors(client: TestClient[Any], admin: dict[str, str]) -> None:
    assert client.get("/changes", params={"after": "not a cursor"}, headers=admin).status_code == 400
    assert client.get("/changes", params={"after": "Zm9vOmJhcg"}, headers=admin).status_code == 400
    assert client.get("/changes", params={"types": "profile-merged,nope"}, headers=admin).status_code == 400
    old = datetime.now(UTC) - timedelta(days=31)
    micros = (old - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    expired = base64.urlsafe_b64encode(f"c1:{micros:016d}".encode()).decode().rstrip("=")
    r = client.get("/changes", params={"after": expired}, headers=admin)
    assert r.status_code == 410, r.text
    # A cursor within the retention is fine; the feed is admin only.
    recent = datetime.now(UTC) - timedelta(days=29)
    micros = (recent - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    fine = base64.urlsafe_b64encode(f"c1:{micros:016d}".encode()).decode().rstrip("=")
    assert client.get("/changes", params={"after": fine, "limit": 1}, headers=admin).status_code == 200
    assert client.get("/changes").status_code == 401


def drain(http: httpx.Client | TestClient[Any], admin: dict[str, str], cursor: str | None) -> str:
    """Page to the end of the feed; the cursor after the last page."""
    while True:
        params = {"limit": 1000} | ({"after": cursor} if cursor else {})
        r = http.get("/changes", params=params, headers=admin)
        assert r.status_code == 200, r.text
        cursor = r.json()["next_cursor"]
        if len(r.json()["items"]) < 1000:
            assert cursor is not None
            return cursor


def test_erasure_leaves_ids_only_in_the_feed(client: TestClient[Any], admin: dict[str, str]) -> None:
    sid = new_source(client, admin)
    start = drain(client, admin, None)
    email = f"urn:email:{unique('erase')}@x.io"
    pid = send(client, sid, unique("s"), [email])["profile"]["id"]

    def created() -> bool:
        r = client.get("/changes", params={"after": start, "types": "profile-created"}, headers=admin)
        return any(item["profile_id"] == pid and item["aliases"] == [email] for item in r.json()["items"])

    # The feed serves a change once no transaction that began before it is still open (a fraction of a
    # second here): wait for it.
    wait_for(created, message="the profile-created change")
    assert client.delete(f"/profiles/{pid}", headers=admin).status_code == 204
    wait_for(lambda: "profile-erased" in client.get("/changes", params={"after": start}, headers=admin).text)
    page = client.get("/changes", params={"after": start}, headers=admin)
    assert email.split(":")[-1] not in page.text, "no personal data of an erased profile stays in the feed"
    erased = [i for i in page.json()["items"] if i["type"] == "profile-erased" and i["profile_id"] == pid]
    assert len(erased) == 1 and erased[0]["erased_ids"] == [pid]
    assert set(erased[0]) == {"seq", "type", "at", "profile_id", "erased_ids"}


def test_a_feed_consumer_sees_every_change_once_under_concurrent_ingest(
    live_server: LiveServer, admin: dict[str, str], graph: Any
) -> None:
    """Writers merge and create profiles from several threads while a consumer pages with `after` in small
    pages; what it saw is compared with the graph's own audit events and profiles."""
    with httpx.Client(base_url=live_server.url, timeout=60) as http:
        sid = new_source(http, admin)
        start = drain(http, admin, None)
        tag = unique("feed")
        done = threading.Event()
        seen: list[dict[str, Any]] = []

        def consume() -> None:
            cursor = start
            with httpx.Client(base_url=live_server.url, timeout=60) as own:
                quiet_after_done = 0
                while quiet_after_done < 3:
                    r = own.get("/changes", params={"after": cursor, "limit": 7}, headers=admin)
                    assert r.status_code == 200, r.text
                    seen.extend(r.json()["items"])
                    cursor = r.json()["next_cursor"]
                    if done.is_set() and not r.json()["items"]:
                        quiet_after_done += 1
                        time.sleep(0.5)

        def write(worker: int) -> None:
            with httpx.Client(base_url=live_server.url, timeout=60) as own:
                for i in range(12):
                    # A new person, then (every third) a second session that joins two people by a
                    # device only the anonymous side holds: merges under rule 1.
                    device = f"urn:device_id:{tag}-{worker}-{i}"
                    send(own, sid, f"{tag}-{worker}-{i}", [f"urn:email:{tag}-{worker}-{i}@x.io", device])
                    if i % 3 == 2:
                        anon = f"urn:anonymous_id:{tag}-{worker}-{i}"
                        send(own, sid, f"{tag}-{worker}-{i}-b", [anon])
                        send(own, sid, f"{tag}-{worker}-{i}-c", [anon, device])

        consumer = threading.Thread(target=consume)
        consumer.start()
        writers = [threading.Thread(target=write, args=(w,)) for w in range(4)]
        for t in writers:
            t.start()
        for t in writers:
            t.join()
        done.set()
        consumer.join(timeout=120)
        assert not consumer.is_alive()

    seqs = [item["seq"] for item in seen]
    assert len(seqs) == len(set(seqs)), "a change was served twice"
    assert seqs == sorted(seqs), "the feed is in position order"
    with graph.session() as session:
        audit_merged = {
            r["about"]
            for r in session.run(
                "MATCH (e:SystemEvent {type: 'profile-merged', source_id: $sid})-[:ABOUT]->(h:ProfileId)"
                " RETURN h.id AS about",
                sid=sid,
            )
        }
        owners = {
            r["pid"]
            for r in session.run(
                "MATCH (a:Alias)-[:BELONGS_TO]->(p:Profile) WHERE a.urn CONTAINS $tag"
                " RETURN DISTINCT p.id AS pid",
                tag=tag,
            )
        }
    merged_feed = [i for i in seen if i["type"] == "profile-merged" and set(i["merged_ids"]) & audit_merged]
    assert len(audit_merged) == 4 * 4, "the scenario merged one pair every third request per writer"
    assert sorted(m for i in merged_feed for m in i["merged_ids"]) == sorted(audit_merged)
    created = [i["profile_id"] for i in seen if i["type"] == "profile-created"]
    ours = owners | audit_merged
    assert sorted(p for p in created if p in ours) == sorted(ours), "every profile created once"
    # In order per profile: a merge comes after both sides were created.
    position = {(i["type"], i["profile_id"]): n for n, i in enumerate(seen)}
    for item in merged_feed:
        for pid in [item["survivor_id"], *item["merged_ids"]]:
            assert position[("profile-created", pid)] < seen.index(item)


# -- webhooks --------------------------------------------------------------------------------------------


def test_a_host_not_on_the_allow_list_is_refused(api: httpx.Client, admin: dict[str, str]) -> None:
    for url in (
        "http://10.0.0.5/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://localhost:9/hook",
        "file:///etc/passwd",
        "http://user:pw@127.0.0.1/hook",
    ):
        r = api.post("/webhooks", json={"url": url, "types": ["profile-merged"]}, headers=admin)
        assert r.status_code == 422, (url, r.text)
        assert r.json()["errors"][0]["path"] == "$.url"
    r = api.post("/webhooks", json={"url": "http://127.0.0.1:9/x", "types": ["nope"]}, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "$.types"
    hook = register(api, admin, "http://127.0.0.1:9/x", types=["profile-merged"])
    assert hook["secret"].startswith("whsec_"), "a secret is generated when none is given, shown once"
    listed = api.get("/webhooks", headers=admin).json()["items"]
    assert any(w["id"] == hook["id"] for w in listed)
    assert all("secret" not in w for w in listed)
    assert api.delete(f"/webhooks/{hook['id']}", headers=admin).status_code == 204
    assert api.delete(f"/webhooks/{hook['id']}", headers=admin).status_code == 404
    assert api.get(f"/webhooks/{hook['id']}/deliveries", headers=admin).status_code == 404


def test_merge_split_block_and_erasure_arrive_once_signed_in_order(
    api: httpx.Client, admin: dict[str, str], receiver: Receiver
) -> None:
    hook = register(
        api,
        admin,
        receiver.url,
        types=[
            "profile-created",
            "alias-added",
            "profile-merged",
            "profile-split",
            "alias-blocked",
            "profile-erased",
            "merge-refused",
        ],
        event_types=["purchase"],
    )
    secret = hook["secret"]
    try:
        sid = new_source(api, admin)
        own, e2 = f"urn:device_id:{unique('own')}", f"urn:email:{unique('b')}@x.io"
        kiosk = f"urn:device_id:{unique('kiosk')}"
        s1, s2 = unique("s"), unique("s")
        a = send(api, sid, s1, [own])["profile"]["id"]
        purchase = [{"type": "purchase", "properties": {"total": 9.5}}]
        b = send(api, sid, s2, [e2], events=purchase)["profile"]["id"]
        send(api, sid, s1, [kiosk])
        assert send(api, sid, s2, [kiosk])["profile"]["id"] == a  # b merged into a

        def types_for(*pids: str) -> list[str]:
            return [r.change["type"] for r in receiver.delivered() if r.change["profile_id"] in pids]

        wait_for(lambda: "profile-merged" in types_for(a), message="the merge")
        r = api.post(f"/aliases/{kiosk}/block", headers=admin)
        assert r.status_code == 200 and r.json()["split_into"] == [b], r.text
        wait_for(lambda: "alias-blocked" in types_for(a), message="the split and the block")
        assert api.delete(f"/profiles/{b}", headers=admin).status_code == 204
        wait_for(lambda: "profile-erased" in types_for(b), message="the erasure")

        got = [r for r in receiver.delivered() if r.change["profile_id"] in (a, b)]
        assert all(verified(secret, r) for r in got), "every delivery signed with the webhook's secret"
        assert not any(verified("another secret", r) for r in got)
        assert len({r.delivery_id for r in receiver.requests if r.change["profile_id"] in (a, b)}) == len(got)
        kinds = [(r.change["type"], r.change["profile_id"]) for r in got]
        assert kinds == [
            ("profile-created", a),
            ("profile-created", b),
            ("event", b),
            ("alias-added", a),
            ("profile-merged", a),
            ("profile-split", a),
            ("alias-blocked", a),
            ("profile-erased", b),
        ], kinds
        seqs = [r.change["seq"] for r in got]
        assert seqs == sorted(seqs)
        changes = {r.change["type"]: r.change for r in got}
        merged = changes["profile-merged"]
        assert merged["merged_ids"] == [b] and merged["survivor_id"] == a
        assert changes["profile-split"]["split_profile_id"] == b
        assert changes["alias-blocked"]["alias"] == kiosk
        assert changes["profile-erased"]["erased_ids"] == [b]
        assert changes["event"]["event_type"] == "purchase"
        assert changes["event"]["event"]["properties"] == {"total": 9.5}
        body = json.loads(got[0].body)
        assert body["delivery_id"] == got[0].delivery_id and body["webhook_id"] == hook["id"]
        # Each attempt recorded.
        deliveries = api.get(f"/webhooks/{hook['id']}/deliveries", params={"limit": 50}, headers=admin).json()
        assert {d["delivery_id"] for d in deliveries["items"] if d["outcome"] == "delivered"} >= {
            r.delivery_id for r in got
        }
    finally:
        api.delete(f"/webhooks/{hook['id']}", headers=admin)


def test_a_receiver_failing_three_times_gets_the_change_on_the_fourth_try(
    api: httpx.Client, hooks: LiveServer, admin: dict[str, str], receiver: Receiver
) -> None:
    receiver.answer = lambda n, r: 500 if n <= 3 else 200
    hook = register(api, admin, receiver.url, types=["profile-created"])
    try:
        sid = new_source(api, admin)
        pid = send(api, sid, unique("s"), [f"urn:email:{unique('retry')}@x.io"])["profile"]["id"]
        wait_for(lambda: len(receiver.delivered()) >= 1, message="the delivery")
        attempts = [r for r in receiver.requests if r.change["profile_id"] == pid]
        assert len(attempts) == 4 and len({r.delivery_id for r in attempts}) == 1
        assert [r.status for r in attempts] == [500, 500, 500, 200]
        recorded = api.get(f"/webhooks/{hook['id']}/deliveries", headers=admin).json()["items"]
        mine = sorted((d for d in recorded if d["profile_id"] == pid), key=lambda d: d["attempt"])
        assert [(d["attempt"], d["outcome"], d["status_code"]) for d in mine] == [
            (1, "failed", 500),
            (2, "failed", 500),
            (3, "failed", 500),
            (4, "delivered", 200),
        ]
        metrics = httpx.get(f"{hooks.url}/metrics", headers=admin).text
        counted = "idgraph_webhook_deliveries_total"
        assert metric_value(metrics, counted, webhook=hook["id"], outcome="failed") == 3
        assert metric_value(metrics, counted, webhook=hook["id"], outcome="delivered") >= 1
        assert f'idgraph_webhook_feed_lag_seconds{{webhook="{hook["id"]}"}}' in metrics
    finally:
        api.delete(f"/webhooks/{hook['id']}", headers=admin)
