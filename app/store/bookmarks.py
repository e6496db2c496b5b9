"""Causal consistency across API replicas: Neo4j bookmarks, per process and per request.

On a Neo4j cluster a read may go to a follower that has not yet applied a write the leader committed a moment
ago. A bookmark names a committed transaction; a transaction started with it waits until its server has
applied that transaction. Two scopes use them:

- the process: every session and `execute_query` of this process share one bookmark manager (the driver's
  `execute_query_bookmark_manager`), so what this process wrote, it reads;
- the request: the bookmarks a client sends (`X-Idgraph-Bookmark`, parsed by app/http/bookmarks.py) are added
  to everything the request runs, and the bookmarks of the request's own writes are collected for its answer,
  so a client that wrote through one replica reads it through another.

Nothing here knows HTTP: `request_scope` is a context variable the HTTP layer opens around a request.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from neo4j.api import AsyncBookmarkManager
from neo4j.exceptions import ClientError

from graph_model.errors import MalformedInput

# What a client may send back: the bookmarks idgraph handed out, comma-separated. A Neo4j 5 bookmark is
# "FB:" and base64; the bounds keep a header from making every transaction carry a kilobyte list.
MAX_BOOKMARKS = 16
_BOOKMARK = re.compile(r"[A-Za-z0-9:+/=_-]{1,256}")
INVALID_BOOKMARK_CODES = frozenset(
    {"Neo.ClientError.Transaction.InvalidBookmark", "Neo.ClientError.Transaction.InvalidBookmarkMixture"}
)


@dataclass
class RequestBookmarks:
    """One request's bookmarks: those it must read after, and those its own writes left."""

    after: frozenset[str] = frozenset()
    written: set[str] = field(default_factory=set)


_REQUEST: ContextVar[RequestBookmarks | None] = ContextVar("idgraph_request_bookmarks", default=None)


def parse_header(value: str) -> frozenset[str]:
    """The bookmarks of an `X-Idgraph-Bookmark` header (comma-separated), or MalformedInput."""
    items = [item.strip() for item in value.split(",") if item.strip()]
    if not items:
        raise MalformedInput("X-Idgraph-Bookmark is empty: send the value an earlier answer carried")
    if len(items) > MAX_BOOKMARKS:
        raise MalformedInput(f"X-Idgraph-Bookmark holds more than {MAX_BOOKMARKS} bookmarks")
    for item in items:
        if not _BOOKMARK.fullmatch(item):
            raise MalformedInput("X-Idgraph-Bookmark is not a bookmark idgraph handed out")
    return frozenset(items)


def format_header(bookmarks: Collection[str]) -> str:
    return ",".join(sorted(bookmarks))


@contextmanager
def request_scope(after: frozenset[str] = frozenset()) -> Iterator[RequestBookmarks]:
    """Open one request's bookmark scope: statements run inside it start after `after`, and the bookmarks
    of the writes they commit are collected in the scope's `written`."""
    scope = RequestBookmarks(after)
    token = _REQUEST.set(scope)
    try:
        yield scope
    finally:
        _REQUEST.reset(token)


def current_request() -> RequestBookmarks | None:
    return _REQUEST.get()


class ScopedBookmarks(AsyncBookmarkManager):
    """The process's bookmark manager seen from one unit of work: it also hands out the request's `after`
    bookmarks, and when `write` is set it records what the unit committed in the request's `written`."""

    def __init__(self, process: AsyncBookmarkManager, request: RequestBookmarks | None, *, write: bool):
        self._process = process
        self._request = request
        self._write = write

    async def get_bookmarks(self) -> Collection[str]:
        bookmarks = set(await self._process.get_bookmarks())
        if self._request is not None:
            bookmarks |= self._request.after
        return bookmarks

    async def update_bookmarks(
        self, previous_bookmarks: Collection[str], new_bookmarks: Collection[str]
    ) -> None:
        await self._process.update_bookmarks(previous_bookmarks, new_bookmarks)
        if self._write and self._request is not None and new_bookmarks:
            written = self._request.written
            written.difference_update(previous_bookmarks)
            written.update(new_bookmarks)


def is_invalid_bookmark(exc: BaseException) -> bool:
    return isinstance(exc, ClientError) and exc.code in INVALID_BOOKMARK_CODES


def invalid_bookmark() -> MalformedInput:
    return MalformedInput("X-Idgraph-Bookmark is not a bookmark of this database")
