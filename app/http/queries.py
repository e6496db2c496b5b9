"""Queries (admin token): which profile owns an alias, a profile, a session, an event."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import FromPath

from app.http.auth import admin_guard
from app.http.problems import ApiError, invalid
from app.read import AliasView, EventView, ProfileView, SessionView
from app.services import ServicesDep
from graph_model.urn import InvalidUrn, parse_urn


class QueryController(Controller):
    guards = [admin_guard]
    tags = ["queries"]

    @get("/aliases/{urn:path}", summary="Which profile owns this alias (the URN is normalised first)")
    async def get_alias(self, urn: FromPath[str], services: ServicesDep) -> AliasView:
        try:
            alias = parse_urn(urn.lstrip("/"))
        except InvalidUrn as exc:
            raise invalid("$path.urn", str(exc)) from None
        view = await services.read.alias(str(alias))
        if view is None:
            raise ApiError(404, f"no alias {alias}")
        return view

    @get("/profiles/{profile_id:str}", summary="A profile by its id or any id merged into it")
    async def get_profile(self, profile_id: FromPath[str], services: ServicesDep) -> ProfileView:
        view = await services.read.profile(profile_id)
        if view is None:
            raise ApiError(404, f"no profile {profile_id}")
        return view

    @get("/sessions/{session_id:str}", summary="A session, its profile and aliases")
    async def get_session(self, session_id: FromPath[str], services: ServicesDep) -> SessionView:
        view = await services.read.session(session_id)
        if view is None:
            raise ApiError(404, f"no session {session_id}")
        return view

    @get("/events/{event_id:str}", summary="An event with its properties, context, session and profile")
    async def get_event(self, event_id: FromPath[str], services: ServicesDep) -> EventView:
        view = await services.read.event(event_id)
        if view is None:
            raise ApiError(404, f"no event {event_id}")
        return view
