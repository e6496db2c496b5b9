"""Taking a bad merge back: blocking a junk alias after the fact, and removing one link."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from tests.helpers import send, unique

Client = TestClient[Any]


def test_blocking_a_shared_junk_alias_splits_the_profiles_back(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    # An anonymous visitor (a device id only) and a customer: under the v2 rules a shared device may still
    # join a profile that is not identified, so the kiosk merges them, wrongly.
    own, e2 = f"urn:device_id:{unique('own')}", f"urn:email:{unique('b')}@x.io"
    kiosk = f"urn:device_id:{unique('kiosk')}"
    s1, s2 = unique("s"), unique("s")
    a = send(client, source_id, s1, [own, f"urn:device_id:{unique('own')}"])["profile"]["id"]
    bea = [{"type": "page-view"}, {"type": "identify", "properties": {"first_name": "Bea"}}]
    b = send(client, source_id, s2, [e2], events=bea)["profile"]["id"]
    # The shop kiosk is seen in both sessions: the two customers merge.
    send(client, source_id, s1, [kiosk])
    merged = send(client, source_id, s2, [kiosk])["profile"]["id"]
    assert merged == a
    assert client.get(f"/profiles/{b}", headers=admin).json()["id"] == a
    before = client.get(f"/profiles/{a}", headers=admin).json()
    assert before["event_count"] == 5 and before["session_count"] == 2

    r = client.post(f"/aliases/{kiosk}/block", headers=admin)
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["profile"]["id"] == a and result["split_into"] == [b] and result["blocked"] is True

    pa = client.get(f"/profiles/{a}", headers=admin).json()
    pb = client.get(f"/profiles/{b}", headers=admin).json()
    assert pb["id"] == b, "the merged-away profile comes back under its old id"
    assert pa["merged_ids"] == [] and pb["merged_ids"] == []
    # Each session went back with its events: 1 + 1 in a's session, 2 + 1 in b's.
    assert (pa["session_count"], pa["event_count"]) == (1, 2)
    assert (pb["session_count"], pb["event_count"]) == (1, 3)
    # Split equality: each side's traits are those of its own events only.
    assert pb["traits"]["events_by_type"] == {"page-view": 2, "identify": 1}
    assert pa["traits"]["events_by_type"] == {"page-view": 2}
    assert pb["traits"]["first_name"] == "Bea" and "first_name" not in pa["traits"]
    assert before["traits"]["first_name"] == "Bea"
    assert own in pa["aliases"] and e2 in pb["aliases"] and kiosk not in pa["aliases"] + pb["aliases"]
    assert client.get(f"/sessions/{s2}", headers=admin).json()["profile"]["id"] == b
    assert client.get("/paths", params={"from": own, "to": e2}, headers=admin).json()["connected"] is False
    audit = client.get(f"/profiles/{a}/merges", headers=admin).json()["items"]
    assert {"profile-split", "alias-blocked"} <= {item["type"] for item in audit}
    split = next(item for item in audit if item["type"] == "profile-split")
    assert split["properties"]["split_profile_id"] == b and split["properties"]["alias"] == kiosk
    # The blocked value never links anything again.
    third = send(client, source_id, unique("s"), [kiosk, e2])
    assert third["profile"]["id"] == b
    assert client.get(f"/aliases/{kiosk}", headers=admin).json()["profile"]["id"] is None
    assert client.get(f"/profiles/{a}", headers=admin).json()["id"] == a
    assert client.post("/aliases/urn:device_id:never-seen-here/block", headers=admin).status_code == 404


def test_removing_a_link_re_derives_the_component(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    x, y = f"urn:email:{unique('x')}@x.io", "urn:phone:+1555" + str(abs(hash(unique("p"))))[:7]
    session = unique("s")
    pid = send(client, source_id, session, [x, y])["profile"]["id"]
    r = client.delete(f"/sessions/{session}/aliases/{y}", headers=admin)
    assert r.status_code == 200, r.text
    new_ids = r.json()["split_into"]
    assert len(new_ids) == 1 and new_ids[0] != pid
    assert client.get(f"/aliases/{y}", headers=admin).json()["profile"]["id"] == new_ids[0]
    assert client.get(f"/aliases/{x}", headers=admin).json()["profile"]["id"] == pid
    assert y not in client.get(f"/sessions/{session}", headers=admin).json()["aliases"]
    own = client.get(f"/profiles/{new_ids[0]}", headers=admin).json()
    assert own["aliases"] == [y] and own["session_count"] == 0
    # The new profile is held together by evidence: its graph links its id handle to the alias.
    graph = client.get(f"/profiles/{new_ids[0]}/graph", headers=admin).json()
    assert {"source": f"profile_id:{new_ids[0]}", "target": f"alias:{y}", "kind": "HAS_ALIAS"} in graph[
        "edges"
    ]
    assert client.delete(f"/sessions/{session}/aliases/{y}", headers=admin).status_code == 404


def test_aliases_whose_value_holds_a_slash_are_reachable_by_path(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    """A customer number like DE/1042, a base64 device id: sent as %2F, which servers decode to a slash."""
    number, device = f"urn:customer_id:DE/{unique('n')}", f"urn:device_id:{unique('d')}/Qm+x=="
    session = unique("s")
    pid = send(client, source_id, session, [number, device])["profile"]["id"]

    def path(urn: str) -> str:
        return urn.replace("/", "%2F")

    view = client.get(f"/aliases/{path(number)}", headers=admin)
    assert view.status_code == 200, view.text
    assert view.json()["urn"] == number and view.json()["profile"]["id"] == pid
    assert client.get(f"/aliases/{number}", headers=admin).json()["urn"] == number  # the '/' unescaped
    assert client.get(f"/aliases/{path(number)}x", headers=admin).status_code == 404
    # Other actions on an alias are unknown resources, not a block.
    assert client.post(f"/aliases/{path(number)}/unblock", headers=admin).status_code == 404
    assert client.post("/aliases/block", headers=admin).status_code == 404

    r = client.delete(f"/sessions/{session}/aliases/{path(device)}", headers=admin)
    assert r.status_code == 200, r.text
    assert device not in client.get(f"/sessions/{session}", headers=admin).json()["aliases"]
    r = client.post(f"/aliases/{path(device)}/block", headers=admin)
    assert r.status_code == 200, r.text
    assert client.get(f"/aliases/{path(device)}", headers=admin).json()["profile"]["id"] is None
    assert client.get(f"/aliases/{path(number)}", headers=admin).json()["profile"]["id"] == pid
