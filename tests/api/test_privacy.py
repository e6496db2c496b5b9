"""Privacy (issue 9.5): erasure of a profile's whole component over HTTP and from the CLI. That no personal
data reaches the logs is tests/system/test_log_privacy.py (the app in a process of its own)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from litestar.testing import TestClient

from tests.helpers import send, unique


def _identify(client: TestClient[Any], source_id: str, session: str, **props: Any) -> dict[str, Any]:
    body = {
        "source": {"id": source_id},
        "session": {"id": session},
        "events": [
            {"type": "identify", "id": unique("ev"), "properties": props},
            {"type": "page-view", "id": unique("ev"), "properties": {"url": "https://shop.example/"}},
        ],
    }
    r = client.post("/track", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def test_delete_profile_erases_the_component(
    client: TestClient[Any], source_id: str, admin: dict[str, str], graph: Any
) -> None:
    email, phone = f"{unique('erase')}@example.com", "+49 151 " + unique("")[-6:].replace("-", "1")
    s1, s2 = unique("s"), unique("s")
    a = _identify(client, source_id, s1, email=email)
    b = _identify(client, source_id, s2, phone=phone)
    # A third session links both: the two profiles merge (audit: a profile-merged system event).
    c = _identify(client, source_id, unique("s"), email=email, phone=phone)
    survivor = c["profile"]["id"]
    merged = {a["profile"]["id"], b["profile"]["id"]} - {survivor}
    assert merged, "the test needs a merge"
    view = client.get(f"/profiles/{survivor}", headers=admin).json()
    assert set(view["merged_ids"]) >= merged
    event_ids = a["events"]["ids"] + b["events"]["ids"] + c["events"]["ids"]
    handles = [survivor, *merged]

    assert client.delete(f"/profiles/{survivor}").status_code == 401
    r = client.delete(f"/profiles/{next(iter(merged))}", headers=admin)  # any id it ever had
    assert r.status_code == 204, r.text

    for pid in handles:
        assert client.get(f"/profiles/{pid}", headers=admin).status_code == 404
    assert client.get(f"/aliases/urn:email:{email}", headers=admin).status_code == 404
    assert client.get(f"/sessions/{s1}", headers=admin).status_code == 404
    for eid in event_ids:
        assert client.get(f"/events/{eid}", headers=admin).status_code == 404
    left, _, _ = graph.execute_query(
        "OPTIONAL MATCH (e:Event) WHERE e.id IN $events WITH count(e) AS events "
        "OPTIONAL MATCH (h:ProfileId) WHERE h.id IN $handles WITH events, count(h) AS handles "
        "OPTIONAL MATCH (x:SystemEvent) WHERE x.properties_json CONTAINS $survivor "
        "WITH events, handles, count(x) AS audit "
        "OPTIONAL MATCH (s:Session) WHERE s.id IN $sessions "
        "RETURN events, handles, audit, count(s) AS sessions",
        events=event_ids,
        handles=handles,
        survivor=survivor,
        sessions=[s1, s2],
    )
    assert dict(left[0]) == {"events": 0, "handles": 0, "audit": 0, "sessions": 0}
    assert client.delete(f"/profiles/{survivor}", headers=admin).status_code == 404

    # The erased alias seen again starts a fresh profile, with nothing of the old one.
    again = _identify(client, source_id, unique("s"), email=email)
    assert again["profile"]["id"] not in handles
    fresh = client.get(f"/profiles/{again['profile']['id']}", headers=admin).json()
    assert fresh["aliases"] == [f"urn:email:{email}"] and fresh["merged_ids"] == []
    assert fresh["session_count"] == 1


def test_cli_erase_by_alias(
    client: TestClient[Any], source_id: str, admin: dict[str, str], settings_env: dict[str, str]
) -> None:
    email = f"{unique('cli')}@example.com"
    profile = _identify(client, source_id, unique("s"), email=email)["profile"]["id"]
    env = {**os.environ, **settings_env}
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "erase", "--alias", f"urn:email:{email.upper()}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert '"events":2' in done.stdout and '"aliases":1' in done.stdout
    assert client.get(f"/profiles/{profile}", headers=admin).status_code == 404
    again = subprocess.run(
        [sys.executable, "-m", "app.cli", "erase", "--alias", f"urn:email:{email}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode == 1


def _graph_mentions(graph: Any, value: str) -> int:
    """How many nodes still hold `value` in any property (a scan; the test graph is small)."""
    rows, _, _ = graph.execute_query(
        "MATCH (n) WHERE any(k IN keys(n) WHERE toStringOrNull(n[k]) CONTAINS $value"
        " OR any(x IN CASE WHEN n[k] IS :: LIST<ANY> THEN n[k] ELSE [] END"
        " WHERE toStringOrNull(x) CONTAINS $value))"
        " RETURN count(n) AS n",
        value=value,
    )
    return int(rows[0]["n"])


def test_erasure_takes_the_records_that_name_the_profile_elsewhere(
    client: TestClient[Any], source_id: str, admin: dict[str, str], graph: Any
) -> None:
    """Another profile's refused link and split audit name the erased profile's aliases; they go with it."""
    ann_id, bob_id, bea_mail = unique("ann"), unique("bob"), unique("bea")
    ann_session, bea_session = unique("s"), unique("s")
    ann = _identify(client, source_id, ann_session, customer_id=ann_id)["profile"]["id"]
    bob = _identify(client, source_id, unique("s"), customer_id=bob_id)["profile"]["id"]
    # Bob's customer id typed in Ann's session: refused (one customer id per profile), recorded on Ann.
    refused = _identify(client, source_id, ann_session, customer_id=bob_id)
    assert refused["profile"]["id"] == ann
    # Bea, an anonymous visitor (her phone's id), joins Ann over a kiosk (a profile that is not identified
    # joins through any alias), then the kiosk is blocked: Ann's audit records the split-off Bea.
    kiosk = f"urn:device_id:{unique('kiosk')}"
    send(client, source_id, ann_session, [kiosk])
    bea = send(client, source_id, bea_session, [f"urn:anonymous_id:{bea_mail}"])["profile"]["id"]
    assert send(client, source_id, bea_session, [kiosk])["profile"]["id"] == ann
    assert client.post(f"/aliases/{kiosk}/block", headers=admin).json()["split_into"] == [bea]
    audit = client.get(f"/profiles/{ann}/merges", headers=admin).json()["items"]
    assert {"merge-refused", "profile-split"} <= {item["type"] for item in audit}
    assert _graph_mentions(graph, bob_id) > 0 and _graph_mentions(graph, bea_mail) > 0

    assert client.delete(f"/profiles/{bob}", headers=admin).status_code == 204
    assert client.delete(f"/profiles/{bea}", headers=admin).status_code == 204

    # Nothing anywhere still names Bob's customer id or Bea's e-mail address ...
    assert _graph_mentions(graph, bob_id) == 0
    assert _graph_mentions(graph, bea_mail) == 0
    # ... and Ann keeps her own profile, session and the rest of her audit.
    view = client.get(f"/profiles/{ann}", headers=admin).json()
    assert view["id"] == ann and f"urn:customer_id:{ann_id}" in view["aliases"]
    assert client.get(f"/sessions/{ann_session}", headers=admin).json()["profile"]["id"] == ann
    left = {item["type"] for item in client.get(f"/profiles/{ann}/merges", headers=admin).json()["items"]}
    assert left == {"alias-blocked"}
