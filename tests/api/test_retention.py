"""Retention: anonymous data idle past IDGRAPH_ANONYMOUS_RETENTION_DAYS is purged; identified data never."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from app import cli
from app.main import create_app
from app.settings import load_settings
from tests.helpers import unique

Client = TestClient[Any]

LONG_AGO = (datetime.now(UTC) - timedelta(days=200)).isoformat()
RECENTLY = (datetime.now(UTC) - timedelta(days=5)).isoformat()


def web_event(client: Client, source_id: str, session_id: str, when: str, **extra: Any) -> dict[str, Any]:
    body = {
        "source": source_id,
        "session_id": session_id,
        "event_type": "page_view",
        "timestamp": when,
        **extra,
    }
    r = client.post("/web-events", json=body)
    assert r.status_code == 200, r.text
    return dict(r.json())


def seed(client: Client, source_id: str) -> dict[str, Any]:
    """Old anonymous, old identified, recent anonymous, and old profile-less sessions."""
    ids: dict[str, Any] = {
        k: unique(k) for k in ("old_anon", "old_known", "recent_anon", "old_less", "mixed")
    }
    ids["customer"] = unique("C")
    ids["old_anon_event"] = web_event(client, source_id, ids["old_anon"], LONG_AGO)["event"]["id"]
    ids["old_anon_profile"] = web_event(client, source_id, ids["old_anon"], LONG_AGO)["profile"]["id"]
    web_event(client, source_id, ids["old_known"], LONG_AGO)
    ids["old_known_profile"] = web_event(
        client, source_id, ids["old_known"], LONG_AGO, customer_id=ids["customer"]
    )["profile"]["id"]
    web_event(client, source_id, ids["recent_anon"], RECENTLY)
    # An anonymous profile with an old session and a recent one is still active.
    mixed = web_event(client, source_id, ids["mixed"], LONG_AGO)["profile"]["id"]
    r = client.post(
        "/track",
        json={
            "source": {"id": source_id},
            "session": {"id": unique("sess")},
            "profile": {"id": mixed},
            "events": [{"type": "page-view", "time": RECENTLY}],
        },
    )
    assert r.status_code == 200 and r.json()["profile"]["id"] == mixed
    r = client.post(
        "/track?profile_less=true",
        json={
            "source": {"id": source_id},
            "session": {"id": ids["old_less"]},
            "events": [{"type": "x", "time": LONG_AGO}],
        },
    )
    assert r.status_code == 200, r.text
    ids["old_less_event"] = r.json()["events"]["ids"][0]
    return ids


def assert_purged(client: Client, admin: dict[str, str], ids: dict[str, Any]) -> None:
    for gone in (
        f"/sessions/{ids['old_anon']}",
        f"/sessions/{ids['old_less']}",
        f"/events/{ids['old_anon_event']}",
        f"/events/{ids['old_less_event']}",
        f"/profiles/{ids['old_anon_profile']}",
    ):
        assert client.get(gone, headers=admin).status_code == 404, gone
    for kept in (
        f"/sessions/{ids['old_known']}",
        f"/sessions/{ids['recent_anon']}",
        f"/sessions/{ids['mixed']}",
        f"/profiles/{ids['old_known_profile']}",
    ):
        assert client.get(kept, headers=admin).status_code == 200, kept
    known = client.get(f"/profiles/{ids['old_known_profile']}", headers=admin).json()
    assert known["event_count"] == 2 and known["aliases"] == [f"urn:customer_id:{ids['customer']}"]


def test_idgraph_purge_removes_only_expired_anonymous_data(
    client: Client,
    source_id: str,
    admin: dict[str, str],
    cli_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ids = seed(client, source_id)
    cli_env.setenv("IDGRAPH_ANONYMOUS_RETENTION_DAYS", "60")
    assert cli.main(["purge"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["profiles"] >= 1 and report["sessions"] >= 2 and report["events"] >= 3
    assert_purged(client, admin, ids)
    # A second run finds nothing of these left, and a retention longer than their age keeps everything else.
    assert cli.main(["purge", "--days", "100000"]) == 0
    assert json.loads(capsys.readouterr().out)["profiles"] == 0


def test_periodic_task_purges_in_process(settings_env: dict[str, str], admin: dict[str, str]) -> None:
    app = create_app(load_settings({**settings_env, "IDGRAPH_PURGE_INTERVAL_SECONDS": "1"}))
    with TestClient(app, raise_server_exceptions=False) as client:
        source_id = client.post("/sources", json={"name": "retention"}, headers=admin).json()["id"]
        session_id = unique("sess")
        web_event(client, source_id, session_id, LONG_AGO)
        deadline = time.monotonic() + 30
        while client.get(f"/sessions/{session_id}", headers=admin).status_code != 404:
            assert time.monotonic() < deadline, "the periodic purge did not run"
            time.sleep(0.5)
