"""Taking a bad merge back (admin token): remove one session-alias link. Blocking an alias after the fact
is in app/http/aliases.py."""

from __future__ import annotations

from litestar import Controller, delete
from litestar.params import FromPath

from app.http.auth import admin_guard
from app.http.dependencies import ServicesDep
from app.http.problems import ApiError, found
from app.http.urn_path import urn_in_path
from app.services.split import NotFound, SplitResult


class SplitController(Controller):
    guards = [admin_guard]
    tags = ["identity repair"]

    @delete(
        "/sessions/{session_id:str}/aliases/{urn:path}",
        status_code=200,
        summary="Remove the link between a session and an alias, and re-derive the profile",
    )
    async def unlink(
        self, session_id: FromPath[str], urn: FromPath[str], services: ServicesDep
    ) -> SplitResult:
        normalised = urn_in_path(urn)
        try:
            result = await services.split.unlink(session_id, normalised)
        except NotFound as exc:
            raise ApiError(404, str(exc)) from None
        return found(result, f"no session {session_id}")
