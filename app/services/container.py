"""The services a process shares, built in one place: the API's lifespan, the CLI and the background purge
all get them from `Services.build`, so every caller runs the same use cases over the same repository."""

from __future__ import annotations

from dataclasses import dataclass

from neo4j import AsyncDriver

from app.services.changes import ChangeFeed, WebhookRegistry
from app.services.erase import EraseService
from app.services.explain import ExplainService
from app.services.ingestion import IngestionService
from app.services.manual_merge import ManualMergeService
from app.services.metered_ingestion import MeteredIngestion
from app.services.read import ReadService
from app.services.rebuild import RebuildService
from app.services.renormalize import RenormalizeService
from app.services.retention import RetentionService
from app.services.sources import SourceService
from app.services.split import SplitService
from app.services.traits import TraitsVerifier
from app.settings import Settings
from app.store.catalog import QueryCatalog, catalog
from app.store.repository import GraphRepository


@dataclass(frozen=True)
class Services:
    settings: Settings
    store: GraphRepository
    sources: SourceService
    # The API's ingestion: request limits checked, outcomes counted for /metrics.
    ingestion: IngestionService
    # The same use case without the request limits and counters, for bulk import and benchmarks.
    bulk_ingestion: IngestionService
    read: ReadService
    explain: ExplainService
    split: SplitService
    erase: EraseService
    retention: RetentionService
    traits: TraitsVerifier
    manual_merge: ManualMergeService
    rebuild: RebuildService
    renormalize: RenormalizeService
    # The change feed and its webhooks (issue 19); the delivery worker is the API's (app.main lifespan).
    changes: ChangeFeed
    webhooks: WebhookRegistry

    @classmethod
    def build(cls, settings: Settings, driver: AsyncDriver, queries: QueryCatalog | None = None) -> Services:
        store = GraphRepository(driver, queries or catalog(), settings.neo4j_database)
        rules = settings.identity_rules
        return cls(
            settings=settings,
            store=store,
            sources=SourceService(store, settings.source_cache_seconds),
            ingestion=MeteredIngestion(
                store,
                rules,
                max_aliases=settings.max_aliases_per_request,
                max_future_skew=settings.max_future_skew,
                group_commit=settings.group_commit,
            ),
            bulk_ingestion=IngestionService(store, rules, max_future_skew=settings.max_future_skew),
            read=ReadService(store),
            explain=ExplainService(store),
            split=SplitService(store),
            erase=EraseService(store),
            retention=RetentionService(store, settings.anonymous_retention_days),
            traits=TraitsVerifier(store),
            manual_merge=ManualMergeService(store, settings.identity_rules),
            rebuild=RebuildService(store, rules),
            renormalize=RenormalizeService(store, rules, settings.default_phone_region),
            changes=ChangeFeed(store, settings.changes_retention_days, settings.changes_settle_seconds),
            webhooks=WebhookRegistry(store, settings.webhook_allowed_hosts),
        )
