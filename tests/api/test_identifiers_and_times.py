"""Identifiers and times a client cannot spoil (issue 22; API.md Conventions and Identity rules): phones in
E.164 whatever the format they arrive in, an unparsable phone ignored rather than rejected, far-future times
replaced by the receive time (kept as `original_time`), Segment's `sentAt` correction, and `received_at` on
every event."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.testing import TestClient

from tests.helpers import send, unique

Client = TestClient[Any]
FAR_FUTURE = "9999-12-31T23:59:59Z"


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def owner(client: Client, admin: dict[str, str], urn: str) -> str:
    r = client.get(f"/aliases/{urn}", headers=admin)
    assert r.status_code == 200, (urn, r.text)
    profile_id: str = r.json()["profile"]["id"]
    return profile_id


def test_phone_with_00_prefix_and_with_plus_is_one_person(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    email = f"{unique('ph')}@example.com"
    digits = str(uuid.uuid4().int % 10**7).zfill(7)
    number, sent_as = f"+4930{digits}", f"0049 (30) {digits[:3]}-{digits[3:]}"
    first = send(
        client,
        source_id,
        unique("s"),
        events=[{"type": "identify", "properties": {"email": email, "phone": sent_as}}],
    )
    second = send(client, source_id, unique("s"), aliases=[f"urn:phone:{number}"])
    assert second["profile"]["id"] == first["profile"]["id"]
    profile = client.get(f"/profiles/{first['profile']['id']}", headers=admin).json()
    assert f"urn:phone:{number}" in profile["aliases"]
    assert not any(a.startswith("urn:phone:00") for a in profile["aliases"])
    # A lookup normalises the same way.
    assert owner(client, admin, f"urn:phone:{sent_as}") == first["profile"]["id"]


def test_unparsable_phone_is_ignored_as_an_identifier_and_the_event_stored(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    email = f"{unique('junk')}@example.com"
    r = client.post(
        "/track",
        json={
            "source": {"id": source_id},
            "session": {"id": unique("s")},
            "aliases": ["urn:phone:n/a", f"urn:email:{email}"],
            "events": [{"type": "identify", "properties": {"phone": "ask at the desk", "email": email}}],
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["events"]["saved"] == 1
    profile = client.get(f"/profiles/{r.json()['profile']['id']}", headers=admin).json()
    assert profile["aliases"] == [f"urn:email:{email}"]
    assert profile["traits"]["phone"] == "ask at the desk"


def test_far_future_event_time_is_replaced_by_the_receive_time_and_kept_as_original_time(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    session, email = unique("s"), f"{unique('skew')}@example.com"
    before = datetime.now(UTC)
    wrong = send(
        client,
        source_id,
        session,
        events=[{"type": "identify", "time": FAR_FUTURE, "properties": {"email": email, "plan": "frozen"}}],
    )
    right = send(client, source_id, session, events=[{"type": "identify", "properties": {"plan": "current"}}])
    after = datetime.now(UTC)

    # The profile is not frozen in the year 9999: last_seen is now, and the latest trait value wins.
    profile = client.get(f"/profiles/{wrong['profile']['id']}?fresh=true", headers=admin).json()
    assert when(profile["last_seen"]) <= after
    assert profile["traits"]["plan"] == "current"

    stored = client.get(f"/events/{wrong['events']['ids'][0]}", headers=admin).json()
    assert stored["time"] == stored["received_at"]
    assert before <= when(stored["received_at"]) <= after
    assert stored.get("original_time") == "9999-12-31T23:59:59Z"
    normal = client.get(f"/events/{right['events']['ids'][0]}", headers=admin).json()
    assert normal["original_time"] is None and before <= when(normal["received_at"]) <= after
    alias = client.get(f"/aliases/urn:email:{email}", headers=admin).json()
    assert when(alias["last_seen"]) <= after


def test_segment_time_is_corrected_by_sent_at_and_far_future_replaced(
    client: Client, source_id: str, admin: dict[str, str], graph: Any
) -> None:
    fast = datetime.now(UTC) + timedelta(hours=3)  # a device clock three hours fast
    anonymous_id = unique("a")
    ids = {"fast": unique("m"), "future": unique("m")}
    body = {
        "writeKey": source_id,
        "sentAt": (fast + timedelta(seconds=10)).isoformat(),
        "batch": [
            {
                "type": "track",
                "event": "Clicked",
                "anonymousId": anonymous_id,
                "messageId": ids["fast"],
                "timestamp": fast.isoformat(),
            },
            {
                "type": "track",
                "event": "Clicked",
                "anonymousId": anonymous_id,
                "messageId": ids["future"],
                "timestamp": FAR_FUTURE,
            },
        ],
    }
    assert client.post("/v1/batch", json=body).status_code == 200
    events = {}
    for name, message_id in ids.items():
        with graph.session() as session:
            record = session.run(
                "MATCH (e:Event {key: $key}) RETURN e.id AS id", key=f"{source_id}|ext|{message_id}"
            ).single()
        assert record is not None
        events[name] = client.get(f"/events/{record['id']}", headers=admin).json()

    fast_event = events["fast"]
    age = when(fast_event["received_at"]) - when(fast_event["time"])
    assert (
        timedelta(seconds=10) - timedelta(milliseconds=1)
        <= age
        <= timedelta(seconds=10) + timedelta(milliseconds=1)
    )
    assert fast_event["original_time"] is None
    assert fast_event["context"]["segment"]["originalTimestamp"] == fast.isoformat()
    future = events["future"]
    assert future["time"] == future["received_at"]
    assert when(future["original_time"]).year == 9999


def test_every_dialect_stores_received_at(client: Client, source_id: str, admin: dict[str, str]) -> None:
    tracardi = send(
        client, source_id, unique("s"), events=[{"type": "page-view", "time": "2024-05-01T10:00:00Z"}]
    )
    collect = client.post(f"/collect/purchase/{source_id}", json={"total": 1}).json()
    web = client.post(
        "/web-events",
        json={
            "source": source_id,
            "session_id": unique("s"),
            "event_type": "view",
            "timestamp": "2024-05-01T10:00:00Z",
        },
    ).json()
    for event_id in (tracardi["events"]["ids"][0], collect["event"]["id"], web["event"]["id"]):
        stored = client.get(f"/events/{event_id}", headers=admin).json()
        assert stored["received_at"] is not None and when(stored["received_at"]) > when(
            "2026-01-01T00:00:00Z"
        )
