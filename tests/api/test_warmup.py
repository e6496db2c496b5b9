"""Start-up warm-up (app/services/warmup.py): every dialect's write path rehearsed before /health says ok."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from app.main import create_app
from app.metrics import render
from app.settings import load_settings
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
    assert len(rehearsed) == 7  # /track, /collect, ESP, Converge, Loymax, a Segment message, a Segment batch
