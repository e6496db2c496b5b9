"""Which batches of a request share a statement (graph_model/round_groups.py), and the statement that runs a
round once per batch (app/store/many_rounds.py). No Neo4j."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.store.catalog import QueryCatalog
from app.store.many_rounds import NotDerivable, many_rounds
from graph_model.events import CanonicalEvent, IngestBatch
from graph_model.round_groups import Touch, identity_keys, levels, out_of_order
from graph_model.urn import make_alias

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def message(*ids: str, session: str | None = None, event_id: str | None = None) -> IngestBatch:
    aliases = [make_alias("user_id", i) for i in ids]
    event = CanonicalEvent(type="track", time=NOW, aliases=aliases, external_id=event_id)
    return IngestBatch(source_id="s", dialect="segment", events=[event], session_id=session)


def test_identity_keys_name_aliases_session_claimed_id_and_event_ids() -> None:
    batch = message("a", session="s1", event_id="m1")
    batch.claimed_profile_id = "p1"
    assert identity_keys(batch) == {"alias:urn:user_id:a", "session:s1", "profile:p1", "event:m1"}


def test_many_users_are_one_level_and_a_users_messages_keep_their_order() -> None:
    hundred = [identity_keys(message(f"u{i}")) for i in range(100)]
    assert levels(hundred) == [list(range(100))]
    one_user = [identity_keys(message("u")) for _ in range(3)]
    assert levels(one_user) == [[0], [1], [2]]
    # a, b, a (with c), c, d: the second a after the first, c after the second a, d anywhere.
    mixed = [message("a"), message("b"), message("a", "c"), message("c"), message("d")]
    assert levels([identity_keys(m) for m in mixed]) == [[0, 1, 4], [2], [3]]
    # One message id twice: the repeat after the first, so it is the duplicate.
    assert levels([identity_keys(message("x", event_id="m")), identity_keys(message("y", event_id="m"))]) == [
        [0],
        [1],
    ]


def test_out_of_order_when_a_profile_saw_batches_in_another_order() -> None:
    p = frozenset({"p"})
    # Different levels in request order; the same level when the earlier one committed at once.
    assert not out_of_order([Touch(0, True, p), Touch(1, False, p), Touch(1, True, frozenset({"q"}))])
    assert not out_of_order([Touch(0, True, p), Touch(0, False, p)])
    # The earlier needed more rounds, which ran after the later one's first round.
    assert out_of_order([Touch(0, False, p), Touch(0, True, p)])
    # A later batch on a lower level ran first.
    assert out_of_order([Touch(1, True, p), Touch(0, True, p)])
    assert not out_of_order([Touch(1, True, p), Touch(0, True, frozenset({"q"}))])


def test_the_many_rounds_statement_is_derived_from_the_round() -> None:
    text = many_rounds(
        "CALL () {\n  UNWIND $items AS x\n  MERGE (n:N {id: x})\n  SET n.at = $now\n}\n"
        "WITH 1 AS c\nRETURN c AS made, $tag AS tag",
        shared=frozenset({"now"}),
    )
    assert text.startswith("UNWIND $rounds AS round_params\nCALL (round_params) {")
    assert "CALL (round_params) {\n  UNWIND round_params.items" in text
    assert "SET n.at = $now" in text  # shared: stays a parameter
    assert "WITH round_params, 1 AS c" in text  # carried past a WITH: $tag is read after it
    assert text.endswith("RETURN round_params.round_index AS round_index, made, tag")
    # An aggregating WITH with a per-round parameter after it cannot carry the round.
    with pytest.raises(NotDerivable):
        many_rounds("MATCH (n) WITH count(n) AS c\nRETURN c + $x AS y")


def test_the_shipped_round_has_its_many_rounds_form() -> None:
    catalog = QueryCatalog()
    text = catalog["ingest_rounds"]
    assert "$" not in text.replace("$rounds", "").replace("$limited_types", "")
    assert "ingest_rounds" not in catalog.names()  # derived, not a file
    catalog.require("ingest_rounds")
