from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from app import VERSION
from app.http.dependencies import ServicesDep


@get("/health", tags=["health"], summary="Liveness and Neo4j reachability (open, no token)")
async def health(request: Request[Any, Any, Any], services: ServicesDep) -> Response[dict[str, Any]]:
    try:
        up = await services.store.ping()
    except Exception:  # any failure to reach Neo4j means "down" here; the reason goes to the logs
        up = False
    body = {"status": "ok" if up else "unavailable", "neo4j": "up" if up else "down", "version": VERSION}
    return Response(body, status_code=200 if up else 503, headers=None if up else {"Retry-After": "5"})
