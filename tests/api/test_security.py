"""Security (issue 9.6) and metrics (issue 9.7): no Cypher built from input, constant-time token checks,
CORS only where configured, security headers, and /metrics behind a token."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import httpx
from litestar.testing import TestClient

from tests.appserver import serve
from tests.conftest import ADMIN_TOKEN, metric_value, unique

APP = Path(__file__).resolve().parent.parent / "app"
DRIVER_CALLS = {"run", "execute_query"}


def _query_arg(call: ast.Call) -> ast.expr | None:
    if call.args:
        return call.args[0]
    return next((k.value for k in call.keywords if k.arg in ("query", "query_")), None)


def test_every_driver_call_runs_catalog_cypher() -> None:
    """Each tx.run / session.run / execute_query in app/ takes its statement from the query catalog (files
    in cypher/) — a subscript like self._q["name"] or a name bound to one — never an f-string, a
    concatenation, a %-format or .format() that could splice input into Cypher."""
    offenders: list[str] = []
    calls = 0
    for path in sorted(APP.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr not in DRIVER_CALLS:
                continue
            receiver = ast.unparse(node.func.value)
            if node.func.attr == "run" and not re.search(r"(tx|session|driver)$", receiver, re.IGNORECASE):
                continue  # asyncio.run, uvicorn.run, importer.run: not the driver
            query = _query_arg(node)
            if query is None:
                continue
            calls += 1
            where = f"{path.relative_to(APP.parent)}:{node.lineno}"
            built = (
                isinstance(query, ast.JoinedStr | ast.BinOp)
                or (
                    isinstance(query, ast.Call)
                    and isinstance(query.func, ast.Attribute)
                    and query.func.attr in ("format", "join", "replace")
                )
                or (isinstance(query, ast.Constant) and isinstance(query.value, str))
            )
            if built or not isinstance(query, ast.Subscript | ast.Name | ast.Attribute):
                offenders.append(f"{where}: {ast.unparse(query)}")
    assert calls >= 5
    assert not offenders, offenders
    # And no Cypher text sits in Python source outside the catalog loader.
    cypher_words = re.compile(r"\b(MATCH|MERGE|CREATE|DETACH DELETE)\s*\(", re.MULTILINE)
    inline = [
        str(p.relative_to(APP.parent))
        for p in APP.rglob("*.py")
        if cypher_words.search(p.read_text()) and p.name != "queries.py"
    ]
    assert not inline, inline


def test_token_comparisons_are_constant_time() -> None:
    for name in ("http/auth.py", "http/metrics.py"):
        text = (APP / name).read_text()
        assert "hmac.compare_digest" in text
        assert not re.search(r"token\s*[!=]=\s*(expected|.*admin_token)", text)


def test_cors_open_for_ingestion_closed_for_admin(settings_env: dict[str, str], tmp_path: Path) -> None:
    env = {**settings_env, "IDGRAPH_CORS_ORIGINS": "https://shop.example", "IDGRAPH_DATA_DIR": str(tmp_path)}
    with serve(env) as url, httpx.Client(base_url=url, timeout=60) as http:
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
            r = http.get(
                path, headers={"Origin": "https://shop.example", "Authorization": f"Bearer {ADMIN_TOKEN}"}
            )
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
    with serve(env) as url:
        ok = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {env['IDGRAPH_METRICS_TOKEN']}"})
        assert ok.status_code == 200 and "idgraph_http_requests_total" in ok.text
        # The metrics token opens nothing else.
        other = httpx.get(
            f"{url}/sources", headers={"Authorization": f"Bearer {env['IDGRAPH_METRICS_TOKEN']}"}
        )
        assert other.status_code == 401
