"""Identity rules v2 through the API (API.md): strong and weak identifiers, shared devices, manual merges and
suggestions. Each test is one of the contract's examples, sent as a tracker would send it."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from tests.helpers import owner_of, send, unique

Client = TestClient[Any]


def _login(email: str) -> list[dict[str, Any]]:
    return [{"type": "identify", "id": unique("ev"), "properties": {"email": email}}]


def _second_email_alone(
    client: Client, source_id: str, admin: dict[str, str]
) -> tuple[str, str, str, str, str]:
    """A person logs in on their own device, later with a second email alone on it: (device, email, email2,
    the first profile, the second)."""
    device = f"urn:device_id:{unique('own')}"
    email, email2 = f"urn:email:{unique('a')}@x.io", f"urn:email:{unique('b')}@x.io"
    send(client, source_id, unique("s"), [device, email])
    send(client, source_id, unique("s"), [device, email2])
    return device, email, email2, owner_of(client, admin, email), owner_of(client, admin, email2)


def test_kiosk_five_people_each_with_their_own_email_are_five_profiles_and_the_kiosk_id_is_shared(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    kiosk = f"urn:device_id:{unique('kiosk')}"
    emails = [f"{unique('shopper')}@x.io" for _ in range(5)]
    sessions = []
    for email in emails:
        session = unique("s")
        sessions.append(session)
        send(client, source_id, session, [kiosk])  # browsing before the login
        send(client, source_id, session, [kiosk], events=_login(email))
    owners = {owner_of(client, admin, f"urn:email:{e}") for e in emails}
    assert len(owners) == 5
    assert client.get(f"/aliases/{kiosk}", headers=admin).json()["shared"] is True
    # Each shopper's browsing before the login is theirs: the session moved with its earlier events.
    for email, session in zip(emails, sessions, strict=True):
        s = client.get(f"/sessions/{session}", headers=admin).json()
        assert s["profile"]["id"] == owner_of(client, admin, f"urn:email:{email}")
        assert s["event_count"] == 2
    # A later session that carries only the shared kiosk id starts anonymous.
    later = send(client, source_id, unique("s"), [kiosk])["profile"]["id"]
    assert later not in owners
    assert client.get(f"/profiles/{later}", headers=admin).json()["aliases"] == []


def test_family_tablet_is_one_profile_per_person(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    tablet = f"urn:anonymous_id:{unique('tablet')}"
    mum, dad, kid = (f"urn:email:{unique(n)}@home.io" for n in ("mum", "dad", "kid"))
    for person in (mum, dad, kid, mum, dad):
        send(client, source_id, unique("s"), [tablet, person])
    assert len({owner_of(client, admin, p) for p in (mum, dad, kid)}) == 3


def test_anonymous_browsing_on_own_phone_then_login_is_one_profile(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    phone = f"urn:anonymous_id:{unique('phone')}"
    first = send(client, source_id, unique("s"), [phone])["profile"]["id"]
    session = unique("s")
    send(client, source_id, session, [phone])
    email = f"{unique('ann')}@x.io"
    send(client, source_id, session, [phone], events=_login(email))
    assert owner_of(client, admin, f"urn:email:{email}") == owner_of(client, admin, phone)
    assert client.get(f"/profiles/{first}", headers=admin).json()["id"] == owner_of(client, admin, phone)


def test_login_with_user_id_and_email_then_a_second_email_with_the_user_id_is_one_profile(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    user, email, email2 = (
        f"urn:user_id:{unique('u')}",
        f"urn:email:{unique('a')}@x.io",
        f"urn:email:{unique('b')}@x.io",
    )
    send(client, source_id, unique("s"), [user, email])
    send(client, source_id, unique("s"), [email2, user])
    assert owner_of(client, admin, email2) == owner_of(client, admin, email) == owner_of(client, admin, user)


def test_a_second_email_alone_on_ones_own_device_is_a_second_profile_and_a_suggestion_naming_both(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    device, email, email2, first, second = _second_email_alone(client, source_id, admin)
    assert first != second
    page = client.get("/merge-suggestions", params={"profile_id": first}, headers=admin).json()
    pairs = [{s["profile_a"], s["profile_b"]} for s in page["items"]]
    assert {first, second} in pairs
    suggestion = page["items"][pairs.index({first, second})]
    assert device in suggestion["aliases"] and suggestion["refusals"] >= 1

    # The operator confirms it: a manual merge, audited, that joins the two.
    r = client.post(f"/profiles/{second}/merge", json={"with": first, "reason": "same person"}, headers=admin)
    assert r.status_code == 200, r.text
    merged = r.json()
    assert {merged["survivor_id"], merged["merged_id"]} == {first, second}
    assert owner_of(client, admin, email) == owner_of(client, admin, email2) == merged["survivor_id"]
    audit = client.get(f"/profiles/{merged['survivor_id']}/merges", headers=admin).json()["items"]
    manual = [e for e in audit if e["type"] == "profile-merged" and e["properties"].get("manual")]
    assert len(manual) == 1 and manual[0]["properties"]["reason"] == "same person"
    # No longer a suggestion: both ids are one profile now.
    page = client.get(
        "/merge-suggestions", params={"profile_id": merged["survivor_id"]}, headers=admin
    ).json()
    assert all({s["profile_a"], s["profile_b"]} != {first, second} for s in page["items"])
    # The manual merge is evidence of its own: blocking the device (a split that re-derives the component
    # from its links) does not take it back.
    assert client.post(f"/aliases/{device}/block", headers=admin).status_code == 200
    assert owner_of(client, admin, email) == owner_of(client, admin, email2)


def test_a_dismissed_suggestion_is_never_listed_again(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    *_, first, second = _second_email_alone(client, source_id, admin)
    r = client.delete(f"/merge-suggestions/{second}/{first}", headers=admin)
    assert r.status_code == 204, r.text
    page = client.get("/merge-suggestions", params={"profile_id": first}, headers=admin).json()
    assert all({s["profile_a"], s["profile_b"]} != {first, second} for s in page["items"])


def test_manual_merge_of_an_unknown_profile_is_404_and_without_a_reason_422(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    known = send(client, source_id, unique("s"), [f"urn:email:{unique('a')}@x.io"])["profile"]["id"]
    r = client.post(
        f"/profiles/{known}/merge", json={"with": "no-such-profile", "reason": "x"}, headers=admin
    )
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    r = client.post(f"/profiles/{known}/merge", json={"with": known, "reason": " "}, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "$.reason"
    assert client.post(f"/profiles/{known}/merge", json={"with": known, "reason": "x"}).status_code == 401


def test_identity_rules_answer_the_effective_table(client: Client, admin: dict[str, str]) -> None:
    r = client.get("/identity/rules", headers=admin)
    assert r.status_code == 200
    table = {t["type"]: t for t in r.json()["types"]}
    assert table["user_id"] == {"type": "user_id", "strength": "strong", "limit": 1, "priority": 1}
    assert table["email"]["limit"] == 5 and table["device_id"]["strength"] == "weak"
    assert r.json()["other_types"]["strength"] == "weak"
    assert client.get("/identity/rules").status_code == 401


def test_a_loymax_event_with_an_empty_customer_id_is_stored_and_the_id_ignored(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    session = unique("s")
    for customer_id in ("", "  ", "null"):
        r = client.post(
            "/web-events",
            json={
                "source": source_id,
                "session_id": session,
                "event_type": "page_view",
                "customer_id": customer_id,
            },
        )
        assert r.status_code == 200, r.text
    s = client.get(f"/sessions/{session}", headers=admin).json()
    assert s["event_count"] == 3 and s["aliases"] == []
