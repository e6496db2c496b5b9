"""The pure half of ingestion (app/services/ingest_plan.py, app/services/identity_writes.py): what a round of
cypher/ingest_round.cypher is sent, for a batch and the identity state a round read. No Neo4j."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import msgspec

from app.services import ingest_plan as ip
from app.services.identity_writes import system_event
from app.store.catalog import QueryCatalog
from graph_model.events import CanonicalEvent, IngestBatch
from graph_model.identity import IdentityPlan, Refusal
from graph_model.identity_rules import IdentityRules, with_limits
from graph_model.urn import AliasUrn

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
EMAIL = AliasUrn("email", "a@x.test")
ANON = AliasUrn("anonymous_id", "dev-1")
CUST1 = AliasUrn("customer_id", "c1")
CUST2 = AliasUrn("customer_id", "c2")


def event(minutes: int = 0, *aliases: AliasUrn, external_id: str | None = None) -> CanonicalEvent:
    return CanonicalEvent(
        type="page", time=T0 + timedelta(minutes=minutes), external_id=external_id, aliases=list(aliases)
    )


def batch(*events: CanonicalEvent, **kw: Any) -> IngestBatch:
    kw.setdefault("session_id", "s1")
    return IngestBatch(source_id="src", dialect="tracardi", events=list(events), **kw)


def rows_of(b: IngestBatch) -> list[ip.EventRow]:
    return ip.prepare(b).rows


# -- events -----------------------------------------------------------------------------------------------


def test_event_key_client_ids_are_unique_per_source_and_never_collide_with_server_ids() -> None:
    assert ip.event_key("src", "e1", "uuid-1") == "src|ext|e1"
    assert ip.event_key("other", "e1", "uuid-1") != ip.event_key("src", "e1", "uuid-1")
    assert ip.event_key("src", None, "e1") == "src|id|e1" != ip.event_key("src", "e1", "x")


def test_prepare_gives_a_repeat_inside_the_batch_the_row_it_repeats() -> None:
    p = ip.prepare(batch(event(0, external_id="a"), event(1), event(2, external_id="a")))
    assert len(p.rows) == 2
    assert p.order == [0, 1, 0]
    assert p.rows[0].key == "src|ext|a" and p.rows[1].key == f"src|id|{p.rows[1].id}"


def test_event_doc_sends_time_and_json_fields_as_text() -> None:
    ev = CanonicalEvent(
        type="identify", time=T0, properties={"a": 1}, context={"ip": "1.2.3.4"}, trait_inputs={"k": [1]}
    )
    doc = ip.event_doc(ip.prepare(batch(ev)).rows[0], "s1")
    assert doc.time == T0.isoformat()
    assert json.loads(doc.properties_json) == {"a": 1}
    assert "ip" not in json.loads(doc.context_json)  # a raw IP is never stored
    assert (doc.trait_keys, doc.trait_values) == (["k"], ["[1]"])


# -- members ----------------------------------------------------------------------------------------------


def test_members_session_spans_the_counted_events() -> None:
    b = batch(event(5), event(1), event(9))
    m = ip.members(b, "s1", rows_of(b), T0)
    assert m.session == ip.SessionDoc(
        "s1", (T0 + timedelta(minutes=1)).isoformat(), (T0 + timedelta(minutes=9)).isoformat(), False
    )


def test_members_alias_times_come_from_the_events_that_carry_it() -> None:
    b = batch(event(3, EMAIL), event(7), event(5, EMAIL))
    (doc,) = ip.members(b, "s1", rows_of(b), T0).aliases
    assert (doc.first_seen, doc.last_seen) == (
        (T0 + timedelta(minutes=3)).isoformat(),
        (T0 + timedelta(minutes=5)).isoformat(),
    )


def test_members_request_alias_gets_the_events_span_or_now_without_events() -> None:
    b = batch(event(2), event(4), aliases=[ANON])
    (doc,) = ip.members(b, "s1", rows_of(b), T0).aliases
    assert (doc.first_seen, doc.last_seen) == (
        (T0 + timedelta(minutes=2)).isoformat(),
        (T0 + timedelta(minutes=4)).isoformat(),
    )
    now = T0 + timedelta(hours=1)
    m = ip.members(batch(aliases=[ANON]), "s1", [], now)
    assert (m.aliases[0].first_seen, m.aliases[0].last_seen) == (now.isoformat(), now.isoformat())
    assert m.session is not None and (m.session.first_seen, m.session.last_seen) == (None, None)


def test_members_aliases_in_urn_order_and_no_session_without_an_id() -> None:
    b = batch(event(0, EMAIL, ANON), aliases=[CUST1])
    m = ip.members(b, None, rows_of(b), T0)
    assert m.session is None
    assert [d.alias for d in m.aliases] == sorted([EMAIL, ANON, CUST1])
    assert m.urns == [str(a) for a in sorted([EMAIL, ANON, CUST1])]
    assert m.without(frozenset({str(EMAIL)})).alias_set() == {ANON, CUST1}


# -- bindings ---------------------------------------------------------------------------------------------


def test_bindings_link_only_kept_aliases_and_list_the_refused() -> None:
    b = batch(event(0, EMAIL, CUST2, ANON))
    (binding,) = ip.bindings(b, rows_of(b), refused={CUST2}, kept={EMAIL, CUST2})
    assert binding.linked_urns == [str(EMAIL)]
    assert binding.refused_urns == [str(CUST2)]


def test_bindings_none_when_the_batch_saves_no_events() -> None:
    b = batch(event(0, EMAIL), save_events=False)
    assert ip.bindings(b, rows_of(b), set(), {EMAIL}) == []


# -- guesses ----------------------------------------------------------------------------------------------


# The rules these tests plan with: one customer id per profile, every type weak (so joins need no strong
# evidence on both sides; graph_model/identity.py and its tests cover the v2 rules themselves).
RULES = with_limits(IdentityRules.of([]), {"customer_id": 1})


def test_guesses_profile_less_batch_only_binds_its_session_once_every_event_is_new() -> None:
    b = batch(event(0, EMAIL), profile_less=True)
    m = ip.members(b, "s1", rows_of(b), T0)
    guesses = ip.guesses(b, m, rows_of(b), RULES)
    assert guesses == {"all_created": ip.Commit(when="all_created", session=m.session, session_id="s1")}


def test_guesses_none_for_a_claimed_profile_id() -> None:
    b = batch(event(0, EMAIL), claimed_profile_id="p1")
    assert ip.guesses(b, ip.members(b, "s1", rows_of(b), T0), rows_of(b), RULES) == {}


def test_guesses_new_visitor_gets_a_new_profile_that_claims_its_own_handle() -> None:
    b = batch(event(0, EMAIL, ANON))
    rows = rows_of(b)
    unowned = ip.guesses(b, ip.members(b, "s1", rows, T0), rows, RULES)["unowned"]
    assert unowned.new_profile_id is not None and unowned.profile_id == unowned.new_profile_id
    assert unowned.claimed_ids == [unowned.new_profile_id]
    assert unowned.attach_urns == unowned.linked_urns == sorted([str(EMAIL), str(ANON)])
    assert unowned.evidence_event_id == rows[0].id
    assert unowned.system_events == []


def test_guesses_returning_visitor_leaves_the_profile_to_the_statement() -> None:
    b = batch(event(0, EMAIL))
    one_owner = ip.guesses(b, ip.members(b, "s1", rows_of(b), T0), rows_of(b), RULES)["one_owner"]
    assert one_owner.profile_id is None and one_owner.new_profile_id is None
    assert one_owner.attach_urns == [] and one_owner.claimed_ids == []
    assert one_owner.linked_urns == [str(EMAIL)]


def test_guesses_no_new_visitor_plan_when_merge_protection_would_refuse() -> None:
    b = batch(event(0, CUST1, CUST2))
    assert set(ip.guesses(b, ip.members(b, "s1", rows_of(b), T0), rows_of(b), RULES)) == {"one_owner"}


def test_guesses_no_returning_visitor_plan_without_session_or_aliases() -> None:
    b = batch(event(0), session_id=None)
    assert set(ip.guesses(b, ip.members(b, None, rows_of(b), T0), rows_of(b), RULES)) == {"unowned"}


# -- commits, merges, audit -------------------------------------------------------------------------------


def test_plan_commit_claims_the_claimed_id_only_when_it_exists() -> None:
    b = batch(event(0, EMAIL), claimed_profile_id="p9")
    m = ip.members(b, "s1", rows_of(b), T0)
    plan = IdentityPlan("p9", [], {}, [EMAIL], [])
    known = ip.plan_commit("always", b, plan, m, rows_of(b), profile_id="p9", claimed_known=True)
    unknown = ip.plan_commit("always", b, plan, m, rows_of(b), profile_id="p9", claimed_known=False)
    assert known.claimed_ids == ["p9"] and unknown.claimed_ids == []


def test_plan_commit_refused_aliases_are_evidence_of_their_own_kind() -> None:
    b = batch(event(0, CUST1, CUST2))
    rows = rows_of(b)
    plan = IdentityPlan("p1", [], {}, [CUST1], [Refusal(CUST2, None, "customer_id", 1)])
    commit = ip.plan_commit("always", b, plan, ip.members(b, "s1", rows, T0), rows, profile_id="p1")
    assert commit.linked_urns == [str(CUST1)]
    assert commit.refused_urns == [str(CUST2)]
    assert commit.touch_aliases == ip.members(b, "s1", rows, T0).aliases  # both seen: times widened
    (refused,) = commit.system_events
    assert (refused.type, refused.about_id, refused.names_urns) == ("merge-refused", "p1", [str(CUST2)])
    assert refused.linking_event_id == rows[0].id
    assert json.loads(refused.properties_json) == {
        "profile_id": "p1",
        "alias": str(CUST2),
        "alias_profile_id": None,
        "alias_type": "customer_id",
        "limit": 1,
        "rule": "limit",
        "linking_event_id": rows[0].id,
    }


def test_merge_records_link_to_the_first_created_event_carrying_a_joining_alias() -> None:
    b = batch(event(0, ANON), event(1, EMAIL))
    rows = rows_of(b)
    plan = IdentityPlan("big", ["small", "other"], {"small": [EMAIL]}, [], [])
    small, other = ip.merge_records(plan, "big", rows)
    assert small == ip.MergeRecord("big", "small", rows[1].id, [str(EMAIL)])
    assert other == ip.MergeRecord("big", "other", rows[0].id, [])  # no joining alias: the first event
    assert ip.merge_records(plan, "big", [])[0].linking_event_id is None


def test_identity_events_profile_merged_is_about_the_profile_merged_away() -> None:
    merge = ip.MergeRecord("big", "small", "ev1", [str(EMAIL)])
    plan = IdentityPlan("big", ["small"], {"small": [EMAIL]}, [], [])
    (merged,) = ip.identity_events(plan, "big", [merge], [])
    assert (merged.type, merged.about_id, merged.names_urns) == ("profile-merged", "small", [str(EMAIL)])
    assert merged.linking_event_id == "ev1"
    assert json.loads(merged.properties_json) == msgspec.to_builtins(merge)


def test_own_profile_commit_creates_a_profile_that_holds_the_alias() -> None:
    commit = ip.own_profile_commit(CUST2)
    assert commit.when == "always" and commit.session is None
    assert commit.new_profile_id == commit.profile_id
    assert commit.attach_urns == commit.linked_urns == [str(CUST2)]


def test_system_event_has_a_fresh_id_and_its_details_as_json() -> None:
    a = system_event("alias-blocked", "p1", {"alias": str(EMAIL)}, names_urns=[str(EMAIL)])
    b = system_event("alias-blocked", "p1", {"alias": str(EMAIL)}, names_urns=[str(EMAIL)])
    assert a.id != b.id
    assert json.loads(a.properties_json) == {"alias": str(EMAIL)}
    assert a.linking_event_id is None


# -- rounds -----------------------------------------------------------------------------------------------


def first(b: IngestBatch) -> ip.RoundParams:
    prepared = ip.prepare(b)
    m = ip.members(b, b.session_id, prepared.rows, T0)
    guesses = ip.guesses(b, m, prepared.rows, RULES)
    return ip.first_round(prepared, "req/0", b.session_id, m, guesses, T0, RULES.held_types())


def test_first_round_of_a_profile_less_batch_locks_creates_and_reads_nothing() -> None:
    params = first(batch(event(0, EMAIL), profile_less=True))
    assert (params.lock_named, params.create_members) == (False, False)
    assert (params.session_id, params.urns, params.claimed_id) == (None, [], None)
    assert [p.when for p in params.plans] == ["all_created"]
    assert [b.linked_urns for b in params.bind_events] == [[]]  # its events link no alias


def test_first_round_creates_members_only_if_every_event_is_new() -> None:
    params = first(batch(event(0, EMAIL), claimed_profile_id="p1"))
    assert (params.lock_named, params.create_members, params.only_if_all_created) == (True, True, True)
    assert params.urns == [str(EMAIL)] and params.claimed_id == "p1"
    assert params.plans == [] and params.bind_events == []  # no guess: nothing to bind yet


def test_first_round_stores_no_events_when_the_batch_saves_none() -> None:
    params = first(batch(event(0, EMAIL), save_events=False))
    assert params.events == [] and params.bind_events == []
    assert {p.when for p in params.plans} == {"unowned", "one_owner"}


def test_lock_round_locks_and_reads_again_without_storing_or_committing() -> None:
    b = batch(event(0, EMAIL), claimed_profile_id="p1")
    m = ip.members(b, "s1", rows_of(b), T0)
    params = ip.lock_round(b, m, ["p1", "p2"], False, T0, [])
    assert (params.lock_ids, params.lock_named, params.create_members) == (["p1", "p2"], False, False)
    assert (params.session_id, params.urns, params.claimed_id) == ("s1", [str(EMAIL)], "p1")
    assert params.events == [] and params.plans == []


# -- the state a round read -------------------------------------------------------------------------------


def round_row(**kw: Any) -> ip.RoundRow:
    base: dict[str, Any] = {
        "stored": [],
        "locked": [],
        "created": True,
        "session_profile": None,
        "aliases": [],
        "blocked": [],
        "claimed_profile": None,
        "profiles": [],
        "shared": [],
        "session_aliases": [],
        "committed": None,
        "committed_profile": None,
    }
    return msgspec.convert(base | kw, ip.RoundRow)


def test_read_state_leaves_blocked_aliases_out_of_what_is_named() -> None:
    state = ip.read_state(
        round_row(
            session_profile="ps",
            claimed_profile="pc",
            aliases=[[str(EMAIL), "pe"], [str(ANON), "pb"], [str(CUST1), None]],
            blocked=[str(ANON)],
        )
    )
    assert state.alias_profiles == {str(EMAIL): "pe", str(CUST1): None}
    assert state.named == {"ps", "pc", "pe"}
    assert state.blocked == {str(ANON)}


def test_profile_facts_split_limited_values_on_the_first_colon() -> None:
    row = round_row(profiles=[{"id": "p1", "size": 3, "limited": ["user_id:Ab:Cd", "user_id:x", "email:e"]}])
    facts = ip.read_state(row).facts["p1"]
    assert facts.size == 3
    assert facts.limited == {"user_id": frozenset({"Ab:Cd", "x"}), "email": frozenset({"e"})}


def test_decide_plans_with_the_aliases_the_urns_name() -> None:
    b = batch(event(0, EMAIL, ANON))
    m = ip.members(b, "s1", rows_of(b), T0)
    state = ip.read_state(
        round_row(
            aliases=[[str(EMAIL), "p1"], [str(ANON), "p2"]],
            profiles=[{"id": "p1", "size": 5, "limited": []}, {"id": "p2", "size": 1, "limited": []}],
        )
    )
    plan = ip.decide(state, m, RULES)
    assert (plan.survivor, plan.merged) == ("p1", ["p2"])


# -- the statement and its parameters ---------------------------------------------------------------------


def _statement() -> str:
    return QueryCatalog()["ingest_round"]


def test_round_params_are_exactly_the_statements_parameters() -> None:
    used = set(re.findall(r"\$([a-z_]+)", _statement()))
    assert used == set(ip.RoundParams.__struct_fields__)


def test_commit_fields_are_exactly_what_the_statement_reads_of_a_plan() -> None:
    read = set(re.findall(r"\bplan\.([a-z_]+)", _statement())) | {"when"}
    assert read == set(ip.Commit.__struct_fields__)


def test_every_parameter_is_listed_in_the_statements_header() -> None:
    text = resources.files("cypher").joinpath("ingest_round.cypher").read_text(encoding="utf-8")
    listed = re.findall(r"^//   \$([a-z_]+) ", text, flags=re.MULTILINE)
    assert sorted(listed) == sorted(ip.RoundParams.__struct_fields__)


def test_times_travel_as_iso_text_never_as_datetime_values() -> None:
    params = first(batch(event(0, EMAIL), event(3, external_id="x")))
    sent = msgspec.to_builtins(params)

    def leaves(value: Any) -> list[Any]:
        if isinstance(value, dict):
            return [leaf for v in value.values() for leaf in leaves(v)]
        if isinstance(value, list):
            return [leaf for v in value for leaf in leaves(v)]
        return [value]

    assert not any(isinstance(leaf, datetime) for leaf in leaves(sent))
    assert sent["events"][0]["time"] == T0.isoformat()


def test_new_ids_are_distinct_version_4_uuids_in_canonical_text() -> None:
    ids = ip.new_ids(500)
    assert len(set(ids)) == 500
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
    assert ip.new_ids(0) == []
