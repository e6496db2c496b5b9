"""What the two writers that move members between profiles share: ingestion and split.

- How long they chase a moving profile. Both lock the profiles a read names (`cypher/ingest_lock_profiles`,
  `cypher/ingest_round` step 2), read again, and lock what the new read names, until a read names only
  profiles already locked. Each further round means a merge committed in between and moved the members;
  after `MAX_LOCK_ROUNDS` of them the writer gives up.
- The audit record of what they changed: a system event about a profile id handle, stored by
  `cypher/ingest_round` (step 6g) or `cypher/record_system_events`, never bound to a session.

Pure: no I/O, only ids and JSON.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Literal

import msgspec

MAX_LOCK_ROUNDS = 8

SystemEventType = Literal["profile-merged", "merge-refused", "profile-split", "alias-blocked"]

_json = msgspec.json.Encoder()


class SystemEvent(msgspec.Struct, frozen=True):
    """One entry of the statements' system events, field for field (`msgspec.to_builtins` makes it the map
    the driver sends)."""

    id: str
    type: SystemEventType
    about_id: str | None  # the profile id whose handle the record hangs off
    names_urns: list[str]  # the aliases it names: erasing the profile that holds one erases the record
    linking_event_id: str | None  # the event that brought the change, if one did
    properties_json: str  # the details, as JSON text
    # The profile the change feed files this record under (the survivor of a merge, the profile a split
    # came from), or None when the record is not a feed entry of its own (a split's twin about the profile
    # that came apart). cypher/ingest_round (step 6i) and changes_from_system_events write the entry.
    feed_profile_id: str | None = None


def system_event(
    type: SystemEventType,
    about_id: str | None,
    details: Mapping[str, Any],
    *,
    names_urns: list[str],
    linking_event_id: str | None = None,
) -> SystemEvent:
    """A new system event (a fresh id) of `type` about `about_id`, with `details` as its properties."""
    feed_profile_id = about_id
    if type == "profile-merged":
        feed_profile_id = details.get("survivor_id") or about_id
    elif type == "profile-split" and details.get("profile_id") not in (None, about_id):
        feed_profile_id = None  # the same split, recorded about the other side: one feed entry
    return SystemEvent(
        id=str(uuid.uuid4()),
        type=type,
        about_id=about_id,
        names_urns=names_urns,
        linking_event_id=linking_event_id,
        properties_json=_json.encode(details).decode(),
        feed_profile_id=feed_profile_id,
    )
