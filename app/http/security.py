"""Browser-facing policy: CORS for the ingestion endpoints only, and security headers on every answer.

CORS: a browser may call the ingestion endpoints (the ones tagged `ingestion`) from the origins in
IDGRAPH_CORS_ORIGINS (`*` for any). Admin and query endpoints never send CORS headers, so a browser page on
another origin cannot read personal data even with a token in hand. Preflights for ingestion are answered
here; others fall through to Litestar's plain OPTIONS answer, without CORS headers.

Headers: every answer says `nosniff` and `no-referrer`; the explorer's pages set their own CSP and frame
policy (app/explorer), and this only fills in a strict default if a page under /explorer ever lacks one.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.types import ASGIApp, Message, Receive, Scope, Send

INGESTION_TAG = "ingestion"
ALLOWED_HEADERS = "content-type, content-encoding, x-source-id, authorization, x-request-id"
EXPLORER_DEFAULTS = {
    b"content-security-policy": b"default-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    b"x-frame-options": b"DENY",
}
ALWAYS = {b"x-content-type-options": b"nosniff", b"referrer-policy": b"no-referrer"}


class CorsPolicy:
    def __init__(self, origins: tuple[str, ...]) -> None:
        self.origins = frozenset(origins)
        self.ingestion_templates: frozenset[str] = frozenset()

    def learn_routes(self, app: Litestar) -> None:
        """The path templates of the ingestion endpoints, read from the built app's handlers' tags."""
        templates = set()
        for route in app.routes:
            for handler in getattr(route, "route_handlers", []):
                if INGESTION_TAG in (handler.tags or []):
                    templates.add(route.path_format)
        self.ingestion_templates = frozenset(templates)

    def allows(self, origin: str, path_template: str) -> bool:
        if not origin or path_template not in self.ingestion_templates:
            return False
        return "*" in self.origins or origin in self.origins


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return ""


def security_middleware_factory(policy: CorsPolicy) -> Any:
    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            origin = _header(scope, b"origin")
            template = str(scope.get("path_template") or "")
            cors = policy.allows(origin, template)
            if cors and scope.get("method") == "OPTIONS" and _header(scope, b"access-control-request-method"):
                headers: list[tuple[bytes, bytes]] = [
                    (b"access-control-allow-origin", origin.encode("latin-1")),
                    (b"access-control-allow-methods", b"POST, OPTIONS"),
                    (b"access-control-allow-headers", ALLOWED_HEADERS.encode()),
                    (b"access-control-max-age", b"600"),
                    (b"vary", b"Origin"),
                    *ALWAYS.items(),
                ]
                start: Any = {"type": "http.response.start", "status": 204, "headers": headers}
                body: Any = {"type": "http.response.body", "body": b"", "more_body": False}
                await send(start)
                await send(body)
                return
            explorer = str(scope.get("path", "")).startswith("/explorer")

            async def send_with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = list(message.get("headers", []))
                    present = {bytes(k).lower() for k, _ in headers}
                    extra = dict(ALWAYS)
                    if explorer:
                        extra.update(EXPLORER_DEFAULTS)
                    if cors:
                        extra[b"access-control-allow-origin"] = origin.encode("latin-1")
                        extra[b"vary"] = b"Origin"
                    headers.extend((k, v) for k, v in extra.items() if k not in present)
                    message["headers"] = headers
                await send(message)

            await app(scope, receive, send_with_headers)

        return middleware

    return factory
