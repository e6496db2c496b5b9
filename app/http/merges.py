"""Manual merges and merge suggestions (admin token): an operator's decision where the rules would not join.

`POST /profiles/{id}/merge` joins two profiles whatever the rules say (audited, and kept as evidence so no
split or rebuild undoes it); `GET /merge-suggestions` lists pairs of identified profiles that refused links
connect; `DELETE /merge-suggestions/{a}/{b}` dismisses one for good."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from app.http.auth import admin_guard
from app.http.dependencies import ServicesDep
from app.http.problems import found
from app.services.manual_merge import ManualMerge, SuggestionPage

MAX_SUGGESTIONS_PAGE = 500


class ManualMergeRequest(msgspec.Struct, forbid_unknown_fields=True):
    with_: Annotated[str, msgspec.Meta(min_length=1, max_length=256)] = msgspec.field(name="with")
    reason: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class MergeController(Controller):
    guards = [admin_guard]
    tags = ["identity"]

    @post(
        "/profiles/{profile_id:str}/merge",
        status_code=200,
        summary="Merge two profiles whatever the identity rules say (audited, kept as evidence)",
    )
    async def merge(
        self, profile_id: FromPath[str], data: JSONBody[ManualMergeRequest], services: ServicesDep
    ) -> ManualMerge:
        result = await services.manual_merge.merge(profile_id, data.with_, data.reason)
        return found(result, f"no profile {profile_id} or {data.with_}")

    @get(
        "/merge-suggestions",
        summary="Pairs of identified profiles that refused links connect, most evidence first",
    )
    async def suggestions(
        self,
        services: ServicesDep,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_SUGGESTIONS_PAGE)] = 50,
        cursor: Annotated[str | None, QueryParameter(max_length=64)] = None,
        profile_id: Annotated[str | None, QueryParameter(max_length=256)] = None,
    ) -> SuggestionPage:
        return await services.manual_merge.suggestions(limit=limit, cursor=cursor, profile_id=profile_id)

    @delete(
        "/merge-suggestions/{profile_a:str}/{profile_b:str}",
        status_code=204,
        summary="Dismiss a merge suggestion for good",
    )
    async def dismiss(
        self, profile_a: FromPath[str], profile_b: FromPath[str], services: ServicesDep
    ) -> None:
        await services.manual_merge.dismiss(profile_a, profile_b)
