"""The Segment tracking API (/v1), with Segment's own Python client against the live server, and by hand."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import httpx
from litestar.testing import TestClient
from segment.analytics import Client as SegmentClient

from tests.helpers import LiveServer, sdk_options, unique

Client = TestClient[Any]


def basic(write_key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()}


def gzipped(body: dict[str, Any], write_key: str | None = None) -> dict[str, Any]:
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    if write_key:
        headers |= basic(write_key)
    return {"content": gzip.compress(json.dumps(body).encode()), "headers": headers}


def test_real_client_anonymous_then_identified_is_one_profile(
    live_server: LiveServer, source_id: str
) -> None:
    anonymous_id, user_id = unique("anon"), unique("user")
    email = f"{unique('ann')}@Example.com"
    errors: list[Exception] = []
    analytics = SegmentClient(**sdk_options(live_server, source_id, errors))
    analytics.track(anonymous_id=anonymous_id, event="Product Viewed", properties={"sku": "K-1"})
    analytics.identify(anonymous_id=anonymous_id, traits={"email": email, "name": "Ann"})
    analytics.alias(previous_id=anonymous_id, user_id=user_id)
    analytics.track(user_id=user_id, event="Order Completed", properties={"total": 42.5})
    assert errors == []

    with httpx.Client(base_url=live_server.url, headers=live_server.admin) as http:
        owners = {
            urn: http.get(f"/aliases/{urn}").json()["profile"]["id"]
            for urn in (
                f"urn:user_id:{user_id}",
                f"urn:email:{email.lower()}",
                f"urn:anonymous_id:{anonymous_id}",
            )
        }
        assert len(set(owners.values())) == 1
        profile = http.get(f"/profiles/{next(iter(owners.values()))}").json()
    assert sorted(profile["aliases"]) == sorted(owners)
    assert profile["event_count"] == 4
    assert profile["traits"]["name"] == "Ann" and profile["traits"]["email"] == email
    assert profile["traits"]["events_by_type"] == {
        "Product Viewed": 1,
        "identify": 1,
        "alias": 1,
        "Order Completed": 1,
    }


def test_batch_with_context_single_endpoints_and_body_write_key(
    client: Client, source_id: str, admin: dict[str, str], graph: Any
) -> None:
    user_id, anonymous_id, message_id = unique("u"), unique("a"), unique("m")
    phone = "+44 7700 900123"
    body = {
        "batch": [
            {
                "type": "identify",
                "userId": user_id,
                "anonymousId": anonymous_id,
                "traits": {"phone": phone, "plan": "pro"},
                "timestamp": "2024-02-01T12:00:00.000Z",
                "messageId": message_id,
            },
            {
                "type": "page",
                "anonymousId": anonymous_id,
                "name": "Home",
                "messageId": message_id + "-page",
                "properties": {"path": "/"},
                "context": {"page": {"path": "/"}},
            },
        ],
        "context": {"library": {"name": "analytics.js"}, "page": {"path": "/x"}},
        "writeKey": source_id,
        "sentAt": "2024-02-01T12:00:01.000Z",
    }
    r = client.post("/v1/batch", json=body)
    assert r.status_code == 200, r.text
    assert r.json() == {"success": True}
    owner = client.get(f"/aliases/urn:phone:{phone}", headers=admin).json()["profile"]["id"]
    assert (
        client.get(f"/aliases/urn:anonymous_id:{anonymous_id}", headers=admin).json()["profile"]["id"]
        == owner
    )
    profile = client.get(f"/profiles/{owner}", headers=admin).json()
    assert profile["traits"]["plan"] == "pro" and profile["event_count"] == 2

    # The same messageId again changes nothing; single-message endpoints take the type from the path.
    assert client.post("/v1/batch", json=body).status_code == 200
    assert client.get(f"/profiles/{owner}", headers=admin).json()["event_count"] == 2
    for kind, message in [
        (
            "track",
            {"userId": user_id, "event": "Signed Up", "context": {"traits": {"email": f"{user_id}@x.io"}}},
        ),
        ("screen", {"userId": user_id, "name": "Settings"}),
        ("group", {"userId": user_id, "groupId": "acme", "traits": {"email": "team@acme.io"}}),
    ]:
        r = client.post(f"/v1/{kind}", **gzipped(message, source_id))
        assert r.status_code == 200, (kind, r.text)
    profile = client.get(f"/profiles/{owner}", headers=admin).json()
    assert profile["event_count"] == 5
    # context.traits.email identifies; a group's traits describe the group, not the user.
    assert f"urn:email:{user_id}@x.io".lower() in profile["aliases"]
    assert "urn:email:team@acme.io" not in profile["aliases"]
    with graph.session() as session:
        record = session.run(
            "MATCH (e:Event {key: $key}) RETURN e.id AS id", key=f"{source_id}|ext|{message_id}-page"
        ).single()
    assert record is not None
    stored = client.get(f"/events/{record['id']}", headers=admin).json()
    assert stored["type"] == "page" and stored["properties"] == {"path": "/", "name": "Home"}
    assert stored["context"]["page"] == {"path": "/"}  # the message's context wins over the batch's
    assert stored["context"]["library"] == {"name": "analytics.js"}
    assert stored["profile"] == {"id": owner} and stored["session"] == {"id": None}


def test_message_id_deduplicates_within_a_request_and_across(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    message = {"type": "track", "anonymousId": unique("a"), "event": "Clicked", "messageId": unique("m")}
    assert (
        client.post("/v1/batch", json={"batch": [message, message]}, headers=basic(source_id)).status_code
        == 200
    )
    assert client.post("/v1/track", json=message, headers=basic(source_id)).status_code == 200
    owner = client.get(f"/aliases/urn:anonymous_id:{message['anonymousId']}", headers=admin).json()
    assert client.get(f"/profiles/{owner['profile']['id']}", headers=admin).json()["event_count"] == 1


def test_invalid_message_rejects_the_whole_request(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    anonymous_id = unique("a")
    good = {"type": "track", "anonymousId": anonymous_id, "event": "Clicked"}
    batch = [good, good, good, {"type": "identify", "traits": {}}, {"type": "track", "userId": "u-1"}]
    r = client.post("/v1/batch", json={"batch": batch}, headers=basic(source_id))
    assert r.status_code == 422, r.text
    assert [e["path"] for e in r.json()["errors"]] == ["$.batch[3].userId", "$.batch[4].event"]
    assert client.get(f"/aliases/urn:anonymous_id:{anonymous_id}", headers=admin).status_code == 404
    r = client.post("/v1/batch", json={"batch": [{**good, "type": "teleport"}]}, headers=basic(source_id))
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "$.batch[0].type"
    r = client.post("/v1/alias", json={"userId": "u-1"}, headers=basic(source_id))
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "$.previousId"
    r = client.post("/v1/track", json={"type": "page", "anonymousId": "a"}, headers=basic(source_id))
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "$.type"
    r = client.post("/v1/batch", json={"batch": [{**good, "timestamp": "now"}]}, headers=basic(source_id))
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "$.batch[0].timestamp"
    bad_json = {"content": b"{", "headers": {"Content-Type": "application/json", **basic(source_id)}}
    assert client.post("/v1/batch", **bad_json).status_code == 400
    not_gzip = {"content": b"{}", "headers": {"Content-Encoding": "gzip", "Content-Type": "application/json"}}
    assert client.post("/v1/batch", **not_gzip).status_code == 400


def test_credentials_and_limits(client: Client, source_id: str, admin: dict[str, str]) -> None:
    message = {"type": "track", "anonymousId": unique("a"), "event": "Clicked"}
    assert client.post("/v1/batch", json={"batch": [message]}).status_code == 401
    assert (
        client.post("/v1/batch", json={"batch": [message]}, headers=basic("no-such-key")).status_code == 401
    )
    assert client.post("/v1/batch", json={"batch": [message], "writeKey": "nope"}).status_code == 401
    client.patch(f"/sources/{source_id}", json={"enabled": False}, headers=admin)
    assert client.post("/v1/batch", json={"batch": [message]}, headers=basic(source_id)).status_code == 403
    client.patch(f"/sources/{source_id}", json={"enabled": True}, headers=admin)

    # 500 KB per batch, counted after decompression: a small gzip body that inflates past it is a 413.
    padding = "x" * (600 * 1024)
    big = {"batch": [{**message, "properties": {"padding": padding}}]}
    r = client.post("/v1/batch", **gzipped(big, source_id))
    assert r.status_code == 413, r.text
    assert client.post("/v1/batch", json=big, headers=basic(source_id)).status_code == 413
    # One message may use the normal request limit (1 MiB).
    single = {**message, "properties": {"padding": padding}}
    assert client.post("/v1/track", **gzipped(single, source_id)).status_code == 200
    # A trailing slash is served, never redirected.
    r = client.post("/v1/batch/", json={"batch": [message]}, headers=basic(source_id), follow_redirects=False)
    assert r.status_code == 200, r.status_code
