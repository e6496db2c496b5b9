"""Security (issue 9.6) and metrics (issue 9.7) through the app: CORS only where configured, security headers,
and /metrics behind a token. The rules read from the code are in tests/unit/test_security_rules.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from litestar.testing import TestClient

from tests.helpers import metric_value, serve_app, unique


def test_cors_open_for_ingestion_closed_for_admin(settings_env: dict[str, str], tmp_path: Path) -> None:
    env = {**settings_env, "IDGRAPH_CORS_ORIGINS": "https://shop.example", "IDGRAPH_DATA_DIR": str(tmp_path)}
    with serve_app(env) as server, httpx.Client(base_url=server.url, timeout=60) as http:
        preflight = {
            "Origin": "https://shop.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        }
        r = http.options("/track", headers=preflight)
        assert r.status_code == 204
        assert r.headers["access-control-allow-origin"] == "https://shop.example"
        r = http.post("/track", json={"source": {"id": "nope"}}, headers={"Origin": "https://shop.example"})
        assert r.status_code == 401 and r.headers["access-control-allow-origin"] == "https://shop.example"
        # Another origin, and every admin or query endpoint: no CORS headers at all.
        r = http.options("/track", headers={**preflight, "Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in r.headers
        for path in ("/profiles/x", "/sources", "/aliases/urn:email:a@b.co", "/metrics"):
            r = http.options(path, headers=preflight)
            assert "access-control-allow-origin" not in r.headers, path
            r = http.get(path, headers={"Origin": "https://shop.example", **server.admin})
            assert r.status_code != 401, (path, r.text)  # as the admin: past the token check
            assert "access-control-allow-origin" not in r.headers, path


def test_no_cors_by_default(client: TestClient[Any]) -> None:
    r = client.options(
        "/track", headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in r.headers


def test_security_headers(client: TestClient[Any]) -> None:
    r = client.get("/explorer")
    assert r.status_code == 200
    assert (
        "content-security-policy" in r.headers and "frame-ancestors" in r.headers["content-security-policy"]
    ) or r.headers.get("x-frame-options") == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert client.get("/health").headers["x-content-type-options"] == "nosniff"


def test_metrics(client: TestClient[Any], source_id: str, admin: dict[str, str]) -> None:
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    before = client.get("/metrics", headers=admin).text
    ids = [unique("m"), unique("m")]
    session = unique("s")
    body = {
        "source": {"id": source_id},
        "session": {"id": session},
        "events": [{"type": "view", "id": i} for i in ids],
    }
    assert client.post("/track", json=body).status_code == 200
    assert client.post("/track", json=body).status_code == 200  # both duplicates
    e1, e2 = f"{unique('m')}@example.com", f"{unique('m')}@example.com"

    def identify(s: str, **props: Any) -> None:
        r = client.post(
            "/track",
            json={
                "source": {"id": source_id},
                "session": {"id": s},
                "events": [{"type": "identify", "properties": props}],
            },
        )
        assert r.status_code == 200, r.text

    identify(unique("s"), email=e1)
    identify(unique("s"), email=e2)
    identify(unique("s"), email=e1, phone="+1555" + str(abs(hash(e2)))[:7])
    identify(unique("s"), email=e2, device_id=unique("d"))
    linker = unique("s")
    identify(linker, email=e1)
    identify(linker, email=e2)  # joins the two profiles: a merge
    refused = unique("s")
    identify(refused, user_id=unique("u"))
    identify(refused, user_id=unique("u"))  # a second user_id: refused by the default limit
    r = client.get("/metrics", headers=admin)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    after = r.text

    def delta(name: str, **labels: str) -> float:
        return metric_value(after, name, **labels) - metric_value(before, name, **labels)

    assert delta("idgraph_events_ingested_total", dialect="tracardi") >= 2
    assert delta("idgraph_events_duplicate_total", dialect="tracardi") >= 2
    assert delta("idgraph_merges_refused_total", dialect="tracardi") >= 1  # two user_ids: limit 1
    assert delta("idgraph_http_requests_total", route="/track", method="POST", status="200") >= 2
    assert delta("idgraph_profile_merges_total", dialect="tracardi") >= 1
    assert delta("idgraph_neo4j_query_duration_seconds_count", query="ingest_round") >= 2
    assert "/profiles/" not in after.replace("/profiles/{profile_id}", "")  # templates, never raw ids


def test_metrics_token(settings_env: dict[str, str], tmp_path: Path) -> None:
    env = {
        **settings_env,
        "IDGRAPH_METRICS_TOKEN": "scrape-" + unique("t"),
        "IDGRAPH_DATA_DIR": str(tmp_path),
    }
    with serve_app(env) as server:
        url = server.url
        ok = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {env['IDGRAPH_METRICS_TOKEN']}"})
        assert ok.status_code == 200 and "idgraph_http_requests_total" in ok.text
        # The metrics token opens nothing else.
        other = httpx.get(
            f"{url}/sources", headers={"Authorization": f"Bearer {env['IDGRAPH_METRICS_TOKEN']}"}
        )
        assert other.status_code == 401
