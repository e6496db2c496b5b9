"""Right to be forgotten (admin token): `DELETE /profiles/{id}` erases the profile's whole component.

The handler joins the query controller (a subclass served in its place) because Litestar gives each path one
route: a second controller on `/profiles/{profile_id}` would register its OPTIONS handler twice."""

from __future__ import annotations

from litestar import delete
from litestar.params import FromPath

from app.http.auth import admin_guard
from app.http.dependencies import ServicesDep
from app.http.problems import ApiError
from app.http.profiles import QueryController


class QueryAndEraseController(QueryController):
    guards = [admin_guard]

    @delete(
        "/profiles/{profile_id:str}",
        status_code=204,
        tags=["privacy"],
        summary="Erase a profile (by any id it had): its events, sessions, aliases, audit and merged ids",
    )
    async def erase_profile(self, profile_id: FromPath[str], services: ServicesDep) -> None:
        if await services.erase.erase_profile(profile_id) is None:
            raise ApiError(404, f"no profile {profile_id}")
