"""The merge statements derived from the files (app/store/merge_statements.py). No Neo4j."""

from __future__ import annotations

import pytest

from app.store.catalog import QueryCatalog
from app.store.merge_statements import NotDerivable, ingest_round_merging, merge_components_folded

FOLD = "MATCH (s:P {id: $survivor_id})\nSET s.folded = true\nRETURN count(*) AS folded"
MERGE = "MATCH (m:P {id: $merged_ids[0]})\nDETACH DELETE m\nRETURN count(*) AS merged"


def test_the_fold_then_the_merge_each_a_unit_subquery() -> None:
    text = merge_components_folded(FOLD, MERGE)
    assert text == (
        "CALL () {\nMATCH (s:P {id: $survivor_id})\nSET s.folded = true\n}\n"
        "CALL () {\nMATCH (m:P {id: $merged_ids[0]})\nDETACH DELETE m\n}\n"
        "RETURN size($merged_ids) AS merged"
    )


def test_the_round_runs_after_the_merge_as_it_is() -> None:
    round_text = "CALL () { RETURN 1 AS one }\nRETURN one, $now AS now"
    text = ingest_round_merging(FOLD, MERGE, round_text)
    assert text.startswith(merge_components_folded(FOLD, MERGE).rsplit("RETURN", 1)[0])
    assert text.endswith(round_text)
    # The round may not read the merge's parameters: they would be one value for both.
    with pytest.raises(NotDerivable):
        ingest_round_merging(FOLD, MERGE, "RETURN $merged_ids AS x")
    # A file whose last line is not its RETURN cannot be taken apart.
    with pytest.raises(NotDerivable):
        merge_components_folded(FOLD, "MATCH (m) DETACH DELETE m")


def test_the_shipped_files_have_both_forms() -> None:
    catalog = QueryCatalog()
    for name in ("merge_components_folded", "ingest_round_merging"):
        catalog.require(name)
        assert name not in catalog.names()  # derived, not a file
    folded, merging = catalog["merge_components_folded"], catalog["ingest_round_merging"]
    # Every write of the two files is there, the fold first (it reads what the merge deletes).
    assert folded.index("t.tf_events =") < folded.index("DETACH DELETE merged")
    assert merging.startswith(folded.removesuffix("RETURN size($merged_ids) AS merged"))
    assert merging.endswith(catalog["ingest_round"])
