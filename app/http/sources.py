"""Admin: event sources (`POST/GET/PATCH /sources`)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, get, patch, post
from litestar.params import FromPath, JSONBody

from app.http.auth import admin_guard
from app.http.dependencies import ServicesDep
from app.http.problems import ApiError, found
from app.services.sources import Source, SourceExists

SourceId = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")]


class NewSource(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    id: SourceId | None = None


class SourcePatch(msgspec.Struct):
    enabled: bool | None = None
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=256)] | None = None


class SourceController(Controller):
    path = "/sources"
    guards = [admin_guard]
    tags = ["sources"]

    @post("/", status_code=201, summary="Register an event source")
    async def create(self, data: JSONBody[NewSource], services: ServicesDep) -> Source:
        try:
            return await services.sources.create(data.name, data.id)
        except SourceExists:
            raise ApiError(409, f"source {data.id!r} already exists") from None

    @get("/", summary="List event sources")
    async def list_sources(self, services: ServicesDep) -> list[Source]:
        return await services.sources.list()

    @patch("/{source_id:str}", summary="Enable or disable a source (or rename it)")
    async def update(
        self, source_id: FromPath[str], data: JSONBody[SourcePatch], services: ServicesDep
    ) -> Source:
        return found(
            await services.sources.update(source_id, enabled=data.enabled, name=data.name),
            f"no source {source_id!r}",
        )
