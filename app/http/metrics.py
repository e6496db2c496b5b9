"""`GET /metrics`: Prometheus text format, behind IDGRAPH_METRICS_TOKEN or the admin token; and the ASGI
middleware that counts every request by its route template."""

from __future__ import annotations

import hmac
import time
from typing import Any

from litestar import Response, get
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app import metrics
from app.http.problems import ApiError


async def metrics_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Either token opens /metrics; both comparisons are constant-time, and both always run. A coroutine, so
    Litestar runs it on the event loop rather than in its thread pool (app.http.auth.admin_guard)."""
    scheme, _sep, token = connection.headers.get("authorization", "").partition(" ")
    given = token.strip().encode()
    admin_ok = hmac.compare_digest(given, connection.app.state.admin_token.encode())
    metrics_token = connection.app.state.settings.metrics_token
    metrics_ok = bool(metrics_token) and hmac.compare_digest(given, (metrics_token or "").encode())
    if scheme.lower() != "bearer" or not given or not (admin_ok or metrics_ok):
        raise ApiError(
            401,
            "missing or unknown token (Authorization: Bearer <IDGRAPH_METRICS_TOKEN or admin token>)",
            headers={"WWW-Authenticate": 'Bearer realm="idgraph"'},
        )


@get(
    "/metrics",
    guards=[metrics_guard],
    tags=["metrics"],
    summary="Prometheus metrics (metrics or admin token)",
)
async def metrics_endpoint() -> Response[bytes]:
    return Response(metrics.render(), media_type=metrics.CONTENT_TYPE)


def metrics_middleware(app: ASGIApp) -> ASGIApp:
    """Count every HTTP request by its route template (`/profiles/{profile_id}`), never by its raw path."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, send_status)
        finally:
            route = str(scope.get("path_template") or "unmatched")
            method = str(scope.get("method", ""))
            metrics.REQUESTS.labels(route, method, str(status)).inc()
            metrics.REQUEST_SECONDS.labels(route, method).observe(time.perf_counter() - started)

    return middleware
