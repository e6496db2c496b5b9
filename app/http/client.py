"""The client of an ingestion request, for enrichment: its user agent and its IP, protected before use.

The IP is the peer address of the connection (idgraph runs without proxy-header trust; a deployment behind a
proxy that sets the peer from X-Forwarded-For does so in its ASGI server). A dialect may name the end user's
IP itself (Segment's `context.ip`, sent by server-side libraries); that one wins. Either way only the
protected form (IDGRAPH_IP_MODE) leaves this function.
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from app.settings import Settings
from graph_model.enrichment import ClientInfo, protect_ip


def client_info(request: Request[Any, Any, Any], settings: Settings, *, ip: Any = None) -> ClientInfo:
    raw_ip = ip if isinstance(ip, str) and ip.strip() else (request.client.host if request.client else None)
    key = settings.ip_hash_key.encode() if settings.ip_hash_key else None
    return ClientInfo(
        user_agent=request.headers.get("user-agent") or None,
        ip=protect_ip(raw_ip, settings.ip_mode, key),
    )
