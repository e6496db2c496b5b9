"""A merge in one statement, and a merge in the same statement as the ingestion round that commits it.

A merge is two files: `cypher/traits_fold_merge.cypher` (the merged profiles' traits summaries folded into
the survivor's, while they still hold them) and `cypher/merge_components.cypher` (union by size: the members
re-pointed, the emptied profiles removed). Run as two statements they were two round trips; and a linking
request ran them between its lock rounds and its commit round, so a merge cost the request four statements
in a row (bench/identity.py, `merge_cost_ratio_max`). Both are derived here when the catalog loads, never
written by hand, so a change to either file is in every form:

- `merge_components_folded`: the two files' bodies, each in a unit subquery, in that order (the fold reads
  the merged profiles before the merge deletes them), then `RETURN size($merged_ids) AS merged`;
- `ingest_round_merging`: the same two subqueries, then `cypher/ingest_round.cypher` as it is: the round
  that commits the plan runs after the merge, in the same statement, and sees what the merge wrote, exactly
  as a statement after it in the same transaction would. Its parameters are the round's plus `$survivor_id`
  and `$merged_ids`.

Each file must end with one top-level `RETURN` (what it answers run alone), which the derivation drops: a
unit subquery returns nothing and keeps the one row it is called for, whatever it matched.
"""

from __future__ import annotations

import re

from app.store.many_rounds import NotDerivable

__all__ = ["NotDerivable", "ingest_round_merging", "merge_components_folded", "merge_step"]

MERGE_PARAMS = frozenset({"survivor_id", "merged_ids"})

_FINAL_RETURN = re.compile(r"\n\s*RETURN\b[^\n{}]*\s*$")
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def _body(text: str, name: str) -> str:
    """The statement without its final top-level RETURN line."""
    found = _FINAL_RETURN.search(text)
    if found is None:
        raise NotDerivable(f"cypher/{name}.cypher does not end with a RETURN line")
    return text[: found.start()].strip()


def merge_step(fold: str, merge: str) -> str:
    """The fold, then the merge, each a unit subquery: one row in, the same row out."""
    return (
        "CALL () {\n"
        + _body(fold, "traits_fold_merge")
        + "\n}\nCALL () {\n"
        + _body(merge, "merge_components")
        + "\n}\n"
    )


def merge_components_folded(fold: str, merge: str) -> str:
    return merge_step(fold, merge) + "RETURN size($merged_ids) AS merged"


def ingest_round_merging(fold: str, merge: str, round_text: str) -> str:
    """The merge, then the round. Refused if the round reads a parameter of the merge's: the two would
    share one value."""
    shared = MERGE_PARAMS & set(_PARAM.findall(round_text))
    if shared:
        raise NotDerivable(f"cypher/ingest_round.cypher reads the merge's parameters {sorted(shared)}")
    return merge_step(fold, merge) + round_text
