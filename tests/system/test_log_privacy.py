"""Privacy (issue 9.5): no personal data in the logs, read from an app process that logs everything."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import serve_app, unique


@pytest.fixture
def debug_server(settings_env: dict[str, str], tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The app in its own process, logging everything (DEBUG, JSON) to a file the test reads."""
    log_path = tmp_path / "server.log"
    env = {
        **settings_env,
        "IDGRAPH_LOG_LEVEL": "DEBUG",
        "IDGRAPH_LOG_FORMAT": "json",
        "IDGRAPH_DATA_DIR": str(tmp_path),
        "IDGRAPH_PURGE_INTERVAL_SECONDS": "0",
    }
    with serve_app(env, log_file=log_path) as server:
        yield server.url, log_path


def test_personal_data_never_reaches_the_logs(debug_server: Any, admin: dict[str, str]) -> None:
    url, log_path = debug_server
    email, phone = "Secret.Person@Example.com", "+4915799887766"
    source = unique("logsrc")
    with httpx.Client(base_url=url, timeout=60) as http:
        assert http.post("/sources", json={"id": source, "name": "logs"}, headers=admin).status_code == 201
        session = unique("s")
        body = {
            "source": {"id": source},
            "session": {"id": session},
            "events": [{"type": "identify", "properties": {"email": email, "phone": phone}}],
            "aliases": [f"urn:email:{email}", f"urn:phone:{phone}"],
        }
        assert http.post("/track", json=body).status_code == 200
        assert (
            http.post(
                "/v1/identify",
                json={"userId": "u1", "traits": {"email": email, "phone": phone}},
                auth=(source, ""),
            ).status_code
            == 200
        )
        assert http.get(f"/aliases/urn:email:{email}", headers=admin).status_code == 200
        assert http.get(f"/aliases/urn:phone:{phone}", headers=admin).status_code == 200
        assert http.post(f"/aliases/urn:email:{email}x/block", headers=admin).status_code == 404
        bad = {**body, "aliases": [f"urn:Bad Type:{email}"]}
        assert http.post("/track", json=bad).status_code == 422
        profile = http.get(f"/aliases/urn:email:{email}", headers=admin).json()["profile"]["id"]
        assert http.delete(f"/profiles/{profile}", headers=admin).status_code == 204
    time.sleep(0.5)
    text = log_path.read_text()
    assert '"request"' in text  # the access lines were written (so there was something to check)
    lowered = text.lower()
    for secret in (email.lower(), phone, phone[1:], "secret.person"):
        assert secret.lower() not in lowered, f"{secret} in the logs"
