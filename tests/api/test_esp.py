"""E.S.P. / Apache Unomi events on `POST /events`, end to end against the real Neo4j."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from tests.helpers import unique

Client = TestClient[Any]


def identify_event(session_id: str, email: str, **target_properties: Any) -> dict[str, Any]:
    """An identify event as Unomi's analytics.js builds it for identify(userId, traits)."""
    return {
        "eventType": "identify",
        "scope": "example",
        "sessionId": session_id,
        "source": {"itemType": "site", "scope": "example", "itemId": "mysite"},
        "target": {
            "itemType": "analyticsUser",
            "scope": "example",
            "itemId": unique("user"),
            "properties": {"email": email, "firstName": "Bill", **target_properties},
        },
        "properties": {},
    }


def click_event(session_id: str, item_id: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {
        "eventType": "click",
        "scope": "example",
        "sessionId": session_id,
        "timeStamp": "2024-06-01T10:00:05Z",
        "source": {
            "itemType": "page",
            "scope": "example",
            "itemId": "homepage",
            "properties": {"pageInfo": {"pagePath": "/", "destinationURL": "https://example.com/"}},
        },
        "target": {"itemType": "button", "scope": "example", "itemId": "buy-now"},
        "properties": {"label": "Buy now"},
    }
    if item_id:
        event["itemId"] = item_id
    return event


def test_documented_flow_identify_then_click_then_second_session(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    email = f"{unique('bill')}@Example.com"
    session_1, session_2 = unique("sess"), unique("sess")
    headers = {"X-Source-Id": source_id}
    identify = identify_event(session_1, email)
    identify["timeStamp"] = "2024-06-01T10:00:00Z"
    r = client.post("/events", json={"events": [identify, click_event(session_1)]}, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    profile_id = body["profile"]["id"]
    assert body["session"] == {"id": session_1}
    assert body["events"]["saved"] == 2 and body["events"]["duplicates"] == 0

    profile = client.get(f"/profiles/{profile_id}", headers=admin).json()
    assert profile["event_count"] == 2 and profile["session_count"] == 1
    assert profile["aliases"] == [f"urn:email:{email.lower()}"]
    assert profile["traits"]["firstName"] == "Bill"
    session = client.get(f"/sessions/{session_1}", headers=admin).json()
    assert session["event_count"] == 2 and session["profile"] == {"id": profile_id}
    stored = client.get(f"/events/{body['events']['ids'][1]}", headers=admin).json()
    assert stored["type"] == "click" and stored["properties"] == {"label": "Buy now"}
    assert stored["context"]["source"]["properties"]["pageInfo"]["pagePath"] == "/"
    assert stored["context"]["target"]["itemId"] == "buy-now"

    # A second session identifying the same person (a single-event body this time) joins that profile.
    r = client.post("/events", json=identify_event(session_2, email.upper()), headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["profile"]["id"] == profile_id
    profile = client.get(f"/profiles/{profile_id}", headers=admin).json()
    assert profile["session_count"] == 2 and profile["event_count"] == 3


def test_collector_body_with_session_and_source_item_id(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    """Unomi's collector form: the session on the request, the source as Unomi names it (`itemId`)."""
    session_id = unique("sess")
    event = click_event(session_id)
    del event["sessionId"]
    r = client.post(
        "/events",
        json={
            "sessionId": session_id,
            "source": {"itemType": "site", "itemId": source_id},
            "events": [event],
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["session"] == {"id": session_id}
    # A single event's `source` is its own item (the page); idgraph's `source.id` may ride along on it.
    single = click_event(unique("sess"))
    single["source"]["id"] = source_id
    r = client.post("/events", json=single)
    assert r.status_code == 200, r.text


def test_events_of_several_sessions_in_one_request(client: Client, source_id: str) -> None:
    s1, s2 = unique("sess"), unique("sess")
    r = client.post(
        "/events",
        json={"events": [click_event(s1), click_event(s2), click_event(s1)]},
        headers={"X-Source-Id": source_id},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert [s["id"] for s in body["sessions"]] == [s1, s2]
    assert len(set(body["events"]["ids"])) == 3 and body["events"]["saved"] == 3


def test_item_id_deduplicates_per_source(client: Client, source_id: str, admin: dict[str, str]) -> None:
    session_id, item_id = unique("sess"), unique("ev")
    headers = {"X-Source-Id": source_id}
    first = client.post("/events", json=click_event(session_id, item_id), headers=headers).json()
    again = client.post("/events", json=click_event(session_id, item_id), headers=headers).json()
    assert first["events"]["saved"] == 1
    assert again["events"] == {"ids": first["events"]["ids"], "saved": 0, "duplicates": 1}
    assert client.get(f"/sessions/{session_id}", headers=admin).json()["event_count"] == 1


def test_identify_of_other_item_types_links_nothing(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    email = f"{unique('x')}@example.com"
    event = identify_event(unique("sess"), email)
    event["target"]["itemType"] = "form"
    r = client.post("/events", json=event, headers={"X-Source-Id": source_id})
    assert r.status_code == 200
    assert client.get(f"/aliases/urn:email:{email}", headers=admin).status_code == 404


def test_bad_input(client: Client, source_id: str, admin: dict[str, str]) -> None:
    headers = {"X-Source-Id": source_id}
    session_id = unique("sess")
    missing_session = click_event(session_id)
    del missing_session["sessionId"]
    r = client.post("/events", json={"events": [click_event(session_id), missing_session]}, headers=headers)
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {"path": "$.events[1].sessionId", "message": r.json()["errors"][0]["message"]}
    ]
    # A rejected request writes nothing, not even its valid events.
    assert client.get(f"/sessions/{session_id}", headers=admin).status_code == 404

    no_type = click_event(session_id)
    del no_type["eventType"]
    assert client.post("/events", json=no_type, headers=headers).json()["errors"][0]["path"] == "$.eventType"
    bad_time = {**click_event(session_id), "timeStamp": "yesterday"}
    r = client.post("/events", json={"events": [bad_time]}, headers=headers)
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "$.events[0].timeStamp"
    r = client.post(
        "/events", json={"events": [{**click_event(session_id), "properties": []}]}, headers=headers
    )
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "$.events[0].properties"
    assert client.post("/events", json={"events": []}, headers=headers).status_code == 422
    assert (
        client.post(
            "/events", content=b"{", headers={**headers, "content-type": "application/json"}
        ).status_code
        == 400
    )
    assert client.post("/events", json=click_event(session_id)).status_code == 401
    assert (
        client.post("/events", json=click_event(session_id), headers={"X-Source-Id": "nope"}).status_code
        == 401
    )
