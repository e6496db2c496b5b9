"""Taking a bad merge back (admin token): block an alias after the fact, or remove one session-alias link."""

from __future__ import annotations

from litestar import Controller, delete, post
from litestar.params import FromPath

from app.http.auth import admin_guard
from app.http.problems import ApiError, invalid
from app.services import ServicesDep
from app.split import NotFound, SplitResult
from graph_model.urn import InvalidUrn, parse_urn


def _urn(text: str) -> str:
    try:
        return str(parse_urn(text))
    except InvalidUrn as exc:
        raise invalid("$path.urn", str(exc)) from None


class SplitController(Controller):
    guards = [admin_guard]
    tags = ["identity repair"]

    @post(
        "/aliases/{urn:str}/block",
        status_code=200,
        summary="Block an alias: it leaves its profile, never links again, and the profile is re-derived",
    )
    async def block(self, urn: FromPath[str], services: ServicesDep) -> SplitResult:
        normalised = _urn(urn)
        result = await services.split.block_alias(normalised)
        if result is None:
            raise ApiError(404, f"no alias {normalised}")
        return result

    @delete(
        "/sessions/{session_id:str}/aliases/{urn:str}",
        status_code=200,
        summary="Remove the link between a session and an alias, and re-derive the profile",
    )
    async def unlink(
        self, session_id: FromPath[str], urn: FromPath[str], services: ServicesDep
    ) -> SplitResult:
        normalised = _urn(urn)
        try:
            result = await services.split.unlink(session_id, normalised)
        except NotFound as exc:
            raise ApiError(404, str(exc)) from None
        if result is None:
            raise ApiError(404, f"no session {session_id}")
        return result
