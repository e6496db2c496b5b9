"""`GET /metrics`: Prometheus text format, behind IDGRAPH_METRICS_TOKEN or the admin token."""

from __future__ import annotations

import hmac
from typing import Any

from litestar import Response, get
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from app import metrics
from app.http.problems import ApiError


def metrics_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Either token opens /metrics; both comparisons are constant-time, and both always run."""
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
