"""A webhook for the benchmarks: `make bench` measures ingestion with one webhook registered (issue 19), so
that the change feed's writes and the API's delivery worker are part of what is measured.

`WebhookSink` is a receiver on a free 127.0.0.1 port that answers 204 and counts what it got; `register`
registers it for every identity change type on an API whose IDGRAPH_WEBHOOK_ALLOWED_HOSTS allows 127.0.0.1
(`SINK_ENV`)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from graph_model.changes import CHANGE_TYPES

SINK_ENV = {"IDGRAPH_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1"}


class WebhookSink:
    def __init__(self) -> None:
        self.received = 0
        lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with lock:
                    sink.received += 1
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookSink:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def register(api_url: str, admin_token: str, sink_url: str) -> str:
    """Register `sink_url` for every identity change type; the webhook's id."""
    response = httpx.post(
        f"{api_url}/webhooks",
        json={"url": sink_url, "types": list(CHANGE_TYPES)},
        headers={"Authorization": f"Bearer {admin_token}"},
        timeout=60,
    )
    if response.status_code != 201:
        raise RuntimeError(f"POST /webhooks -> {response.status_code} {response.text[:300]}")
    return str(response.json()["id"])
