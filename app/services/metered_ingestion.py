"""The ingestion service as the API uses it: request limits checked first, outcomes counted after.

A subclass rather than edits to `app.services.ingestion`, whose transaction and locking protocol stay as
they are:
`ingest` goes through `ingest_many`, so this one override sees every batch the HTTP handlers write.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from app import metrics
from app.services.group_commit import GroupCommit
from app.services.ingestion import IngestionService, IngestResult
from app.store.repository import GraphRepository
from graph_model.errors import invalid
from graph_model.events import DEFAULT_MAX_FUTURE_SKEW, IngestBatch
from graph_model.identity_rules import IdentityRules


def check_aliases(batch: IngestBatch, limit: int) -> None:
    """At most `limit` distinct aliases per batch (a request's own aliases plus those its events carry)."""
    if len(batch.aliases) > limit:
        raise invalid("$.aliases", f"at most {limit} aliases per request")
    if len(batch.all_aliases()) > limit:
        raise invalid("$", f"at most {limit} distinct aliases per request (its events included)")


class MeteredIngestion(IngestionService):
    def __init__(
        self,
        repository: GraphRepository,
        rules: IdentityRules,
        *,
        max_aliases: int,
        max_future_skew: timedelta = DEFAULT_MAX_FUTURE_SKEW,
        group_commit: int = 0,
    ) -> None:
        super().__init__(repository, rules, max_future_skew=max_future_skew)
        self._max_aliases = max_aliases
        # With group commit, requests that wait for a busy transaction slot share the next transaction.
        self._group = GroupCommit(super().ingest_many, in_flight=group_commit) if group_commit else None

    async def ingest_many(self, batches: Sequence[IngestBatch]) -> list[IngestResult]:
        for batch in batches:
            check_aliases(batch, self._max_aliases)
        with metrics.neo4j_timer("ingest_transaction"):
            if self._group is not None:
                results = await self._group.submit(batches)
            else:
                results = await super().ingest_many(batches)
        for batch, result in zip(batches, results, strict=True):
            metrics.record_ingestion(
                batch.dialect, result.saved, result.duplicates, len(result.merges), len(result.refused)
            )
        return results
