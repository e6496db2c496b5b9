"""Table-driven tests of the pure identity rules: URNs, PII keys, blocked values, merge planning."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from graph_model.events import parse_event_time
from graph_model.identity import ProfileFacts, plan_identity
from graph_model.identity_rules import V1
from graph_model.pii import aliases_from_properties, is_blocked
from graph_model.urn import AliasUrn, InvalidUrn, make_alias, parse_urn


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("urn:email:Someone@Gmail.com ", "urn:email:someone@gmail.com"),
        ("  URN:email: A@B.CO", "urn:email:a@b.co"),
        ("urn:phone:+1 (555) 010-2030", "urn:phone:+15550102030"),
        ("urn:phone:0049 30 1234", "urn:phone:+49301234"),
        ("urn:customer_id: C-42 ", "urn:customer_id:C-42"),
        ("urn:user_id:Ab:Cd", "urn:user_id:Ab:Cd"),
        ("urn:Device_ID:xyz", "urn:device_id:xyz"),
    ],
)
def test_parse_urn_normalises(text: str, expected: str) -> None:
    assert str(parse_urn(text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "email:a@b.c",
        "urn:email",
        "urn::x",
        "urn:e-mail:a@b.c",
        "urn:email:   ",
        "urn:email:not-an-email",
        "urn:phone:abc",
        "urn:x:" + "v" * 600,
    ],
)
def test_parse_urn_rejects(text: str) -> None:
    with pytest.raises(InvalidUrn):
        parse_urn(text)


@pytest.mark.parametrize(
    "value", ["undefined", "NULL", " None ", "nan", "anonymous", "0", "-1", "[object Object]", "", "  "]
)
def test_blocked_values(value: str) -> None:
    assert is_blocked(value)


def test_configured_blocked_values() -> None:
    assert is_blocked("test@example.com", ["TEST@example.com"])
    assert not is_blocked("someone@example.com", ["test@example.com"])


def test_aliases_from_properties_maps_pii_keys() -> None:
    aliases, skipped = aliases_from_properties(
        {
            "email": " Ann@Example.com",
            "cellphone": "+48 600 100 200",
            "phone_number": "undefined",
            "customer_id": 1234,
            "user_id": 0,
            "device_id": "dev-1",
            "id": "u-9",
            "name": "Ann",
            "Phone": True,
        }
    )
    assert [str(a) for a in aliases] == [
        "urn:email:ann@example.com",
        "urn:phone:+48600100200",
        "urn:customer_id:1234",
        "urn:device_id:dev-1",
        "urn:id:u-9",
    ]
    assert sorted(skipped) == ["Phone", "phone_number", "user_id"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-05-01T10:00:00Z", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01T12:00:00+02:00", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01T10:00:00", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        (1714557600, datetime(2024, 5, 1, 10, tzinfo=UTC)),
        (1714557600000, datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("1714557600", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        (None, datetime(2000, 1, 1, tzinfo=UTC)),
    ],
)
def test_parse_event_time(raw: object, expected: datetime) -> None:
    assert parse_event_time(raw, datetime(2000, 1, 1, tzinfo=UTC)) == expected


@pytest.mark.parametrize("raw", ["yesterday", True, {"t": 1}])
def test_parse_event_time_rejects(raw: object) -> None:
    with pytest.raises(ValueError):
        parse_event_time(raw, datetime(2000, 1, 1, tzinfo=UTC))


E1, E2 = make_alias("email", "a@x.io"), make_alias("email", "b@x.io")
C1, C2 = make_alias("customer_id", "c1"), make_alias("customer_id", "c2")
# The planner under the v1 rules (every type weak, one customer_id and one user_id per profile): union by
# size, limits and priorities. The v2 rules have their own table in test_identity_rules_v2.py.


def facts(pid: str, size: int, **limited: set[str]) -> ProfileFacts:
    return ProfileFacts(pid, size, {k: frozenset(v) for k, v in limited.items()})


def test_plan_new_everything_creates_one_profile() -> None:
    plan = plan_identity(
        session_profile=None,
        claimed_profile=None,
        alias_profiles={E1: None, C1: None},
        profiles={},
        rules=V1,
    )
    assert plan.survivor is None and plan.merged == [] and plan.refusals == []
    assert sorted(plan.new_aliases) == sorted([E1, C1])


def test_plan_merges_smaller_into_larger() -> None:
    plan = plan_identity(
        session_profile="p-small",
        claimed_profile=None,
        alias_profiles={E1: "p-big"},
        profiles={"p-small": facts("p-small", 2), "p-big": facts("p-big", 9)},
        rules=V1,
    )
    assert plan.survivor == "p-big"
    assert plan.merged == ["p-small"]
    assert plan.linked_by == {"p-small": [E1]}


def test_plan_ties_break_on_id() -> None:
    plan = plan_identity(
        session_profile="p-b",
        claimed_profile=None,
        alias_profiles={E1: "p-a"},
        profiles={"p-a": facts("p-a", 3), "p-b": facts("p-b", 3)},
        rules=V1,
    )
    assert (plan.survivor, plan.merged, plan.linked_by) == ("p-a", ["p-b"], {"p-b": [E1]})


def test_plan_refuses_merge_over_customer_id_limit_and_keeps_session_profile() -> None:
    plan = plan_identity(
        session_profile="p1",
        session_aliases=[C1],
        claimed_profile=None,
        alias_profiles={C2: "p2", E1: None},
        profiles={"p1": facts("p1", 3, customer_id={"c1"}), "p2": facts("p2", 3, customer_id={"c2"})},
        rules=V1,
    )
    assert plan.survivor == "p1" and plan.merged == [] and plan.session_leaves is None
    assert plan.new_aliases == [E1]
    assert [(r.alias, r.profile_id, r.alias_type, r.limit) for r in plan.refusals] == [
        (C2, "p2", "customer_id", 1)
    ]


def test_plan_session_follows_its_highest_priority_accepted_alias_when_its_profile_is_refused() -> None:
    # Rule 4: the session's own profile has no evidence in this unit; the customer id that arrives is held
    # by a larger profile whose limit refuses the session's: the session leaves it.
    plan = plan_identity(
        session_profile="p1",
        claimed_profile=None,
        alias_profiles={C2: "p2", E1: None},
        profiles={"p1": facts("p1", 3, customer_id={"c1"}), "p2": facts("p2", 50, customer_id={"c2"})},
        rules=V1,
    )
    assert plan.survivor == "p2" and plan.merged == [] and plan.new_aliases == [E1]
    assert plan.session_leaves == "p1"


def test_plan_refuses_second_new_customer_id() -> None:
    plan = plan_identity(
        session_profile="p1",
        session_aliases=[C1],
        claimed_profile=None,
        alias_profiles={C2: None},
        profiles={"p1": facts("p1", 1, customer_id={"c1"})},
        rules=V1,
    )
    assert plan.survivor == "p1" and plan.new_aliases == []
    assert [(r.alias, r.profile_id) for r in plan.refusals] == [(C2, None)]


def test_plan_same_customer_id_is_no_conflict() -> None:
    plan = plan_identity(
        session_profile="p1",
        claimed_profile=None,
        alias_profiles={C1: "p2"},
        profiles={"p1": facts("p1", 1, customer_id={"c1"}), "p2": facts("p2", 1, customer_id={"c1"})},
        rules=V1,
    )
    assert plan.refusals == [] and plan.survivor == "p1" and plan.merged == ["p2"]


def test_plan_claimed_profile_joins_session_profile() -> None:
    plan = plan_identity(
        session_profile=None,
        claimed_profile="p9",
        alias_profiles={E2: "p3"},
        profiles={"p9": facts("p9", 4), "p3": facts("p3", 1)},
        rules=V1,
    )
    assert plan.survivor == "p9" and plan.merged == ["p3"] and plan.linked_by == {"p3": [E2]}


KIOSK = make_alias("anonymous_id", "kiosk-1")


def test_plan_kiosk_link_is_refused_when_the_next_shopper_brings_a_customer_id() -> None:
    # The kiosk's anonymous id sits in the first shopper's profile (customer c1). The next shopper logs in
    # on it with c2 and an email nobody has seen: c2 outranks the device, takes the email with it, and the
    # kiosk's link is the one refused, so nothing of the first shopper's joins the second's profile.
    plan = plan_identity(
        session_profile=None,
        claimed_profile=None,
        alias_profiles={KIOSK: "p-first", C2: None, E2: None},
        profiles={"p-first": facts("p-first", 12, customer_id={"c1"})},
        rules=V1,
    )
    assert plan.survivor is None and plan.merged == []
    assert plan.new_aliases == [C2, E2]
    assert [(r.alias, r.profile_id, r.alias_type) for r in plan.refusals] == [
        (KIOSK, "p-first", "customer_id")
    ]


def test_plan_customer_id_profile_outranks_a_larger_device_profile() -> None:
    plan = plan_identity(
        session_profile=None,
        claimed_profile=None,
        alias_profiles={KIOSK: "p-kiosk", C2: "p-second"},
        profiles={
            "p-kiosk": facts("p-kiosk", 40, customer_id={"c1"}),
            "p-second": facts("p-second", 3, customer_id={"c2"}),
        },
        rules=V1,
    )
    assert plan.survivor == "p-second" and plan.merged == []
    assert [(r.alias, r.profile_id) for r in plan.refusals] == [(KIOSK, "p-kiosk")]


def test_plan_device_link_still_merges_when_no_limit_is_exceeded() -> None:
    # Merge protection refuses only what a limit forbids: a shared anonymous id with no conflicting login
    # id merges, as API.md's identity rules say (a profile is a connected component).
    plan = plan_identity(
        session_profile=None,
        claimed_profile=None,
        alias_profiles={KIOSK: "p-kiosk", E2: None},
        profiles={"p-kiosk": facts("p-kiosk", 5, customer_id={"c1"})},
        rules=V1,
    )
    assert plan.survivor == "p-kiosk" and plan.new_aliases == [E2] and plan.refusals == []


def test_alias_urn_is_hashable_and_ordered() -> None:
    assert sorted({AliasUrn("email", "b"), AliasUrn("email", "a")})[0].value == "a"


def test_connected_groups_and_split_plan() -> None:
    from graph_model.components import connected_groups, plan_split

    members = ["profile_id:p1", "session:s1", "alias:a", "session:s2", "alias:b", "profile_id:p2", "alias:c"]
    links = [
        ("session:s1", "profile_id:p1"),
        ("session:s1", "alias:a"),
        ("session:s2", "alias:b"),
        ("session:s2", "profile_id:p2"),
        ("session:s9", "alias:c"),
    ]
    assert connected_groups(members, links) == [
        {"alias:a", "session:s1", "profile_id:p1"},
        {"alias:b", "session:s2", "profile_id:p2"},
        {"alias:c"},
    ]
    plan = plan_split("p1", members, links, {"p1": "2024-01-01", "p2": "2024-01-02"})
    assert plan.kept == {"alias:a", "session:s1", "profile_id:p1"}
    assert [(g.profile_id, sorted(g.members)) for g in plan.groups] == [
        ("p2", ["alias:b", "profile_id:p2", "session:s2"]),
        (None, ["alias:c"]),
    ]
