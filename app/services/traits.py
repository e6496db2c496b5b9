"""`idgraph traits verify`: the API's traits against a from-scratch recomputation, profile by profile.

idgraph keeps no trait cache: `GET /profiles/{id}` computes traits from the events on every read
(cypher/profile_traits). What can still drift is what that traversal reads: the flat properties enrichment
wrote on each event at ingestion (page URL, UTM, device). `verify` reads each profile's raw events, runs
enrichment and the trait rules again in Python (graph_model.traits) and lists every profile whose traits
differ: after a change of the enrichment rules or a ua-parser rules update, the list says which stored events
are stale. It also checks the Cypher traversal against the Python reference on real data.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec

from app.services.read import ReadQueries, ReadService, native
from app.store.repository import GraphRepository
from graph_model.traits import TraitEvent, compute_traits, recompute_fields

_decode = msgspec.json.decode


class Mismatch(msgspec.Struct):
    profile_id: str
    differences: dict[str, dict[str, Any]]  # trait key -> {"api": ..., "recomputed": ...}


class VerifyReport(msgspec.Struct):
    profiles: int
    mismatched: int
    mismatches: list[Mismatch]


class TraitsVerifier(ReadQueries):
    def __init__(self, store: GraphRepository) -> None:
        super().__init__(store)
        self._read = ReadService(store)

    async def recompute(self, live_profile_id: str) -> dict[str, Any] | None:
        """Traits from the raw events, with enrichment run again; None when there is no such live profile."""
        rows = await self._rows("profile_trait_events", profile_id=live_profile_id)
        if not rows:
            return None
        events = [
            TraitEvent(
                id=e["id"],
                type=e["type"],
                time=native(e["time"]),
                trait_keys=e["trait_keys"],
                trait_values=e["trait_values"],
                fields=recompute_fields(
                    _decode(e["properties_json"] or "{}"),
                    _decode(e["context_json"] or "{}"),
                    e["user_agent"],
                    e["client_ip"],
                ),
            )
            for e in rows[0]["events"]
        ]
        return compute_traits(events, rows[0]["session_count"])

    async def check(self, live_profile_id: str) -> Mismatch | None:
        view = await self._read.profile(live_profile_id)
        if view is None:
            return None  # gone meanwhile (merged or erased)
        recomputed = await self.recompute(view.id)
        if recomputed is None:
            return None
        api = msgspec.to_builtins(view.traits)
        fresh = msgspec.to_builtins(recomputed)
        differences = {
            key: {"api": api.get(key), "recomputed": fresh.get(key)}
            for key in sorted(set(api) | set(fresh))
            if api.get(key) != fresh.get(key)
        }
        return Mismatch(live_profile_id, differences) if differences else None

    async def profile_ids(self, page_size: int = 500) -> AsyncIterator[str]:
        after: str | None = None
        while True:
            rows = await self._rows("profile_ids_page", after_id=after, limit=page_size)
            for row in rows:
                yield row["id"]
            if len(rows) < page_size:
                return
            after = rows[-1]["id"]

    async def verify(self, profile_ids: list[str] | None = None) -> VerifyReport:
        checked = 0
        mismatches: list[Mismatch] = []
        ids = self.profile_ids() if profile_ids is None else _iterate(profile_ids)
        async for profile_id in ids:
            checked += 1
            mismatch = await self.check(profile_id)
            if mismatch is not None:
                mismatches.append(mismatch)
        return VerifyReport(checked, len(mismatches), mismatches)


async def _iterate(items: list[str]) -> AsyncIterator[str]:
    for item in items:
        yield item
