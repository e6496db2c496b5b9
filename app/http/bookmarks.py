"""`X-Idgraph-Bookmark`: read-your-writes across API replicas (app/store/bookmarks.py has the why).

Every answer to a request that wrote carries `X-Idgraph-Bookmark`, the Neo4j bookmark of that write. A client
that sends it back on a later request, to any replica, gets an answer that includes the write: the request's
statements start only once their Neo4j server has applied it. Several values (from several writes) may be
sent comma-separated. A header that is not one idgraph handed out is a 400 problem.
"""

from __future__ import annotations

from typing import Any

from app.http.problems import ApiError
from app.store.bookmarks import format_header, parse_header, request_scope
from graph_model.errors import MalformedInput

HEADER = "X-Idgraph-Bookmark"
_HEADER_KEY = HEADER.lower().encode()


def bookmark_middleware(app: Any) -> Any:
    """ASGI middleware: each HTTP request runs in a bookmark scope, after the bookmarks the client sent; the
    answer to one that wrote carries the bookmarks of its writes."""

    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        sent = [value.decode("latin-1") for key, value in scope.get("headers", []) if key == _HEADER_KEY]
        try:
            after = parse_header(",".join(sent)) if sent else frozenset()
        except MalformedInput as exc:
            raise ApiError(400, exc.detail) from None
        with request_scope(after) as bookmarks:

            async def send_with_bookmark(message: Any) -> None:
                if message["type"] == "http.response.start" and bookmarks.written:
                    header = (_HEADER_KEY, format_header(bookmarks.written).encode())
                    message["headers"] = [*message.get("headers", []), header]
                await send(message)

            await app(scope, receive, send_with_bookmark)

    return middleware
