"""Start-up warm-up (app/services/warmup.py): every dialect's write path rehearsed before /health says ok."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from app.main import create_app
from app.metrics import render
from app.settings import load_settings
from graph_model.enrichment import device_of
from tests.helpers import metric_value, unique


def _statements(name: str) -> float:
    return metric_value(render().decode(), "idgraph_neo4j_query_duration_seconds_count", query=name)


def test_health_says_ok_only_after_every_dialect_was_rehearsed(settings_env: dict[str, str]) -> None:
    app = create_app(load_settings({**settings_env, "IDGRAPH_PURGE_INTERVAL_SECONDS": "0"}))
    before = _statements("ingest_rounds")
    # Entering runs the start-up (the lifespan) to its end before any request is served, as uvicorn does.
    with TestClient(app, raise_server_exceptions=False) as client:
        # Before the first request: the many-rounds statement of Segment batches already ran (rolled back).
        assert _statements("ingest_rounds") > before
        rehearsed: list[str] = app.state.warmed_up
        assert client.get("/health").status_code == 200
        source = unique("warm")
        admin = {"Authorization": f"Bearer {settings_env['IDGRAPH_ADMIN_TOKEN']}"}
        assert client.post("/sources", json={"id": source, "name": "w"}, headers=admin).status_code == 201
        batch: list[dict[str, Any]] = [{"type": "identify", "userId": unique("u")} for _ in range(5)]
        assert client.post("/v1/batch", json={"batch": batch, "writeKey": source}).status_code == 200
    assert {r.rsplit("x", 1)[0] for r in rehearsed} == {"tracardi", "esp", "converge", "loymax", "segment"}
    assert "segmentx6" in rehearsed  # a Segment batch of several users
    assert "segmentx10" in rehearsed  # a Segment batch of ten new users, one round each
    # /track, /collect, ESP identify and view, Converge without and in a session, Loymax, a Segment message,
    # two Segment batches
    assert len(rehearsed) == 10


def _graph_census(graph: Any) -> dict[str, int]:
    """Every node label and relationship type with its count: what a start-up could leave behind. Webhook
    deliveries are left out: the suite's own app may deliver an earlier test's changes meanwhile."""
    census: dict[str, int] = {}
    nodes = "MATCH (n) UNWIND labels(n) AS label RETURN label AS name, count(*) AS n"
    rels = "MATCH ()-[r]->(m) WHERE NOT m:WebhookDelivery RETURN type(r) AS name, count(*) AS n"
    for kind, query in (("node", nodes), ("rel", rels)):
        for record in graph.execute_query(query).records:
            if not str(record["name"]).startswith("WebhookDelivery"):
                census[f"{kind}:{record['name']}"] = record["n"]
    return census


def _ingested() -> float:
    return metric_value(render().decode(), "idgraph_events_ingested_total")


def test_warm_up_plans_what_the_first_request_and_the_worker_run_and_leaves_nothing(
    settings_env: dict[str, str], graph: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ua_parser

    # The user-agent rules load on first use; a process that parsed nothing has not loaded them yet.
    monkeypatch.delattr(ua_parser, "parser", raising=False)
    device_of.cache_clear()  # parses the suite made earlier are remembered here, and would not load them
    census, ingested = _graph_census(graph), _ingested()
    planned = {
        name: _statements(name)
        for name in ("source_create", "source_get", "changes_purge", "webhook_deliveries_purge")
    }
    env = {**settings_env, "IDGRAPH_PURGE_INTERVAL_SECONDS": "0", "IDGRAPH_WEBHOOK_DELIVERY": "off"}
    app = create_app(load_settings(env))
    with TestClient(app, raise_server_exceptions=False):
        assert app.state.warmed_up  # the warm-up ran to its end
        # The first request of a new source reads it (found), its create was planned; the delivery worker's
        # poll and purges were planned although this process runs no worker.
        for name, before in planned.items():
            assert _statements(name) > before, name
        assert "parser" in vars(ua_parser)  # loaded before /health says ok, not in the first request
    # Nothing of it shows: no node, relationship, feed entry or source left, no ingest counted.
    assert _graph_census(graph) == census
    assert _ingested() == ingested
    warm_sources = graph.execute_query(
        "MATCH (s:Source) WHERE s.id STARTS WITH 'idgraph-warmup' RETURN count(s) AS n"
    ).records[0]["n"]
    assert warm_sources == 0
