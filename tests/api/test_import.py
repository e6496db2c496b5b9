"""`idgraph import`: NDJSON of mixed dialects through the same translators and ingestion service as HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from app.cli import main
from tests.helpers import unique


def _lines(*objs: Any) -> str:
    return "\n".join(o if isinstance(o, str) else json.dumps(o) for o in objs) + "\n"


def test_mixed_dialects_import_with_duplicates_and_rejects(
    client: TestClient[Any],
    admin: dict[str, str],
    source_id: str,
    cli_env: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    email = f"{unique('ann')}@example.com"
    device, customer, user, token = unique("dev"), unique("C"), unique("u"), unique("tok")
    s1, s2 = unique("s"), unique("s")
    segment_identify = {
        "type": "identify",
        "userId": user,
        "anonymousId": device,
        "traits": {"email": email},
        "messageId": unique("m"),
    }
    data = tmp_path / "events.ndjson"
    data.write_text(
        _lines(
            {
                "session": {"id": s1},
                "events": [{"type": "identify", "id": unique("t"), "properties": {"email": email}}],
                "aliases": [f"urn:anonymous_id:{device}"],
            },
            {
                "sessionId": s2,
                "events": [
                    {
                        "eventType": "identify",
                        "itemId": unique("e"),
                        "target": {"itemType": "analyticsUser", "properties": {"email": email.upper()}},
                    }
                ],
            },
            {
                "event_name": "Placed Order",
                "event_id": unique("c"),
                "aliases": [f"urn:email:{email}", f"urn:checkout_token:{token}"],
            },
            {"session_id": s1, "event_type": "add_to_cart", "event_id": unique("l"), "customer_id": customer},
            segment_identify,
            segment_identify,  # line 6: the same messageId again, a duplicate
            "{not json",  # line 7
            {"type": "track", "userId": user},  # line 8: a Segment track without `event`
            "",  # blank: skipped, not rejected
            {"foo": 1},  # line 10: no dialect has this shape
        )
    )
    rejects = tmp_path / "rejects.ndjson"

    args = ["import", str(data), "--source", source_id, "--rejects", str(rejects), "--batch-size", "3"]
    code = main([*args, "--quiet"])

    assert code == 1  # completed, with rejected lines
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (summary["lines"], summary["saved"], summary["duplicates"], summary["rejected"]) == (9, 5, 1, 3)
    # Dialects of the lines that translated (line 8 was rejected before it counted).
    assert summary["dialects"] == {"tracardi": 1, "esp": 1, "converge": 1, "loymax": 1, "segment": 2}
    rejected = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [r["line"] for r in rejected] == [7, 8, 10]
    assert "malformed JSON" in rejected[0]["reason"]
    assert "$.event" in rejected[1]["reason"]
    assert "dialect not recognised" in rejected[2]["reason"]
    assert rejected[2]["text"] == '{"foo": 1}'

    # Every dialect's evidence joined one profile, found through the query API.
    profiles = set()
    for urn in (
        f"urn:email:{email}",
        f"urn:anonymous_id:{device}",
        f"urn:customer_id:{customer}",
        f"urn:user_id:{user}",
        f"urn:checkout_token:{token}",
    ):
        response = client.get(f"/aliases/{urn}", headers=admin)
        assert response.status_code == 200, (urn, response.text)
        profiles.add(response.json()["profile"]["id"])
    assert len(profiles) == 1


def test_unknown_source_is_refused(
    client: TestClient[Any], cli_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    data = tmp_path / "events.ndjson"
    data.write_text(_lines({"event_type": "view", "session_id": "s"}))
    assert main(["import", str(data), "--source", unique("nobody"), "--quiet"]) == 2


def test_running_an_import_again_stores_nothing_twice(
    client: TestClient[Any],
    admin: dict[str, str],
    source_id: str,
    cli_env: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Lines of many people (written in parallel chunks), most events without a client id.
    users = [unique("u") for _ in range(30)]
    lines = []
    for n, user in enumerate(users):
        lines.append({"type": "identify", "userId": user, "traits": {"email": f"{user}@example.com"}})
        lines.append(
            {"session": {"id": f"s-{user}"}, "events": [{"type": "page-view"}, {"type": "page-view"}]}
        )
        lines.append({"type": "track", "userId": user, "event": "Ordered", "messageId": f"{user}-m{n}"})
    data = tmp_path / "events.ndjson"
    data.write_text(_lines(*lines))
    args = ["import", str(data), "--source", source_id, "--batch-size", "7", "--parallel", "3", "--quiet"]

    summaries = []
    for _ in range(2):
        assert main(args) == 0
        summaries.append(json.loads(capsys.readouterr().out.strip().splitlines()[-1]))
    assert (summaries[0]["saved"], summaries[0]["duplicates"]) == (120, 0)
    assert (summaries[1]["saved"], summaries[1]["duplicates"]) == (0, 120)
    profile = client.get(f"/aliases/urn:user_id:{users[0]}", headers=admin).json()["profile"]["id"]
    assert client.get(f"/profiles/{profile}", headers=admin).json()["event_count"] == 2
