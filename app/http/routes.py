"""Every route the API serves, in one list: a controller or handler per resource, each calling a service."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from app.explorer import explorer_page, explorer_static
from app.http.aliases import AliasController
from app.http.changes import ChangesController, WebhookController
from app.http.converge import converge
from app.http.erasure import QueryAndEraseController
from app.http.esp import esp_events
from app.http.explanations import ExplainController
from app.http.health import health
from app.http.identity import identity_rules
from app.http.loymax import web_events
from app.http.merges import MergeController
from app.http.metrics import metrics_endpoint
from app.http.repairs import SplitController
from app.http.segment import segment_batch, segment_message
from app.http.sources import SourceController
from app.http.tracardi import collect, track

ROUTE_HANDLERS: list[ControllerRouterHandler] = [
    health,
    SourceController,
    # Ingestion, one handler per dialect.
    track,
    collect,
    esp_events,
    converge,
    web_events,
    segment_batch,
    segment_message,
    # Queries, explanations and repairs (admin).
    identity_rules,
    AliasController,
    QueryAndEraseController,
    ExplainController,
    SplitController,
    MergeController,
    # The change feed and its webhooks (admin).
    ChangesController,
    WebhookController,
    explorer_page,
    explorer_static(),
    metrics_endpoint,
]
