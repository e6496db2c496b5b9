"""A webhook receiver for the change-feed tests: a small HTTP server on 127.0.0.1 that records every POST and
answers what the test says, and the settings of an API server that delivers to it quickly."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# The delivery worker on, the receivers' host allowed, a short retry schedule and lease.
HOOK_ENV = {
    "IDGRAPH_WEBHOOK_DELIVERY": "on",
    "IDGRAPH_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
    "IDGRAPH_WEBHOOK_BACKOFF_SECONDS": "0.05",
    "IDGRAPH_WEBHOOK_POLL_SECONDS": "0.2",
    "IDGRAPH_WEBHOOK_LEASE_SECONDS": "3",
    "IDGRAPH_WEBHOOK_TIMEOUT_SECONDS": "2",
}


# -- a receiver ------------------------------------------------------------------------------------------


@dataclass
class Received:
    delivery_id: str
    signature: str
    body: bytes
    status: int = 0  # what the receiver answered

    @property
    def change(self) -> dict[str, Any]:
        return dict(json.loads(self.body)["change"])


@dataclass
class Receiver:
    """Records every POST; `answer(n)` gives the status of the n-th request (1-based)."""

    answer: Callable[[int, Received], int] = lambda n, r: 200
    requests: list[Received] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def delivered(self) -> list[Received]:
        """The requests answered 2xx, first time each delivery id was."""
        with self.lock:
            seen: dict[str, Received] = {}
            for r in self.requests:
                if 200 <= r.status < 300:
                    seen.setdefault(r.delivery_id, r)
            return list(seen.values())


@contextmanager
def run_receiver() -> Iterator[Receiver]:
    """A receiver on a free port of 127.0.0.1 until the block ends."""
    recv = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            item = Received(
                self.headers.get("X-Idgraph-Delivery", ""), self.headers.get("X-Idgraph-Signature", ""), body
            )
            with recv.lock:
                recv.requests.append(item)
                n = len(recv.requests)
            status = recv.answer(n, item)
            item.status = status
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    recv.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recv
    finally:
        server.shutdown()
        server.server_close()


def verified(secret: str, r: Received) -> bool:
    """The README's receiver check: the HMAC-SHA256 of the raw body under the webhook's secret."""
    expected = "sha256=" + hmac.new(secret.encode(), r.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, r.signature)


def wait_for(what: Callable[[], bool], timeout: float = 60.0, message: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, f"timed out waiting for {message}"
        time.sleep(0.1)
