"""The store without a database: the query catalog (cypher/) and the driver switch the repository's
pipelined writes rely on."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from neo4j import AsyncGraphDatabase

from app.store.catalog import QueryCatalog, QueryNotFound, catalog
from tests.helpers import REPO


def test_query_catalog_loads_every_file_and_refuses_unknown_names(tmp_path: Path) -> None:
    names = catalog().names()
    shipped = sorted(p.stem for p in (REPO / "cypher").glob("*.cypher"))
    assert names == shipped
    with pytest.raises(QueryNotFound):
        catalog()["no_such_query"]
    with pytest.raises(QueryNotFound):
        catalog().require("health_ping", "nope")


def test_query_catalog_refuses_an_empty_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "emptycypher"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "blank.cypher").write_text("  \n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ValueError, match="empty"):
        QueryCatalog("emptycypher")


def test_the_pinned_driver_still_has_the_pipelining_switch() -> None:
    """GraphRepository.write_unit_pipelined falls back to a plain execute_write without it: an upgrade would
    lose the round trip silently."""

    async def check() -> bool:
        driver = AsyncGraphDatabase.driver("bolt://127.0.0.1:1")
        try:
            return hasattr(driver.session(), "_pipelined_begin")
        finally:
            await driver.close()

    assert asyncio.run(check())
