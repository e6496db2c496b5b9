"""Prometheus metrics: one registry for the process, served by `GET /metrics` (app.http.metrics), which also
counts the HTTP requests; the store times every statement here.

The registry is idgraph's own rather than prometheus_client's global one, so nothing a library registers
leaks into it and several apps in one process (the tests) share one set of series. Labels are bounded: route
templates (never raw paths, which hold ids and URNs), status codes, dialect names, Cypher file names.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

REGISTRY = CollectorRegistry(auto_describe=True)
CONTENT_TYPE = CONTENT_TYPE_LATEST

REQUESTS = Counter(
    "idgraph_http_requests",
    "HTTP requests by route template, method and status",
    ["route", "method", "status"],
    registry=REGISTRY,
)
REQUEST_SECONDS = Histogram(
    "idgraph_http_request_duration_seconds",
    "HTTP request latency by route template",
    ["route", "method"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
EVENTS_INGESTED = Counter(
    "idgraph_events_ingested",
    "Events stored (new, not duplicates) by dialect",
    ["dialect"],
    registry=REGISTRY,
)
DUPLICATES = Counter(
    "idgraph_events_duplicate",
    "Events acknowledged as repeats of stored ones",
    ["dialect"],
    registry=REGISTRY,
)
MERGES = Counter("idgraph_profile_merges", "Profiles merged into another", ["dialect"], registry=REGISTRY)
REFUSED_MERGES = Counter(
    "idgraph_merges_refused", "Aliases kept out of a profile by merge limits", ["dialect"], registry=REGISTRY
)
NEO4J_SECONDS = Histogram(
    "idgraph_neo4j_query_duration_seconds",
    "Neo4j latency: one Cypher statement (by file name) or one ingestion transaction",
    ["query"],
    registry=REGISTRY,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15),
)

# The change feed's webhooks (app/services/webhook_delivery.py): attempts by webhook id and outcome
# (delivered, failed and retried, abandoned after IDGRAPH_WEBHOOK_RETRY_HOURS), and per webhook the age of
# the oldest change it has not had yet (0 when it is up to date). Webhook ids are few, registered by admins.
WEBHOOK_DELIVERIES = Counter(
    "idgraph_webhook_deliveries",
    "Webhook delivery attempts by webhook and outcome",
    ["webhook", "outcome"],
    registry=REGISTRY,
)
FEED_LAG = Gauge(
    "idgraph_webhook_feed_lag_seconds",
    "Age of the oldest change a webhook has not been delivered yet (0: up to date)",
    ["webhook"],
    registry=REGISTRY,
)


def render() -> bytes:
    return generate_latest(REGISTRY)


@contextmanager
def neo4j_timer(query: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        NEO4J_SECONDS.labels(query).observe(time.perf_counter() - started)


def record_ingestion(dialect: str, saved: int, duplicates: int, merges: int, refused: int) -> None:
    EVENTS_INGESTED.labels(dialect).inc(saved)
    DUPLICATES.labels(dialect).inc(duplicates)
    MERGES.labels(dialect).inc(merges)
    REFUSED_MERGES.labels(dialect).inc(refused)


__all__: Sequence[str] = [
    "CONTENT_TYPE",
    "FEED_LAG",
    "REGISTRY",
    "WEBHOOK_DELIVERIES",
    "neo4j_timer",
    "record_ingestion",
    "render",
]
