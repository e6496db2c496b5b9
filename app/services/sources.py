"""Event sources: who may send events. Every ingestion call names one; unknown -> 401, disabled -> 403."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec

from app.store.repository import GraphRepository


class Source(msgspec.Struct):
    id: str
    name: str
    enabled: bool
    created_at: datetime


class SourceExists(Exception):
    pass


def _source(row: dict[str, Any]) -> Source:
    created = row["created_at"]
    return Source(
        row["id"],
        row["name"],
        row["enabled"],
        created.to_native() if hasattr(created, "to_native") else created,
    )


class SourceService:
    def __init__(self, store: GraphRepository, cache_seconds: float = 2.0) -> None:
        self._store = store
        # Every ingestion request checks its source. A round trip of its own for that was a tenth of a
        # small request's time, so a found source is remembered for `cache_seconds`: a change made through
        # this process (update) shows at once, one made through another API process within that time.
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Source]] = {}

    async def create(self, name: str, source_id: str | None = None) -> Source:
        request_id = str(uuid.uuid4())
        rows = await self._store.write(
            "source_create",
            id=source_id or str(uuid.uuid4()),
            name=name,
            now=datetime.now(UTC),
            request_id=request_id,
        )
        row = rows[0]
        if not row["created"]:
            raise SourceExists(row["id"])
        return _source(row)

    async def list(self) -> list[Source]:
        return [_source(row) for row in await self._store.read("source_list")]

    async def get_for_ingestion(self, source_id: str) -> Source | None:
        """`get`, served from the short-lived cache when this process read the source a moment ago."""
        hit = self._cache.get(source_id)
        if hit is not None and time.monotonic() - hit[0] < self._cache_seconds:
            return hit[1]
        source = await self.get(source_id)
        if source is None:
            self._cache.pop(source_id, None)  # unknown ids are never cached: a flood of them stays small
        else:
            if len(self._cache) >= 10_000:
                self._cache.clear()
            self._cache[source_id] = (time.monotonic(), source)
        return source

    async def get(self, source_id: str) -> Source | None:
        rows = await self._store.read("source_get", id=source_id)
        return _source(rows[0]) if rows else None

    async def update(
        self, source_id: str, *, enabled: bool | None = None, name: str | None = None
    ) -> Source | None:
        rows = await self._store.write("source_update", id=source_id, enabled=enabled, name=name)
        self._cache.pop(source_id, None)
        return _source(rows[0]) if rows else None
