"""`idgraph traits verify`: the API's traits against the traversal and a from-scratch recomputation.

`GET /profiles/{id}` answers traits from the profile's stored fold (graph_model/trait_fold.py, kept by
app/services/trait_folds.py); `?fresh=true` computes them by traversing the events (cypher/profile_traits),
which is the definition. `verify` compares, profile by profile, the stored answer, the traversal, and a
recomputation in Python from the raw events with enrichment run again (graph_model.traits): a difference
between the first two is a fold that went wrong; one with the third, a stored event whose enrichment
properties are stale (a change of the enrichment rules, a ua-parser rules update).
`idgraph traits rebuild` recomputes every profile's fold from its events (data written before the fold).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec

from app.services.read import ReadQueries, ReadService, native
from app.services.trait_folds import TraitFolds
from app.store.repository import GraphRepository
from graph_model.traits import TraitEvent, compute_traits, recompute_fields

_decode = msgspec.json.decode


class Mismatch(msgspec.Struct):
    profile_id: str
    # trait key -> {"api": the stored fold's answer, "traversed": ?fresh=true's, "recomputed": ...}
    differences: dict[str, dict[str, Any]]


class VerifyReport(msgspec.Struct):
    profiles: int
    mismatched: int
    mismatches: list[Mismatch]


class TraitsVerifier(ReadQueries):
    def __init__(self, store: GraphRepository) -> None:
        super().__init__(store)
        self._store = store
        self._read = ReadService(store)
        self._folds = TraitFolds(store)

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
        traversed_view = await self._read.profile(view.id, fresh=True)
        recomputed = await self.recompute(view.id)
        if recomputed is None or traversed_view is None:
            return None
        api = msgspec.to_builtins(view.traits)
        traversed = msgspec.to_builtins(traversed_view.traits)
        fresh = msgspec.to_builtins(recomputed)
        differences = {
            key: {"api": api.get(key), "traversed": traversed.get(key), "recomputed": fresh.get(key)}
            for key in sorted(set(api) | set(traversed) | set(fresh))
            if not api.get(key) == traversed.get(key) == fresh.get(key)
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

    async def rebuild(self, profile_ids: list[str] | None = None) -> int:
        """Recompute the traits fold of every profile (or of these) from its events, one transaction each."""
        done = 0
        ids = self.profile_ids() if profile_ids is None else _iterate(profile_ids)
        async for profile_id in ids:
            await self._store.write_unit(self._folds.recompute_from_events, [profile_id])
            done += 1
        return done

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
