"""Explanation endpoints (admin token): the component graph, why two aliases are linked, the audit."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import FromPath, QueryParameter

from app.http.auth import admin_guard
from app.http.dependencies import ServicesDep
from app.http.problems import found, invalid
from app.services.explain import AuditList, ComponentGraph, PathAnswer
from graph_model.urn import InvalidUrn, parse_urn

MAX_GRAPH_NODES = 5000


def _urn(text: str, path: str) -> str:
    try:
        return str(parse_urn(text))
    except InvalidUrn as exc:
        raise invalid(path, str(exc)) from None


class ExplainController(Controller):
    guards = [admin_guard]
    tags = ["explanation"]

    @get("/profiles/{profile_id:str}/graph", summary="The identity component: aliases, sessions, id handles")
    async def graph(
        self,
        profile_id: FromPath[str],
        services: ServicesDep,
        limit: Annotated[int, QueryParameter(name="limit", ge=1, le=MAX_GRAPH_NODES)] = 500,
        events: Annotated[bool, QueryParameter(name="events")] = False,
    ) -> ComponentGraph:
        return found(
            await services.explain.graph(profile_id, limit=limit, with_events=events),
            f"no profile {profile_id}",
        )

    @get("/paths", summary="Why two aliases are in one profile: the shortest chain of evidence")
    async def paths(
        self,
        services: ServicesDep,
        from_urn: Annotated[str, QueryParameter(name="from")],
        to_urn: Annotated[str, QueryParameter(name="to")],
    ) -> PathAnswer:
        return await services.explain.path(_urn(from_urn, "$query.from"), _urn(to_urn, "$query.to"))

    @get("/profiles/{profile_id:str}/merges", summary="Merges, refused merges and splits of a profile")
    async def merges(
        self,
        profile_id: FromPath[str],
        services: ServicesDep,
        limit: Annotated[int, QueryParameter(name="limit", ge=1, le=1000)] = 100,
    ) -> AuditList:
        return found(await services.explain.merges(profile_id, limit), f"no profile {profile_id}")
