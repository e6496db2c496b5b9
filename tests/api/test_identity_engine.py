"""The identity engine through the API: merge protection, the audit, explanation (paths, graph)."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from tests.helpers import send, unique

Client = TestClient[Any]


def test_merge_over_customer_id_limit_is_refused_and_recorded(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    c1, c2, email = (
        f"urn:customer_id:{unique('c')}",
        f"urn:customer_id:{unique('c')}",
        f"urn:email:{unique('e')}@x.io",
    )
    a = send(client, source_id, unique("s"), [c1, email])["profile"]["id"]
    b = send(client, source_id, unique("s"), [c2])["profile"]["id"]
    assert a != b
    session = unique("s")
    send(client, source_id, session, [email])
    out = send(
        client,
        source_id,
        session,
        events=[{"type": "identify", "id": unique("ev"), "properties": {"customer_id": c2.split(":", 2)[2]}}],
    )
    # The two customers stay apart. The session goes with its highest-priority accepted alias, the customer
    # id (rules v2, rule 4), taking its earlier events; the email it carried stays with customer a.
    assert out["profile"]["id"] == b
    assert client.get(f"/aliases/{c2}", headers=admin).json()["profile"]["id"] == b
    assert client.get(f"/aliases/{email}", headers=admin).json()["profile"]["id"] == a
    assert c2 not in client.get(f"/profiles/{a}", headers=admin).json()["aliases"]
    assert client.get(f"/sessions/{session}", headers=admin).json()["event_count"] == 2
    event = client.get(f"/events/{out['events']['ids'][0]}", headers=admin).json()
    assert event["profile"]["id"] == b and event["aliases"] == [c2]
    audit = client.get(f"/profiles/{b}/merges", headers=admin).json()["items"]
    refused = [e for e in audit if e["type"] == "merge-refused"]
    assert len(refused) == 1
    assert refused[0]["properties"]["alias"] == email  # the session's link to a's email: refused
    assert refused[0]["properties"]["alias_profile_id"] == a
    assert refused[0]["properties"]["alias_type"] == "customer_id"
    assert refused[0]["properties"]["rule"] == "limit"
    # The session's link to the email is refused evidence now: nothing joins a and b through it.
    assert client.get("/paths", params={"from": email, "to": c2}, headers=admin).json()["connected"] is False
    # A brand-new second customer id in a profile that has one gets a profile of its own.
    c3 = f"urn:customer_id:{unique('c')}"
    send(client, source_id, session, [c3])
    own = client.get(f"/aliases/{c3}", headers=admin).json()["profile"]["id"]
    assert own not in (a, b)


def test_merge_is_audited_with_survivor_merged_id_linking_event_and_aliases(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    email = f"urn:email:{unique('m')}@x.io"
    small = send(client, source_id, unique("s"))["profile"]["id"]
    big_session = unique("s")
    big = send(
        client, source_id, big_session, [f"urn:device_id:{unique('d')}", f"urn:device_id:{unique('d')}"]
    )
    big_id = big["profile"]["id"]
    send(client, source_id, unique("s"), [email], profile_id=big_id)
    out = send(
        client,
        source_id,
        unique("s"),
        profile_id=small,
        events=[{"type": "identify", "id": unique("ev"), "properties": {"email": email.split(":", 2)[2]}}],
    )
    assert out["profile"]["id"] == big_id  # union by size: the smaller side moves
    items = client.get(f"/profiles/{small}/merges", headers=admin).json()["items"]
    merged = [e for e in items if e["type"] == "profile-merged"]
    assert len(merged) == 1
    props = merged[0]["properties"]
    assert props["survivor_id"] == big_id and props["merged_id"] == small
    assert props["aliases"] == [email]
    assert props["linking_event_id"] == out["events"]["ids"][0]
    profile = client.get(f"/profiles/{big_id}", headers=admin).json()
    assert "profile-merged" not in profile["traits"]["events_by_type"]
    assert profile["event_count"] == 4


def test_paths_explain_why_two_aliases_are_linked(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    e1, phone, e2 = (
        f"urn:email:{unique('p')}@x.io",
        f"urn:phone:+4912{unique('')[-6:].replace('-', '')}",
        None,
    )
    phone = "urn:phone:+49" + str(abs(hash(unique("n"))))[:9]
    e2 = f"urn:email:{unique('q')}@x.io"
    s1, s2 = unique("s"), unique("s")
    send(client, source_id, s1, [e1, phone])
    send(client, source_id, s2, [phone, e2])
    r = client.get(
        "/paths", params={"from": e1.upper().replace("URN:EMAIL", "urn:email"), "to": e2}, headers=admin
    )
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["connected"] is True
    chain = [(step.get("kind"), step.get("label")) for step in answer["path"] if "label" in step]
    assert chain == [("alias", e1), ("session", s1), ("alias", phone), ("session", s2), ("alias", e2)]
    links = [step for step in answer["path"] if "source" in step]
    assert [link["kind"] for link in links] == ["HAS_ALIAS"] * 4
    other = f"urn:email:{unique('z')}@x.io"
    send(client, source_id, unique("s"), [other])
    apart = client.get("/paths", params={"from": e1, "to": other}, headers=admin).json()
    assert apart["connected"] is False and apart["path"] == []
    assert client.get("/paths", params={"from": "bad", "to": e1}, headers=admin).status_code == 422
    assert client.get("/paths", params={"from": e1, "to": e2}).status_code == 401


def test_graph_of_a_component_and_its_cap(client: Client, source_id: str, admin: dict[str, str]) -> None:
    session = unique("s")
    devices = [f"urn:device_id:{unique('g')}" for _ in range(30)]
    out = send(client, source_id, session, devices)
    pid = out["profile"]["id"]
    graph = client.get(f"/profiles/{pid}/graph", headers=admin).json()
    assert graph["truncated"] is False and graph["node_count"] == 32  # 30 aliases, 1 session, 1 id handle
    ids = {n["id"] for n in graph["nodes"]}
    assert f"profile:{pid}" in ids and f"session:{session}" in ids and f"profile_id:{pid}" in ids
    assert all(f"alias:{d}" in ids for d in devices)
    kinds = {(e["source"], e["target"], e["kind"]) for e in graph["edges"]}
    assert all((f"session:{session}", f"alias:{d}", "HAS_ALIAS") in kinds for d in devices)
    assert (f"session:{session}", f"profile_id:{pid}", "CLAIMED") in kinds
    assert next(n for n in graph["nodes"] if n["id"] == f"alias:{devices[0]}")["type"] == "device_id"
    capped = client.get(f"/profiles/{pid}/graph", params={"limit": 10}, headers=admin).json()
    assert capped["truncated"] is True and len(capped["nodes"]) == 11
    assert all(e["source"] in {n["id"] for n in capped["nodes"]} for e in capped["edges"])
    with_events = client.get(f"/profiles/{pid}/graph", params={"events": "true"}, headers=admin).json()
    event_nodes = [n for n in with_events["nodes"] if n["kind"] == "event"]
    assert [n["label"] for n in event_nodes] == ["page-view"]
    assert client.get("/profiles/nope/graph", headers=admin).status_code == 404
