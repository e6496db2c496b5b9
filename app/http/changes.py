"""The identity change feed and webhooks (admin token): `GET /changes`, `POST/GET /webhooks`,
`DELETE /webhooks/{id}`, `GET /webhooks/{id}/deliveries`."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from app.http.auth import admin_guard
from app.http.dependencies import ServicesDep
from app.http.problems import ApiError, found
from app.services.changes import ChangePage, CursorExpired, DeliveryPage, Webhook, WebhookPage

MAX_CHANGES_PAGE = 1000
MAX_DELIVERIES_PAGE = 1000

TypeName = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class NewWebhook(msgspec.Struct, forbid_unknown_fields=True):
    url: Annotated[str, msgspec.Meta(min_length=1, max_length=2048)]
    types: Annotated[list[TypeName], msgspec.Meta(max_length=32)]
    event_types: Annotated[list[TypeName], msgspec.Meta(max_length=100)] = []
    secret: Annotated[str, msgspec.Meta(min_length=16, max_length=256)] | None = None


class ChangesController(Controller):
    guards = [admin_guard]
    tags = ["changes"]

    @get("/changes", summary="The identity changes in commit order, after an opaque cursor")
    async def changes(
        self,
        services: ServicesDep,
        after: Annotated[str | None, QueryParameter(max_length=200)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_CHANGES_PAGE)] = 100,
        types: Annotated[str | None, QueryParameter(max_length=1000)] = None,
    ) -> ChangePage:
        wanted = [t.strip() for t in types.split(",") if t.strip()] if types else None
        try:
            return await services.changes.page(after=after, limit=limit, types=wanted)
        except CursorExpired as exc:
            raise ApiError(410, exc.detail) from None


class WebhookController(Controller):
    path = "/webhooks"
    guards = [admin_guard]
    tags = ["changes"]

    @post("/", status_code=201, summary="Register a webhook (its secret is answered this once)")
    async def create(self, data: JSONBody[NewWebhook], services: ServicesDep) -> Webhook:
        return await services.webhooks.register(data.url, data.types, data.event_types, data.secret)

    @get("/", summary="The webhooks (never their secrets)")
    async def list_webhooks(self, services: ServicesDep) -> WebhookPage:
        return await services.webhooks.list()

    @delete("/{webhook_id:str}", status_code=204, summary="Remove a webhook and its delivery record")
    async def remove(self, webhook_id: FromPath[str], services: ServicesDep) -> None:
        if not await services.webhooks.delete(webhook_id):
            raise ApiError(404, f"no webhook {webhook_id}")

    @get("/{webhook_id:str}/deliveries", summary="A webhook's delivery attempts, newest first")
    async def deliveries(
        self,
        webhook_id: FromPath[str],
        services: ServicesDep,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_DELIVERIES_PAGE)] = 100,
    ) -> DeliveryPage:
        return found(await services.webhooks.deliveries(webhook_id, limit), f"no webhook {webhook_id}")
