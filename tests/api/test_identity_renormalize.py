"""`idgraph identity renormalize [--dry-run]` (issue 22): phone aliases stored before phones were E.164 take
the form new input gets; one number's aliases become one, and the profiles they were in merge as any link
would (audited `profile-merged`), or the refusal is recorded (`merge-refused`) when the identity rules forbid
the join."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from litestar.testing import TestClient

from app.cli import main
from tests.helpers import owner_of, send, unique

Client = TestClient[Any]


def number(area: str) -> str:
    return f"+49{area}{uuid.uuid4().int % 10**7:07d}"


def stored_before_e164(graph: Any, urn: str) -> str:
    """Turn an alias into what the old rule stored for `0049 ...`: `urn:phone:0049...` (digits only)."""
    legacy_value = "00" + urn.removeprefix("urn:phone:+")
    with graph.session() as session:
        session.run(
            "MATCH (a:Alias {urn: $urn}) SET a.urn = 'urn:phone:' + $value, a.value = $value",
            urn=urn,
            value=legacy_value,
        ).consume()
    return f"urn:phone:{legacy_value}"


def alias_exists(graph: Any, urn: str) -> bool:
    with graph.session() as session:
        return session.run("MATCH (a:Alias {urn: $urn}) RETURN count(a) AS n", urn=urn).single()["n"] == 1


def audit(graph: Any, kind: str, text: str) -> list[dict[str, Any]]:
    with graph.session() as session:
        rows = session.run(
            "MATCH (e:SystemEvent {type: $kind}) WHERE e.properties_json CONTAINS $text"
            " RETURN e.properties_json AS p",
            kind=kind,
            text=text,
        ).data()
    return [json.loads(r["p"]) for r in rows]


def renormalize(capsys: pytest.CaptureFixture[str], *flags: str) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["identity", "renormalize", *flags]) == 0
    report: dict[str, Any] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    return report


def test_renormalize_merges_profiles_one_number_joins_and_records_refused_joins(
    client: Client,
    source_id: str,
    admin: dict[str, str],
    graph: Any,
    cli_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Two people who are one: the same number stored as `0049...` in one profile and `+49...` in another.
    joined, e1, e2 = number("30"), f"{unique('e1')}@example.com", f"{unique('e2')}@example.com"
    s1 = unique("s")
    p1 = send(client, source_id, s1, [f"urn:email:{e1}", f"urn:phone:{joined}"])["profile"]["id"]
    joined_legacy = stored_before_e164(graph, f"urn:phone:{joined}")
    p2 = send(client, source_id, unique("s"), [f"urn:email:{e2}", f"urn:phone:{joined}"])["profile"]["id"]
    assert p1 != p2
    # The same number in two profiles with a user id each: one user id per profile refuses the join.
    refused, u3, u4 = number("40"), unique("u3"), unique("u4")
    p3 = send(client, source_id, unique("s"), [f"urn:user_id:{u3}", f"urn:phone:{refused}"])["profile"]["id"]
    refused_legacy = stored_before_e164(graph, f"urn:phone:{refused}")
    p4 = send(client, source_id, unique("s"), [f"urn:user_id:{u4}", f"urn:phone:{refused}"])["profile"]["id"]
    # A number stored only in its old form: renamed in place.
    alone, e5 = number("89"), f"{unique('e5')}@example.com"
    p5 = send(client, source_id, unique("s"), [f"urn:email:{e5}", f"urn:phone:{alone}"])["profile"]["id"]
    alone_legacy = stored_before_e164(graph, f"urn:phone:{alone}")

    dry = renormalize(capsys, "--dry-run")
    assert dry["dry_run"] is True
    renamed = {r["urn"]: (r["to"], r["folded"]) for r in dry["renamed"]}
    assert renamed[joined_legacy] == (f"urn:phone:{joined}", True)
    assert renamed[alone_legacy] == (f"urn:phone:{alone}", False)
    assert refused_legacy not in renamed
    assert {frozenset((m["survivor_id"], m["merged_id"])) for m in dry["merged"]} >= {frozenset((p1, p2))}
    (refusal,) = [r for r in dry["refused"] if r["alias"] in (refused_legacy, f"urn:phone:{refused}")]
    assert (refusal["rule"], refusal["alias_type"]) == ("limit", "user_id")
    # A dry run writes nothing.
    assert alias_exists(graph, joined_legacy) and alias_exists(graph, alone_legacy)
    assert owner_of(client, admin, f"urn:email:{e1}") != owner_of(client, admin, f"urn:email:{e2}")

    report = renormalize(capsys)
    assert report["dry_run"] is False
    assert {r["urn"] for r in report["renamed"]} >= {joined_legacy, alone_legacy}

    # One number, one alias, one profile: the first session's link now names the E.164 alias.
    survivor = owner_of(client, admin, f"urn:phone:{joined}")
    assert (
        owner_of(client, admin, f"urn:email:{e1}") == owner_of(client, admin, f"urn:email:{e2}") == survivor
    )
    assert not alias_exists(graph, joined_legacy)
    assert f"urn:phone:{joined}" in client.get(f"/sessions/{s1}", headers=admin).json()["aliases"]
    merged_away = ({p1, p2} - {survivor}).pop()
    assert client.get(f"/profiles/{merged_away}", headers=admin).json()["id"] == survivor
    (merge,) = audit(graph, "profile-merged", f"urn:phone:{joined}")
    assert merge["renormalized"] is True and {merge["survivor_id"], merge["merged_id"]} == {p1, p2}
    assert sorted(merge["stored_as"]) == sorted([joined_legacy, f"urn:phone:{joined}"])

    # The refused join: both profiles stay, the old form stays where it was, and the refusal is on record.
    assert owner_of(client, admin, f"urn:user_id:{u3}") != owner_of(client, admin, f"urn:user_id:{u4}")
    assert alias_exists(graph, refused_legacy)
    (refused_record,) = audit(graph, "merge-refused", refused_legacy) or audit(
        graph, "merge-refused", f'"alias":"urn:phone:{refused}"'
    )
    assert (refused_record["rule"], refused_record["renormalized"]) == ("limit", True)
    assert {refused_record["profile_id"], refused_record["alias_profile_id"]} == {p3, p4}

    # Renamed in place: same profile, found by its E.164 URN.
    assert owner_of(client, admin, f"urn:phone:{alone}") == p5 and not alias_exists(graph, alone_legacy)

    # A second run has nothing left to rename of these.
    again = renormalize(capsys)
    assert not {r["urn"] for r in again["renamed"]} & {joined_legacy, alone_legacy}
