"""Tracardi's /track and /collect against the real Neo4j, end to end through the HTTP API."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from tests.helpers import metric_value, unique

Client = TestClient[Any]


def track(client: Client, body: dict[str, Any], **kw: Any) -> Any:
    return client.post("/track", json=body, **kw)


def minimal(source_id: str, session_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "source": {"id": source_id},
        "session": {"id": session_id},
        "events": [{"type": "page-view", "properties": {"url": "https://shop.example/"}}],
        **extra,
    }


def test_minimal_payload_creates_session_profile_and_event(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    session_id = unique("sess")
    r = track(client, minimal(source_id, session_id))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["session"] == {"id": session_id}
    assert body["source"] == {"consent": False}
    assert body["events"]["saved"] == 1 and body["events"]["duplicates"] == 0
    profile_id = body["profile"]["id"]
    assert len(profile_id) == 36

    event = client.get(f"/events/{body['events']['ids'][0]}", headers=admin).json()
    assert event["type"] == "page-view"
    assert event["properties"] == {"url": "https://shop.example/"}
    assert event["session"] == {"id": session_id} and event["profile"] == {"id": profile_id}
    session = client.get(f"/sessions/{session_id}", headers=admin).json()
    assert session["profile"] == {"id": profile_id} and session["event_count"] == 1
    profile = client.get(f"/profiles/{profile_id}", headers=admin).json()
    assert profile["event_count"] == 1 and profile["session_count"] == 1
    assert profile["aliases"] == [] and profile["merged_ids"] == []


def test_full_payload_with_context_options_and_debugger(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    session_id = unique("sess")
    email = f"{unique('ann')}@example.com"
    body = {
        "source": {"id": source_id},
        "session": {"id": session_id},
        "profile": None,
        "context": {
            "browser": {"local": {"device": {"platform": "Linux"}}},
            "page": {"url": "https://x.io/a"},
        },
        "properties": {"tracker": "js"},
        "events": [
            {
                "type": "identify",
                "id": unique("ev"),
                "time": "2024-05-01T10:00:00Z",
                "properties": {"email": email.upper(), "first_name": "Ann"},
                "context": {"page": {"url": "https://x.io/b"}},
            },
            {"type": "purchase", "time": 1714560000, "properties": {"value": 12.5}},
        ],
        "options": {"profile": True, "saveSession": True, "saveEvents": True, "debugger": True},
        "aliases": ["urn:customer_id: C-1 "],
    }
    r = track(client, body)
    assert r.status_code == 200, r.text
    out = r.json()
    profile = out["profile"]
    assert sorted(profile["aliases"]) == sorted([f"urn:email:{email}", "urn:customer_id:C-1"])
    assert profile["traits"]["first_name"] == "Ann"
    assert profile["traits"]["email"] == email.upper()  # trait inputs keep what was sent
    assert profile["traits"]["events_by_type"] == {"identify": 1, "purchase": 1}
    assert profile["first_seen"] == "2024-05-01T10:00:00Z" and profile["last_seen"] == "2024-05-01T10:40:00Z"
    debugging = out["debugging"]
    assert debugging["events"]["saved"] == 2 and debugging["events"]["ids"] == out["events"]["ids"]
    assert debugging["session"]["ids"] == [session_id] and debugging["profile"]["ids"] == [profile["id"]]

    stored = client.get(f"/events/{out['events']['ids'][0]}", headers=admin).json()
    # Event context overrides the request's; the request's own properties travel along.
    assert stored["context"]["page"] == {"url": "https://x.io/b"}
    assert stored["context"]["browser"]["local"]["device"]["platform"] == "Linux"
    assert stored["context"]["tracker_properties"] == {"tracker": "js"}
    assert stored["time"] == "2024-05-01T10:00:00Z"
    assert sorted(stored["aliases"]) == [f"urn:email:{email}"]


def test_profile_id_round_trip_binds_new_session_to_same_profile(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    first = track(client, minimal(source_id, unique("sess"))).json()
    profile_id = first["profile"]["id"]
    second = track(client, minimal(source_id, unique("sess"), profile={"id": profile_id})).json()
    assert second["profile"]["id"] == profile_id
    profile = client.get(f"/profiles/{profile_id}", headers=admin).json()
    assert profile["session_count"] == 2 and profile["event_count"] == 2


def test_unknown_profile_id_gets_a_fresh_profile(client: Client, source_id: str) -> None:
    r = track(client, minimal(source_id, unique("sess"), profile={"id": "no-such-profile"})).json()
    assert r["profile"]["id"] not in (None, "no-such-profile")


def test_profile_less_stores_session_but_no_profile(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    session_id, alias = unique("sess"), f"urn:email:{unique('nobody')}@y.io"
    r = client.post("/track?profile_less=true", json=minimal(source_id, session_id, aliases=[alias]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["profile"] == {"id": None} and body["session"] == {"id": session_id}
    session = client.get(f"/sessions/{session_id}", headers=admin).json()
    assert (
        session["profile"] == {"id": None} and session["profile_less"] is True and session["event_count"] == 1
    )
    # Profile-less traffic links no identity: the alias it carried is nowhere.
    assert client.get(f"/aliases/{alias}", headers=admin).status_code == 404
    nobody = client.post(
        "/track?profile_less=true", json={"source": {"id": source_id}, "events": [{"type": "ping"}]}
    )
    assert nobody.status_code == 200 and nobody.json()["session"] == {"id": None}


def test_save_events_false_links_identity_but_stores_no_event(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    email = f"{unique('e')}@example.com"
    body = minimal(source_id, unique("sess"), options={"saveEvents": False})
    body["events"] = [{"type": "identify", "properties": {"email": email}}]
    out = track(client, body).json()
    assert out["events"]["saved"] == 0
    alias = client.get(f"/aliases/urn:email:{email}", headers=admin).json()
    assert alias["profile"]["id"] == out["profile"]["id"]
    assert client.get(f"/events/{out['events']['ids'][0]}", headers=admin).status_code == 404


def test_save_session_false_stores_no_session(client: Client, source_id: str, admin: dict[str, str]) -> None:
    session_id = unique("sess")
    out = track(client, minimal(source_id, session_id, options={"saveSession": False})).json()
    assert client.get(f"/sessions/{session_id}", headers=admin).status_code == 404
    profile = client.get(f"/profiles/{out['profile']['id']}", headers=admin).json()
    assert profile["event_count"] == 1 and profile["session_count"] == 0


def test_collect_stores_one_event_without_session_or_profile(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    r = client.post(f"/collect/order-paid/{source_id}", json={"order": "A-1", "amount": 10})
    assert r.status_code == 200, r.text
    event_id = r.json()["event"]["id"]
    event = client.get(f"/events/{event_id}", headers=admin).json()
    assert event["type"] == "order-paid" and event["properties"] == {"order": "A-1", "amount": 10}
    assert event["session"] == {"id": None} and event["profile"] == {"id": None}
    assert client.post("/collect/order-paid/no-such-source", json={}).status_code == 401
    assert (
        client.post(
            f"/collect/order-paid/{source_id}", content=b"[1,2]", headers={"content-type": "application/json"}
        ).status_code
        == 400
    )


def test_dedup_by_event_id_per_source(client: Client, source_id: str, admin: dict[str, str]) -> None:
    session_id, event_id = unique("sess"), unique("ev")
    body = minimal(source_id, session_id)
    body["events"] = [{"type": "page-view", "id": event_id}, {"type": "page-view", "id": event_id}]
    first = track(client, body).json()
    assert first["events"]["saved"] == 1 and first["events"]["duplicates"] == 1
    assert first["events"]["ids"][0] == first["events"]["ids"][1]
    again = track(client, body).json()
    assert again["events"]["saved"] == 0 and again["events"]["duplicates"] == 2
    assert again["events"]["ids"] == first["events"]["ids"]
    profile = client.get(f"/profiles/{first['profile']['id']}", headers=admin).json()
    assert profile["event_count"] == 1
    # The same client id from another source is another event.
    other = client.post("/sources", json={"name": "other"}, headers=admin).json()["id"]
    third = track(client, {**body, "source": {"id": other}, "session": {"id": unique("sess")}}).json()
    assert third["events"]["saved"] == 1


def test_a_repeated_event_links_nothing_new(client: Client, source_id: str, admin: dict[str, str]) -> None:
    # A client retry that (wrongly) carries other data under a stored event id is a duplicate: neither its
    # email nor its new session may enter the graph, even though the request's first round sees its
    # members before it knows the event is a repeat.
    event_id, first_email, other_email = unique("ev"), f"{unique('a')}@x.io", f"{unique('b')}@x.io"
    body = minimal(source_id, unique("sess"))
    body["events"] = [{"type": "identify", "id": event_id, "properties": {"email": first_email}}]
    first = track(client, body).json()
    body["events"][0]["properties"]["email"] = other_email
    body["events"].append({"type": "page-view", "id": unique("ev")})
    again = track(client, body).json()
    assert again["events"]["saved"] == 1 and again["events"]["duplicates"] == 1
    assert client.get(f"/aliases/urn:email:{other_email}", headers=admin).status_code == 404
    assert again["profile"]["id"] == first["profile"]["id"]
    owner = client.get(f"/aliases/urn:email:{first_email}", headers=admin).json()["profile"]["id"]
    assert owner == first["profile"]["id"]


def test_a_new_session_that_repeats_an_event_keeps_its_source(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    # A repeat makes the first round leave the members to a later one, which creates them from the created
    # events only; the session it creates is the source's like any other.
    repeated = {"type": "page-view", "id": unique("ev")}
    track(client, minimal(source_id, unique("sess"), events=[repeated]))
    session_id = unique("sess")
    r = track(
        client, minimal(source_id, session_id, events=[repeated, {"type": "page-view", "id": unique("ev")}])
    )
    assert r.json()["events"] == {**r.json()["events"], "saved": 1, "duplicates": 1}
    session = client.get(f"/sessions/{session_id}", headers=admin).json()
    assert session["source_id"] == source_id and session["event_count"] == 1


def test_unknown_and_disabled_sources(client: Client, source_id: str, admin: dict[str, str]) -> None:
    r = track(client, minimal("no-such-source", unique("sess")))
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
    # Used a moment ago, so the source is in this process's short-lived cache: disabling it must still
    # take effect at once.
    assert track(client, minimal(source_id, unique("sess"))).status_code == 200
    assert (
        client.patch(f"/sources/{source_id}", json={"enabled": False}, headers=admin).json()["enabled"]
        is False
    )
    session_id = unique("sess")
    r = track(client, minimal(source_id, session_id))
    assert r.status_code == 403 and r.json()["status"] == 403
    assert client.get(f"/sessions/{session_id}", headers=admin).status_code == 404
    client.patch(f"/sources/{source_id}", json={"enabled": True}, headers=admin)
    assert track(client, minimal(source_id, session_id)).status_code == 200


def test_missing_session_is_422_and_writes_nothing(client: Client, source_id: str) -> None:
    r = track(client, {"source": {"id": source_id}, "events": [{"type": "x"}]})
    assert r.status_code == 422
    problem = r.json()
    assert problem["errors"] == [{"path": "$.session.id", "message": problem["errors"][0]["message"]}]
    assert {"status", "title", "detail"} <= problem.keys()


def test_malformed_json_and_non_object_bodies_are_400(client: Client) -> None:
    for content in (b'{"source": ', b"[]", b'"text"'):
        r = client.post("/track", content=content, headers={"content-type": "application/json"})
        assert r.status_code == 400, (content, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["status"] == 400


def test_wrong_types_are_422_with_paths(client: Client, source_id: str) -> None:
    body = minimal(source_id, unique("sess"))
    body["events"] = [{"type": "ok"}, {"type": 5}]
    r = track(client, body)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["path"] == "$.events[1].type"
    body["events"] = [{"type": "ok", "time": "not a time"}]
    r = track(client, body)
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "$.events[0].time"
    body["events"] = [{"type": "ok"}]
    body["aliases"] = ["urn:email:a@b.io", "mailto:x"]
    r = track(client, body)
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "$.aliases[1]"
    r = track(client, {"source": {"id": source_id}, "session": {"id": 7}, "events": []})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "$.session.id"


def test_wrong_content_type_is_415(client: Client, source_id: str) -> None:
    r = client.post(
        "/track", content=b"source=x", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code == 415 and r.json()["status"] == 415


def test_oversize_body_is_413_and_writes_nothing(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    session_id = unique("sess")
    body = minimal(source_id, session_id)
    body["events"][0]["properties"]["blob"] = "x" * (1024 * 1024 + 10)
    r = track(client, body)
    assert r.status_code == 413 and r.json()["status"] == 413
    assert client.get(f"/sessions/{session_id}", headers=admin).status_code == 404


def test_admin_token_required_for_queries_and_sources(client: Client, admin: dict[str, str]) -> None:
    for path in ("/sources", "/aliases/urn:email:a@b.io", "/profiles/x", "/sessions/x", "/events/x"):
        assert client.get(path).status_code == 401, path
        assert client.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401, path
    assert client.post("/sources", json={"name": "x"}).status_code == 401
    assert client.get("/sources", headers=admin).status_code == 200


def test_later_requests_widen_session_and_alias_times(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    # The first request creates the session and the alias with its own times; later ones widen them (the
    # commit skips the members a request created itself, so this is the path that must still write).
    session_id, device = unique("sess"), f"urn:device_id:{unique('d')}"

    def at(*times: str) -> dict[str, Any]:
        return minimal(
            source_id,
            session_id,
            aliases=[device],
            events=[{"type": "page-view", "id": unique("ev"), "time": t} for t in times],
        )

    track(client, at("2025-06-01T10:00:00Z", "2025-06-01T10:05:00Z"))
    track(client, at("2025-06-01T09:00:00Z", "2025-06-01T11:00:00Z"))
    track(client, at("2025-06-01T10:30:00Z"))
    session = client.get(f"/sessions/{session_id}", headers=admin).json()
    alias = client.get(f"/aliases/{device}", headers=admin).json()
    for seen in (session, alias):
        assert (seen["first_seen"], seen["last_seen"]) == ("2025-06-01T09:00:00Z", "2025-06-01T11:00:00Z")


def test_a_new_or_returning_visitor_is_one_statement(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    # The first round of the protocol commits at once when the state it reads is one the service planned
    # for (app/ingestion.py, _guesses); a login that brings a new customer id goes the full way.
    def statements() -> float:
        text = client.get("/metrics", headers=admin).text
        return metric_value(text, "idgraph_neo4j_query_duration_seconds_count", query="ingest_round")

    session_id, device = unique("sess"), f"urn:anonymous_id:{unique('d')}"
    counts, profiles = [], []
    for body in (
        minimal(source_id, session_id, aliases=[device]),  # new visitor
        minimal(source_id, session_id, aliases=[device]),  # returning, the same device
        minimal(source_id, session_id),  # returning, no alias named
        minimal(source_id, unique("sess"), aliases=[device]),  # returning device, a new session
        minimal(
            source_id,
            session_id,
            events=[{"type": "identify", "properties": {"customer_id": unique("c")}}],
        ),
    ):
        before = statements()
        r = track(client, body)
        assert r.status_code == 200, r.text
        counts.append(statements() - before)
        profiles.append(r.json()["profile"]["id"])
    assert counts[:4] == [1, 1, 1, 1] and counts[4] >= 2
    assert len(set(profiles)) == 1
    profile = client.get(f"/profiles/{profiles[0]}", headers=admin).json()
    assert profile["event_count"] == 5 and profile["session_count"] == 2
    assert device in profile["aliases"] and any(a.startswith("urn:customer_id:") for a in profile["aliases"])
    assert client.get(f"/aliases/{device}", headers=admin).json()["profile"]["id"] == profiles[0]


def test_alias_lookup_is_normalised(client: Client, source_id: str, admin: dict[str, str]) -> None:
    local = unique("someone")
    out = track(client, minimal(source_id, unique("sess"), aliases=[f"urn:email:{local}@gmail.com"])).json()
    r = client.get(f"/aliases/urn:email:{local.upper()}@Gmail.com ", headers=admin)
    assert r.status_code == 200, r.text
    alias = r.json()
    assert alias["urn"] == f"urn:email:{local}@gmail.com"
    assert alias["type"] == "email" and alias["value"] == f"{local}@gmail.com"
    assert alias["profile"] == {"id": out["profile"]["id"]}
    assert alias["first_seen"] and alias["last_seen"]
    assert client.get("/aliases/urn:email:nobody-here@example.com", headers=admin).status_code == 404
    assert client.get("/aliases/not-a-urn", headers=admin).status_code == 422


def test_blocked_values_never_become_aliases(client: Client, source_id: str, admin: dict[str, str]) -> None:
    body = minimal(source_id, unique("sess"), aliases=["urn:customer_id:undefined"])
    body["events"] = [{"type": "identify", "properties": {"email": "null", "user_id": "0"}}]
    out = track(client, body).json()
    assert client.get(f"/profiles/{out['profile']['id']}", headers=admin).json()["aliases"] == []
    assert client.get("/aliases/urn:customer_id:undefined", headers=admin).status_code == 404


def test_shared_alias_merges_profiles_and_old_id_resolves(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    email = f"{unique('merge')}@example.com"
    a = track(client, minimal(source_id, unique("sess"))).json()["profile"]["id"]
    b_body = minimal(source_id, unique("sess"))
    b_body["events"].append({"type": "page-view"})
    b = track(client, b_body).json()["profile"]["id"]
    assert a != b
    track(client, minimal(source_id, unique("sess"), profile={"id": a}, aliases=[f"urn:email:{email}"]))
    out = track(
        client, minimal(source_id, unique("sess"), profile={"id": b}, aliases=[f"urn:email:{email}"])
    ).json()
    survivor = out["profile"]["id"]
    assert survivor in (a, b)
    merged = b if survivor == a else a
    via_old = client.get(f"/profiles/{merged}", headers=admin).json()
    assert via_old["id"] == survivor
    assert via_old["merged_ids"] == [merged]
    assert via_old["session_count"] == 4 and via_old["event_count"] == 5
    # The merge is recorded as a system event that counts in no behavioural figure.
    assert "profile-merged" not in via_old["traits"]["events_by_type"]
    assert client.get(f"/aliases/urn:email:{email}", headers=admin).json()["profile"]["id"] == survivor
    # The client holding the merged-away id keeps landing in the survivor.
    again = track(client, minimal(source_id, unique("sess"), profile={"id": merged})).json()
    assert again["profile"]["id"] == survivor


def test_every_read_of_an_unknown_id_is_a_404_problem_naming_it(
    client: Client, admin: dict[str, str]
) -> None:
    nobody = unique("nobody")
    for method, url, body in [
        ("GET", f"/profiles/{nobody}", None),
        ("GET", f"/profiles/{nobody}/events", None),
        ("GET", f"/profiles/{nobody}/sessions", None),
        ("GET", f"/profiles/{nobody}/graph", None),
        ("GET", f"/profiles/{nobody}/merges", None),
        ("GET", f"/sessions/{nobody}", None),
        ("GET", f"/events/{nobody}", None),
        ("GET", f"/aliases/urn:email:{nobody}@example.com", None),
        ("PATCH", f"/sources/{nobody}", {"enabled": False}),
        ("DELETE", f"/profiles/{nobody}", None),
    ]:
        r = client.request(method, url, json=body, headers=admin)
        assert r.status_code == 404, (method, url, r.text)
        assert r.headers["content-type"].startswith("application/problem+json"), url
        assert nobody in r.json()["detail"], (url, r.json())
