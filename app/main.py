"""The Litestar application: wiring only. Routes live in `app.http`, rules in `graph_model`."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import neo4j.exceptions as neo4j_errors
import structlog
from litestar import Litestar
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app import VERSION
from app.http.bookmarks import bookmark_middleware
from app.http.dependencies import DEPENDENCIES
from app.http.limits import body_timeout_middleware_factory
from app.http.metrics import metrics_middleware
from app.http.openapi_problems import document_problems
from app.http.problems import (
    database_unavailable_handler,
    domain_error_handler,
    http_exception_handler,
    internal_error_handler,
)
from app.http.routes import ROUTE_HANDLERS
from app.http.security import CorsPolicy, security_middleware_factory
from app.logging import configure_logging, get_logger
from app.services.container import Services
from app.services.retention import purge_periodically
from app.services.warmup import warm_up
from app.services.webhook_delivery import DeliveryWorker
from app.settings import Settings, load_settings
from app.store.catalog import catalog
from app.store.driver import create_driver
from graph_model.errors import DomainError
from graph_model.urn import set_default_phone_region

log = get_logger("idgraph")


def resolve_admin_token(settings: Settings) -> str:
    """IDGRAPH_ADMIN_TOKEN, or a token generated once and kept in the data dir (printed when generated)."""
    if settings.admin_token:
        return settings.admin_token
    path = Path(settings.data_dir) / "admin-token"
    if path.exists():
        token = path.read_text().strip()
        if token:
            log.info("admin token read from file", path=str(path))
            return token
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    path.write_text(token + "\n")
    path.chmod(0o600)
    print(
        f"\n  idgraph admin token (IDGRAPH_ADMIN_TOKEN was not set; kept in {path}):\n\n    {token}\n",
        flush=True,
    )
    return token


def request_context_middleware(app: ASGIApp) -> ASGIApp:
    """Bind a request id to every log line of a request and write one access line when it ends."""
    access = get_logger("idgraph.access")

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        request_id = next(
            (v.decode() for k, v in scope.get("headers", []) if k == b"x-request-id" and 0 < len(v) <= 128),
            str(uuid.uuid4()),
        )
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            access.info(
                "request",
                method=scope.get("method"),
                path=scope.get("path"),
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )
            structlog.contextvars.clear_contextvars()

    return middleware


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or load_settings()
    configure_logging(settings)
    # One region per process: the dialects and the lookups read phone numbers alike (graph_model.urn).
    set_default_phone_region(settings.default_phone_region)
    queries = catalog()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        driver = create_driver(settings)
        purge_task: asyncio.Task[None] | None = None
        delivery_task: asyncio.Task[None] | None = None
        try:
            services = Services.build(settings, driver, queries)
            await services.store.bootstrap_schema()
            app.state.services = services
            app.state.warmed_up = await warm_up(services)
            if settings.purge_interval_seconds > 0:
                purge_task = asyncio.create_task(
                    purge_periodically(services.retention, settings.purge_interval_seconds),
                    name="anonymous-purge",
                )
            # The webhook delivery worker (app/services/webhook_delivery.py), with the change feed's purge.
            if settings.webhook_delivery:
                delivery_task = asyncio.create_task(
                    DeliveryWorker(
                        services.store,
                        services.changes,
                        allowed_hosts=settings.webhook_allowed_hosts,
                        retry_hours=settings.webhook_retry_hours,
                        backoff_seconds=settings.webhook_backoff_seconds,
                        backoff_max_seconds=settings.webhook_backoff_max_seconds,
                        poll_seconds=settings.webhook_poll_seconds,
                        lease_seconds=settings.webhook_lease_seconds,
                        timeout_seconds=settings.webhook_timeout_seconds,
                    ).run(),
                    name="webhook-delivery",
                )
            log.info("idgraph ready", neo4j=settings.neo4j_uri, database=settings.neo4j_database)
            yield
        finally:
            if delivery_task is not None:
                delivery_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await delivery_task
            if purge_task is not None:
                purge_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await purge_task
            await driver.close()

    exception_handlers: dict[Any, Any] = {
        HTTPException: http_exception_handler,
        DomainError: domain_error_handler,
        neo4j_errors.ServiceUnavailable: database_unavailable_handler,
        neo4j_errors.SessionExpired: database_unavailable_handler,
        neo4j_errors.TransientError: database_unavailable_handler,
        Exception: internal_error_handler,
    }
    cors = CorsPolicy(settings.cors_origins)
    app = Litestar(
        route_handlers=ROUTE_HANDLERS,
        dependencies=DEPENDENCIES,
        lifespan=[lifespan],
        state=State({"admin_token": resolve_admin_token(settings), "settings": settings}),
        exception_handlers=exception_handlers,
        middleware=[
            request_context_middleware,
            metrics_middleware,
            security_middleware_factory(cors),
            body_timeout_middleware_factory(settings.body_read_timeout_seconds),
            bookmark_middleware,
        ],
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(title="idgraph", version=VERSION, path="/schema"),
        # Logging is structlog's (app.logging), configured before the app is built.
        logging_config=None,
        debug=False,
    )
    cors.learn_routes(app)
    # Document the problem+json error answers of every operation (the schema is built once, here).
    document_problems(app.openapi_schema)
    return app


def app_from_env() -> Litestar:
    """ASGI factory for `uvicorn --factory app.main:app_from_env`."""
    return create_app()
