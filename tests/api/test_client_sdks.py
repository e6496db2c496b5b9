"""Real clients of the Segment protocol against the live API (issue 22), beside analytics-python in
test_segment.py: RudderStack's Python SDK, which sends identify traits only under `context.traits`, and
Segment's Node.js library, installed from npm (tests/node, pinned by its package-lock.json)."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import datetime
from typing import Any

import httpx
import pytest
from rudderstack.analytics.client import Client as RudderClient

from tests.helpers import REPO, LiveServer, sdk_options, unique

NODE_CLIENTS = REPO / "tests" / "node"


def owner_and_profile(server: LiveServer, urn: str) -> tuple[str, dict[str, Any]]:
    with httpx.Client(base_url=server.url, headers=server.admin) as http:
        alias = http.get(f"/aliases/{urn}")
        assert alias.status_code == 200, (urn, alias.text)
        owner = alias.json()["profile"]["id"]
        profile: dict[str, Any] = http.get(f"/profiles/{owner}").json()
    return owner, profile


def test_rudderstack_identify_traits_with_phone_become_aliases_and_traits(
    live_server: LiveServer, source_id: str
) -> None:
    user_id, email = unique("rs-user"), f"{unique('rs')}@Example.com"
    errors: list[Exception] = []
    rudder = RudderClient(**sdk_options(live_server, source_id, errors))
    rudder.identify(
        user_id=user_id,
        anonymous_id=unique("rs-anon"),
        traits={"email": email, "phone": "0049 (30) 1234-567", "plan": "pro", "name": "Ann"},
    )
    rudder.track(user_id=user_id, event="Order Completed", properties={"total": 42.5})
    assert errors == []

    # The phone arrived in national-with-prefix form; it is found by its E.164 URN.
    owner, profile = owner_and_profile(live_server, "urn:phone:+49301234567")
    assert {f"urn:user_id:{user_id}", f"urn:email:{email.lower()}", "urn:phone:+49301234567"} <= set(
        profile["aliases"]
    )
    assert owner_and_profile(live_server, f"urn:user_id:{user_id}")[0] == owner
    traits = profile["traits"]
    assert (traits["plan"], traits["name"], traits["email"]) == ("pro", "Ann", email)
    assert traits["phone"] == "0049 (30) 1234-567"  # the trait keeps what the client said
    assert traits["events_by_type"] == {"identify": 1, "Order Completed": 1}


@pytest.fixture(scope="module")
def node_segment_client() -> list[str]:
    """`node segment_client.mjs`, with @segment/analytics-node installed by scripts/install-test-clients.sh
    (what `make test` runs first; run here too so a plain pytest works). Skips only without npm."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.skip("npm and node are not installed: the @segment/analytics-node client cannot run")
    install = subprocess.run(
        [str(REPO / "scripts" / "install-test-clients.sh")], capture_output=True, text=True, timeout=600
    )
    assert install.returncode == 0, install.stderr
    assert (NODE_CLIENTS / "node_modules" / "@segment" / "analytics-node").is_dir(), install.stderr
    return ["node", str(NODE_CLIENTS / "segment_client.mjs")]


def test_segment_node_client_identify_and_track_are_one_profile(
    node_segment_client: list[str], live_server: LiveServer, source_id: str
) -> None:
    anonymous_id, user_id = unique("node-anon"), unique("node-user")
    calls = [
        {"method": "track", "params": {"anonymousId": anonymous_id, "event": "Product Viewed"}},
        {
            "method": "identify",
            "params": {
                "userId": user_id,
                "anonymousId": anonymous_id,
                "traits": {"email": f"{user_id}@example.com", "phone": "+1 (415) 555-0100", "plan": "pro"},
            },
        },
        {
            "method": "track",
            "params": {"userId": user_id, "event": "Order Completed", "properties": {"n": 1}},
        },
    ]
    run = subprocess.run(
        [*node_segment_client, live_server.url, source_id, json.dumps(calls)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr

    owner, profile = owner_and_profile(live_server, "urn:phone:+14155550100")
    assert owner_and_profile(live_server, f"urn:anonymous_id:{anonymous_id}")[0] == owner
    assert {f"urn:user_id:{user_id}", f"urn:email:{user_id}@example.com"} <= set(profile["aliases"])
    assert profile["traits"]["plan"] == "pro"
    assert profile["traits"]["events_by_type"] == {"Product Viewed": 1, "identify": 1, "Order Completed": 1}
    with httpx.Client(base_url=live_server.url, headers=live_server.admin) as http:
        events = http.get(f"/profiles/{owner}/events").json()["items"]
    # Its sentAt was read: each time is the receive time less the message's age, never after the receipt.
    assert all(datetime.fromisoformat(e["time"]) <= datetime.fromisoformat(e["received_at"]) for e in events)
    assert all(e["context"]["segment"]["sentAt"] for e in events)
