"""Queries (admin token): a profile (its traits, events, sessions), a session, an event. Which profile owns an
alias is in app/http/aliases.py."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import FromPath, QueryParameter

from app.http.auth import admin_guard
from app.http.dependencies import ServicesDep
from app.http.problems import ApiError, found
from app.services.read import (
    EventPage,
    EventView,
    InvalidCursor,
    ProfileView,
    SessionPage,
    SessionView,
)

MAX_PAGE = 200
Limit = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE, description="items per page (1-200)")]
Cursor = Annotated[
    str | None,
    QueryParameter(max_length=512, description="next_cursor of the previous page; absent for the first page"),
]


class QueryController(Controller):
    guards = [admin_guard]
    tags = ["queries"]

    @get("/profiles/{profile_id:str}", summary="A profile by its id or any id merged into it")
    async def get_profile(
        self,
        profile_id: FromPath[str],
        services: ServicesDep,
        fresh: Annotated[
            bool,
            QueryParameter(
                description="compute the traits by traversing the profile's events (the definition) instead "
                "of answering from their stored fold"
            ),
        ] = False,
    ) -> ProfileView:
        return found(await services.read.profile(profile_id, fresh=fresh), f"no profile {profile_id}")

    @get(
        "/profiles/{profile_id:str}/events",
        summary="A profile's events, newest first (keyset pagination: pass next_cursor as cursor)",
    )
    async def get_profile_events(
        self,
        profile_id: FromPath[str],
        services: ServicesDep,
        limit: Limit = 50,
        cursor: Cursor = None,
        event_type: Annotated[
            str | None, QueryParameter(name="type", max_length=128, description="only events of this type")
        ] = None,
    ) -> EventPage:
        try:
            page = await services.read.events_page(
                profile_id, limit=limit, cursor=cursor, event_type=event_type
            )
        except InvalidCursor as exc:
            raise ApiError(400, f"cursor: {exc}") from None
        return found(page, f"no profile {profile_id}")

    @get(
        "/profiles/{profile_id:str}/sessions",
        summary="A profile's sessions, newest first (keyset pagination: pass next_cursor as cursor)",
    )
    async def get_profile_sessions(
        self, profile_id: FromPath[str], services: ServicesDep, limit: Limit = 50, cursor: Cursor = None
    ) -> SessionPage:
        try:
            page = await services.read.sessions_page(profile_id, limit=limit, cursor=cursor)
        except InvalidCursor as exc:
            raise ApiError(400, f"cursor: {exc}") from None
        return found(page, f"no profile {profile_id}")

    @get("/sessions/{session_id:str}", summary="A session, its profile and aliases")
    async def get_session(self, session_id: FromPath[str], services: ServicesDep) -> SessionView:
        return found(await services.read.session(session_id), f"no session {session_id}")

    @get("/events/{event_id:str}", summary="An event with its properties, context, session and profile")
    async def get_event(self, event_id: FromPath[str], services: ServicesDep) -> EventView:
        return found(await services.read.event(event_id), f"no event {event_id}")
