"""The graph the explorer draws (`GET /profiles/{id}/graph`) marks shared aliases (`"shared": true`) and draws
an operator's manual merge as a link between the two id handles."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from tests.helpers import owner_of, send, unique

Client = TestClient[Any]


def test_the_graph_marks_a_shared_alias_and_only_that_one(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    device = f"urn:device_id:{unique('kiosk')}"
    email, email2 = f"urn:email:{unique('a')}@x.io", f"urn:email:{unique('b')}@x.io"
    send(client, source_id, unique("s"), [device, email])
    send(client, source_id, unique("s"), [device, email2])  # a second email alone with the device: refused
    first = owner_of(client, admin, email)
    assert owner_of(client, admin, email2) != first
    assert client.get(f"/aliases/{device}", headers=admin).json()["shared"] is True

    r = client.get(f"/profiles/{first}/graph", headers=admin)
    assert r.status_code == 200, r.text
    nodes = {n["id"]: n for n in r.json()["nodes"]}
    assert nodes[f"alias:{device}"]["shared"] is True
    assert nodes[f"alias:{device}"]["kind"] == "alias"
    # Only the shared alias says so: the field is left out everywhere else.
    assert [nid for nid, n in nodes.items() if "shared" in n] == [f"alias:{device}"]


def test_the_graph_after_a_manual_merge_holds_both_halves_and_the_merge_link(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    device = f"urn:device_id:{unique('own')}"
    email, email2 = f"urn:email:{unique('a')}@x.io", f"urn:email:{unique('b')}@x.io"
    s1, s2 = unique("s"), unique("s")
    send(client, source_id, s1, [device, email])
    send(client, source_id, s2, [device, email2])
    first, second = owner_of(client, admin, email), owner_of(client, admin, email2)
    r = client.post(f"/profiles/{first}/merge", json={"with": second, "reason": "same person"}, headers=admin)
    assert r.status_code == 200, r.text
    survivor = r.json()["survivor_id"]

    graph = client.get(f"/profiles/{second}/graph", headers=admin).json()
    assert graph["profile"]["id"] == survivor
    ids = {n["id"] for n in graph["nodes"]}
    assert {f"alias:{email}", f"alias:{email2}", f"alias:{device}", f"session:{s1}", f"session:{s2}"} <= ids
    assert {f"profile_id:{first}", f"profile_id:{second}"} <= ids
    links = {(e["source"], e["target"], e["kind"]) for e in graph["edges"]}
    assert (f"profile_id:{first}", f"profile_id:{second}", "MERGED_WITH") in links
    # The refused link that made it a suggestion is inside the component now, and drawn.
    assert (f"session:{s2}", f"alias:{device}", "REFUSED_ALIAS") in links
    assert next(n for n in graph["nodes"] if n["id"] == f"alias:{device}")["shared"] is True
