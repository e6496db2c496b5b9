"""Loymax-style web events on `POST /web-events`, against the real Neo4j."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from tests.helpers import unique

Client = TestClient[Any]


def web_event(source_id: str, session_id: str, event_type: str, **extra: Any) -> dict[str, Any]:
    return {"source": source_id, "session_id": session_id, "event_type": event_type, **extra}


def test_customer_id_de_anonymizes_the_whole_session(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    session_id, customer = unique("sess"), unique("C")
    product = {"id": "sku-1", "name": "Kettle", "price": 49.9, "category": "kitchen"}
    view = client.post(
        "/web-events",
        json=web_event(
            source_id,
            session_id,
            "product_view",
            event_id=unique("ev"),
            properties={"url": "https://shop.example/kettle"},
            context=product,
            timestamp="2025-03-01T09:00:00Z",
        ),
    )
    assert view.status_code == 200, view.text
    anonymous_profile = view.json()["profile"]["id"]
    assert client.get(f"/profiles/{anonymous_profile}", headers=admin).json()["aliases"] == []
    cart = client.post(
        "/web-events",
        json=web_event(
            source_id, session_id, "add_to_cart", context=product, timestamp="2025-03-01T09:01:00Z"
        ),
    ).json()

    # The customer already exists elsewhere (another session, another source form of the source id).
    known = client.post(
        "/web-events",
        json=web_event({"id": source_id}, unique("sess"), "login", customer_id=customer),  # type: ignore[arg-type]
    ).json()
    customer_profile = known["profile"]["id"]

    login = client.post(
        "/web-events",
        json=web_event(
            source_id, session_id, "login", customer_id=customer, timestamp="2025-03-01T09:02:00Z"
        ),
    ).json()
    owner = client.get(f"/aliases/urn:customer_id:{customer}", headers=admin).json()["profile"]["id"]
    assert login["profile"]["id"] == owner
    # The session and every earlier event of it now belong to the customer's profile.
    assert client.get(f"/sessions/{session_id}", headers=admin).json()["profile"] == {"id": owner}
    for event_id in (view.json()["event"]["id"], cart["event"]["id"]):
        assert client.get(f"/events/{event_id}", headers=admin).json()["profile"] == {"id": owner}
    # Both earlier ids resolve to the survivor.
    for old in (anonymous_profile, customer_profile):
        assert client.get(f"/profiles/{old}", headers=admin).json()["id"] == owner
    profile = client.get(f"/profiles/{owner}", headers=admin).json()
    assert profile["event_count"] == 4 and profile["session_count"] == 2
    assert profile["aliases"] == [f"urn:customer_id:{customer}"]
    # The context object is stored with the event as it was.
    stored = client.get(f"/events/{view.json()['event']['id']}", headers=admin).json()
    assert stored["context"] == product and stored["properties"] == {"url": "https://shop.example/kettle"}
    assert stored["time"] == "2025-03-01T09:00:00Z"


def test_new_customer_id_identifies_the_anonymous_profile(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    session_id, customer = unique("sess"), unique("C")
    first = client.post("/web-events", json=web_event(source_id, session_id, "page_view")).json()
    login = client.post(
        "/web-events", json=web_event(source_id, session_id, "login", customer_id=customer)
    ).json()
    assert login["profile"]["id"] == first["profile"]["id"]
    alias = client.get(f"/aliases/urn:customer_id:{customer}", headers=admin).json()
    assert alias["profile"]["id"] == first["profile"]["id"]


def test_event_id_deduplicates(client: Client, source_id: str, admin: dict[str, str]) -> None:
    session_id, event_id = unique("sess"), unique("ev")
    body = web_event(source_id, session_id, "page_view", event_id=event_id)
    first = client.post("/web-events", json=body).json()
    again = client.post("/web-events", json=body).json()
    assert first["duplicate"] is False and again["duplicate"] is True
    assert again["event"] == first["event"]
    assert client.get(f"/sessions/{session_id}", headers=admin).json()["event_count"] == 1


def test_bad_input(client: Client, source_id: str) -> None:
    r = client.post("/web-events", json={"source": source_id, "event_type": "page_view"})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "$.session_id"
    r = client.post("/web-events", json={"source": source_id, "session_id": "s"})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "$.event_type"
    r = client.post("/web-events", json=web_event(source_id, "s", "x", context=[1]))
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "$.context"
    r = client.post("/web-events", json=web_event(source_id, "s", "x", timestamp="later"))
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "$.timestamp"
    r = client.post("/web-events", json=web_event(source_id, "s", " "))
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "$.event_type"
    assert client.post("/web-events", json=web_event("no-such-source", "s", "x")).status_code == 401
    r = client.post(
        "/web-events", content=b"x=1", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code == 415
