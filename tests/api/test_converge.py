"""Converge postbacks on `POST /converge/{source_id}`, both forms, against the real Neo4j."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from tests.helpers import unique

Client = TestClient[Any]


def test_server_form_as_documented(client: Client, source_id: str, admin: dict[str, str]) -> None:
    """The webhook body from Converge's docs, plus the aliases and event_id it describes."""
    email = f"{unique('john.smith')}@apple.com"
    body = {
        "event_name": "Subscribed To Newsletter",
        "properties": {"formId": "your-form-id"},
        "profile_properties": {
            "$email": email,
            "$first_name": "John",
            "$last_name": "Smith",
            "$phone_number": "+199999999",
        },
        "aliases": [f"urn:email:{email}"],
        "event_id": unique("X01"),
    }
    r = client.post(f"/converge/{source_id}", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["events"]["saved"] == 1 and out["session"] == {"id": None}
    profile = client.get(f"/profiles/{out['profile']['id']}", headers=admin).json()
    assert profile["aliases"] == [f"urn:email:{email}"]
    traits = profile["traits"]
    assert traits["first_name"] == "John" and traits["last_name"] == "Smith"
    assert traits["phone_number"] == "+199999999" and "$first_name" not in traits
    event = client.get(f"/events/{out['events']['ids'][0]}", headers=admin).json()
    assert event["type"] == "Subscribed To Newsletter" and event["properties"] == {"formId": "your-form-id"}


def test_browser_form_methods_stitch_browser_and_server(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    """The browser pixel tracks in a session; `set` adds an alias; the server's order joins through it."""
    session_id, token = unique("sess"), unique("456abc")
    page = client.post(f"/converge/{source_id}", json={"method": "page", "sessionId": session_id}).json()
    profile_id = page["profile"]["id"]
    assert page["session"] == {"id": session_id}
    track = client.post(
        f"/converge/{source_id}",
        json={
            "method": "track",
            "eventName": "Added To Cart",
            "properties": {"product_id": "p-1"},
            "profileProperties": {"$first_name": "Ann"},
            "sessionId": session_id,
        },
    ).json()
    assert track["profile"]["id"] == profile_id
    forward = client.post(
        f"/converge/{source_id}",
        json={
            "method": "forward",
            "eventName": "Started Checkout",
            "eventID": unique("e"),
            "sessionId": session_id,
        },
    ).json()
    assert forward["events"]["saved"] == 1
    aliases = [f"urn:checkout_token:{token}"]
    set_ = client.post(
        f"/converge/{source_id}", json={"method": "set", "aliases": aliases, "sessionId": session_id}
    )
    assert set_.status_code == 200, set_.text
    assert set_.json()["events"] == {"ids": [], "saved": 0, "duplicates": 0}
    assert set_.json()["profile"]["id"] == profile_id

    order = client.post(
        f"/converge/{source_id}",
        json={
            "event_name": "Placed Order",
            "event_id": unique("o"),
            "properties": {"value": 10},
            "aliases": aliases,
        },
    ).json()
    assert order["profile"]["id"] == profile_id
    profile = client.get(f"/profiles/{profile_id}", headers=admin).json()
    assert profile["event_count"] == 4 and profile["session_count"] == 1
    assert profile["aliases"] == aliases and profile["traits"]["first_name"] == "Ann"
    assert profile["traits"]["events_by_type"]["$page_load"] == 1


def test_event_id_deduplicates_within_the_source(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    body = {
        "event_name": "Placed Order",
        "event_id": unique("X01"),
        "properties": {},
        "profile_properties": {},
    }
    first = client.post(f"/converge/{source_id}", json=body).json()
    again = client.post(f"/converge/{source_id}", json=body).json()
    assert first["events"]["saved"] == 1
    assert again["events"] == {"ids": first["events"]["ids"], "saved": 0, "duplicates": 1}
    browser = {"method": "forward", "eventName": "Placed Order", "eventID": body["event_id"]}
    assert client.post(f"/converge/{source_id}", json=browser).json()["events"]["duplicates"] == 1
    other = client.post("/sources", json={"name": "other"}, headers=admin).json()["id"]
    assert client.post(f"/converge/{other}", json=body).json()["events"]["saved"] == 1


def test_bad_input(client: Client, source_id: str) -> None:
    url = f"/converge/{source_id}"
    eleven = [f"urn:order_id:{i}" for i in range(11)]
    cases = [
        ({"event_name": "x", "aliases": eleven}, "$.aliases"),
        ({"event_name": "x", "aliases": []}, "$.aliases"),
        ({"event_name": "x", "aliases": ["not-a-urn"]}, "$.aliases[0]"),
        ({"method": "set"}, "$.aliases"),
        ({"method": "track", "sessionId": "s"}, "$.eventName"),
        ({"method": "delete", "eventName": "x"}, "$.method"),
        ({"properties": {}}, "$.event_name"),
        ({"event_name": "x", "timestamp": "soon"}, "$.timestamp"),
    ]
    for body, path in cases:
        r = client.post(url, json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["errors"][0]["path"] == path, (body, r.json())
    assert client.post("/converge/no-such-source", json={"event_name": "x"}).status_code == 401
    assert client.post(url, content=b"[]", headers={"content-type": "application/json"}).status_code == 400
