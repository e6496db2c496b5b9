"""`/aliases/{urn}` (admin token): which profile owns an alias, and blocking one after the fact.

A URN may hold a '/' (app/http/urn_path.py), so both routes take the rest of the path, and one controller
serves them: Litestar gives each path one route, and a second controller on it would register its OPTIONS
handler twice."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import FromPath

from app.http.auth import admin_guard
from app.http.dependencies import ServicesDep
from app.http.problems import found
from app.http.urn_path import urn_before_action, urn_in_path
from app.services.read import AliasView
from app.services.split import SplitResult


class AliasController(Controller):
    path = "/aliases"
    guards = [admin_guard]

    @get(
        "/{urn:path}", tags=["queries"], summary="Which profile owns this alias (the URN is normalised first)"
    )
    async def get_alias(self, urn: FromPath[str], services: ServicesDep) -> AliasView:
        alias = urn_in_path(urn)
        return found(await services.read.alias(alias), f"no alias {alias}")

    @post(
        "/{urn:path}",
        status_code=200,
        tags=["identity repair"],
        summary="POST /aliases/{urn}/block: block an alias; it leaves its profile, never links again, "
        "and the profile is re-derived",
    )
    async def block(self, urn: FromPath[str], services: ServicesDep) -> SplitResult:
        alias = urn_before_action(urn, "block")
        return found(await services.split.block_alias(alias), f"no alias {alias}")
