"""`idgraph identity rebuild`: a graph built under the v1 rules (a kiosk that joined its shoppers) re-derived
under the v2 rules: a dry run only reports, a real run splits the shoppers apart, audited, and a second run
finds nothing left to change for them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

from app.cli import main
from app.services.ingestion import IngestionService
from app.services.rebuild import RebuildReport, RebuildService
from app.store.catalog import catalog
from app.store.repository import GraphRepository
from graph_model.events import CanonicalEvent, IngestBatch
from graph_model.identity_rules import DEFAULTS, V1
from graph_model.urn import parse_urn
from tests.helpers import Neo4jServer, async_driver, unique

Client = TestClient[Any]


def _kiosk_under_v1(neo4j_server: Neo4jServer, source_id: str, kiosk: str, emails: list[str]) -> None:
    """Each shopper logs in on the kiosk in a session of their own, written with the v1 rules."""

    async def write() -> None:
        driver = async_driver(neo4j_server)
        try:
            v1 = IngestionService(GraphRepository(driver, catalog(), "neo4j"), V1)
            start = datetime.now(UTC) - timedelta(hours=1)
            for i, email in enumerate(emails):
                when = start + timedelta(minutes=i)
                event = CanonicalEvent(
                    type="identify", time=when, aliases=[parse_urn(kiosk), parse_urn(email)]
                )
                await v1.ingest(
                    IngestBatch(
                        source_id=source_id, dialect="tracardi", events=[event], session_id=unique("s")
                    )
                )
        finally:
            await driver.close()

    asyncio.run(write())


def _rebuild(neo4j_server: Neo4jServer, *, dry_run: bool) -> RebuildReport:
    async def run() -> RebuildReport:
        driver = async_driver(neo4j_server)
        try:
            return await RebuildService(GraphRepository(driver, catalog(), "neo4j"), DEFAULTS).rebuild(
                dry_run=dry_run
            )
        finally:
            await driver.close()

    return asyncio.run(run())


def test_rebuild_splits_a_kiosk_the_v1_rules_joined(
    client: Client,
    source_id: str,
    admin: dict[str, str],
    neo4j_server: Neo4jServer,
    cli_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    kiosk = f"urn:device_id:{unique('kiosk')}"
    emails = [f"urn:email:{unique('shopper')}@x.io" for _ in range(3)]
    _kiosk_under_v1(neo4j_server, source_id, kiosk, emails)

    def owners() -> set[str]:
        return {client.get(f"/aliases/{e}", headers=admin).json()["profile"]["id"] for e in emails}

    (joined,) = owners()  # v1: the kiosk joined them

    # The dry run as an operator runs it: `idgraph identity rebuild --dry-run`, the changes as JSON.
    capsys.readouterr()
    assert main(["identity", "rebuild", "--dry-run"]) == 0
    dry = msgspec.json.decode(capsys.readouterr().out.strip().splitlines()[-1], type=RebuildReport)
    assert dry.dry_run and joined in dry.profiles_split and dry.applied == 0
    assert owners() == {joined}, "a dry run changes nothing"

    done = _rebuild(neo4j_server, dry_run=False)
    assert done.applied >= 1 and done.skipped == 0
    assert len(owners()) == 3
    assert client.get(f"/aliases/{kiosk}", headers=admin).json()["shared"] is True
    # Each shopper's session went with them, and the old id still resolves.
    assert client.get(f"/profiles/{joined}", headers=admin).json()["id"] in owners()
    audit = client.get(f"/profiles/{joined}/merges", headers=admin).json()["items"]
    assert any(e["type"] == "profile-split" and e["properties"]["reason"] == "rebuild" for e in audit)

    # Run again: the shoppers are as the rules say, so nothing of theirs changes.
    again = _rebuild(neo4j_server, dry_run=True)
    assert not set(again.profiles_split) & owners()
