"""Keeping the traits fold (graph_model/trait_fold.py) with the graph, inside the callers' transactions.

- ingestion folds the events a request wrote into their anchor's and profile's summaries in the round that
  binds them (cypher/ingest_round.cypher, step 7);
- a merge folds the merged profiles' summaries into the survivor's (GraphRepository.merge_components runs
  cypher/traits_fold_merge.cypher first): O(1), no event read;
- whatever moves sessions or handles between profiles, or deletes some of a profile's events (split, rule 4's
  session leave, the identity rebuild, erasure of another profile's aliases, purge), recomputes the summaries
  of the profiles it touched from their anchors' summaries (`recompute_profiles`), and of anchors that lost
  events from those events (`recompute_anchors`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.services.read import native
from app.store.repository import GraphRepository, Tx
from graph_model.trait_fold import (
    TraitFold,
    as_session,
    fold_all,
    fold_events,
    from_properties,
    to_properties,
)
from graph_model.traits import TraitEvent

_FOLD_FIELDS = ("page_url", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


def _trait_event(row: dict[str, Any]) -> TraitEvent:
    fields = {k: row[k] for k in (*_FOLD_FIELDS, "ua_browser", "ua_os") if row.get(k) is not None}
    return TraitEvent(
        id=row["id"],
        type=row["type"],
        time=native(row["time"]),
        trait_keys=row["trait_keys"],
        trait_values=row["trait_values"],
        fields=fields,
    )


class TraitFolds:
    def __init__(self, store: GraphRepository) -> None:
        self._store = store

    async def recompute_anchors(
        self, tx: Tx, *, session_ids: Iterable[str] = (), handle_ids: Iterable[str] = ()
    ) -> None:
        """Summaries of these sessions and id handles again, from their events."""
        sessions, handles = sorted(set(session_ids)), sorted(set(handle_ids))
        if not sessions and not handles:
            return
        rows = await self._store.rows(tx, "traits_anchor_events", session_ids=sessions, handle_ids=handles)
        anchors = [
            {
                "kind": r["kind"],
                "id": r["id"],
                "props": to_properties(fold_events(_trait_event(e) for e in r["events"])),
            }
            for r in rows
        ]
        await self._store.rows(tx, "traits_store_anchors", anchors=anchors)

    async def recompute_profiles(self, tx: Tx, profile_ids: Iterable[str]) -> None:
        """Profiles' summaries again, from their anchors' stored summaries (no event is read)."""
        ids = sorted({p for p in profile_ids if p is not None})
        if not ids:
            return
        rows = await self._store.rows(tx, "traits_profile_anchors", profile_ids=ids)
        profiles = [
            {"id": r["id"], "props": to_properties(profile_fold(r["sessions"], r["handles"]))} for r in rows
        ]
        await self._store.rows(tx, "traits_store_profiles", profiles=profiles)

    async def recompute_from_events(self, tx: Tx, profile_ids: Iterable[str]) -> None:
        """Profiles from scratch: their anchors from their events, then the profiles from those (a profile
        that no longer exists is skipped)."""
        ids = sorted(set(profile_ids))
        if not ids:
            return
        rows = await self._store.rows(tx, "traits_profile_anchor_ids", profile_ids=ids)
        await self.recompute_anchors(
            tx,
            session_ids=[s for r in rows for s in r["session_ids"]],
            handle_ids=[h for r in rows for h in r["handle_ids"]],
        )
        await self.recompute_profiles(tx, [r["id"] for r in rows])

    async def erase_foreign_anchors(self, tx: Tx, profile_id: str) -> list[dict[str, Any]]:
        """What erasing `profile_id` deletes events from outside its component (recompute them after)."""
        return await self._store.rows(tx, "traits_erase_foreign_anchors", profile_id=profile_id)

    async def recompute_foreign(self, tx: Tx, anchors: list[dict[str, Any]]) -> None:
        await self.recompute_anchors(
            tx,
            session_ids=[a["id"] for a in anchors if a["kind"] == "session"],
            handle_ids=[a["id"] for a in anchors if a["kind"] == "handle"],
        )
        await self.recompute_profiles(tx, [a["profile_id"] for a in anchors if a["profile_id"]])


def profile_fold(sessions: list[dict[str, Any]], handles: list[dict[str, Any]]) -> TraitFold:
    """A profile's summary: its sessions' (each counted as one session) and its handles' combined."""
    return fold_all(
        [as_session(from_properties(s)) for s in sessions] + [from_properties(h) for h in handles]
    )
