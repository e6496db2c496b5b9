"""The objects a running API shares: one driver, one query catalog, and the services built on them."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.di import NamedDependency
from neo4j import AsyncDriver

from app.services.explain import ExplainService
from app.services.ingestion import IngestionService
from app.services.metered_ingestion import MeteredIngestion
from app.store.catalog import QueryCatalog
from app.services.read import ReadService
from app.store.repository import GraphRepository
from app.settings import Settings
from app.services.sources import SourceService
from app.services.split import SplitService


@dataclass(frozen=True)
class Services:
    settings: Settings
    driver: AsyncDriver
    catalog: QueryCatalog
    sources: SourceService
    ingestion: IngestionService
    read: ReadService
    explain: ExplainService
    split: SplitService

    @classmethod
    def build(cls, settings: Settings, driver: AsyncDriver, catalog: QueryCatalog) -> Services:
        db = settings.neo4j_database
        repository = GraphRepository(catalog)
        return cls(
            settings=settings,
            driver=driver,
            catalog=catalog,
            sources=SourceService(driver, catalog, db),
            ingestion=MeteredIngestion(
                driver,
                repository,
                db,
                settings.merge_limits.per_type,
                max_aliases=settings.max_aliases_per_request,
            ),
            read=ReadService(driver, catalog, db),
            explain=ExplainService(driver, catalog, db),
            split=SplitService(driver, repository, db),
        )


# Handlers ask for the services by this name; Litestar injects them from app state.
ServicesDep = NamedDependency[Services]
