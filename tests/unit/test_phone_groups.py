"""Re-normalising stored phone aliases (`idgraph identity renormalize`, graph_model/phone_groups.py): which
stored aliases are one number now, and which of their profiles the identity rules let join."""

from __future__ import annotations

from functools import partial

from graph_model.identity import ProfileFacts
from graph_model.identity_rules import DEFAULTS, AliasRule, IdentityRules, with_limits
from graph_model.phone_groups import PhoneGroup, StoredPhone, decide_group, group_phones
from graph_model.urn import AliasUrn, normalise_phone

normalise = partial(normalise_phone, region=None)
NUMBER = AliasUrn("phone", "+49301234567")


def stored(value: str, profile_id: str | None, **kw: bool) -> StoredPhone:
    return StoredPhone(f"urn:phone:{value}", value, profile_id, **kw)


def facts(pid: str, size: int = 3, **held: set[str]) -> ProfileFacts:
    return ProfileFacts(pid, size, {t: frozenset(v) for t, v in held.items()})


def test_stored_forms_of_one_number_are_one_group_and_normal_ones_stay() -> None:
    regrouping = group_phones(
        [
            stored("0049301234567", "p1"),
            stored("+49301234567", "p2"),
            stored("+447700900123", "p3"),  # already E.164, alone: unchanged
            stored("004915123456789", "p4"),  # alone, but not normal: renamed
            stored("abc", "p5"),  # stored by an old rule that kept junk: left alone
        ],
        normalise,
    )
    assert regrouping.unchanged == 1
    assert regrouping.unparsable == ["urn:phone:abc"]
    assert [(str(g.target), [m.urn for m in g.members]) for g in regrouping.groups] == [
        ("urn:phone:+4915123456789", ["urn:phone:004915123456789"]),
        ("urn:phone:+49301234567", ["urn:phone:+49301234567", "urn:phone:0049301234567"]),
    ]
    assert regrouping.groups[1].target_stored and not regrouping.groups[0].target_stored


def test_one_number_in_two_identified_profiles_joins_them_as_strong_evidence() -> None:
    group = PhoneGroup(NUMBER, [stored("+49301234567", "p2"), stored("0049301234567", "p1")])
    profiles = {
        "p1": facts("p1", 5, email={"a@x.io"}, phone={"0049301234567"}),
        "p2": facts("p2", 3, email={"b@x.io"}, phone={"+49301234567"}),
    }
    plan = decide_group(group, profiles, DEFAULTS, normalise)
    assert (plan.survivor, plan.merged, plan.refusals) == ("p1", ["p2"], [])


def test_a_limit_refuses_the_join_as_it_would_for_any_link() -> None:
    group = PhoneGroup(NUMBER, [stored("+49301234567", "p2"), stored("0049301234567", "p1")])
    profiles = {
        "p1": facts("p1", 5, user_id={"u1"}, phone={"0049301234567"}),
        "p2": facts("p2", 3, user_id={"u2"}, phone={"+49301234567"}),
    }
    plan = decide_group(group, profiles, DEFAULTS, normalise)
    assert plan.merged == []
    (refusal,) = plan.refusals
    assert (refusal.rule, refusal.alias_type, refusal.profile_id) == ("limit", "user_id", "p2")


def test_the_phone_limit_counts_one_number_once() -> None:
    rules = with_limits(DEFAULTS, {"phone": 2})
    group = PhoneGroup(NUMBER, [stored("+49301234567", "p2"), stored("0049301234567", "p1")])
    profiles = {
        "p1": facts("p1", 5, phone={"0049301234567", "+447700900123"}),
        "p2": facts("p2", 3, phone={"+49301234567"}),
    }
    # Two numbers in all (the old and the new form are one): within a limit of two.
    assert decide_group(group, profiles, rules, normalise).merged == ["p2"]


def test_a_weak_phone_joins_no_identified_profiles() -> None:
    rules = IdentityRules({**DEFAULTS.types, "phone": AliasRule("phone", "weak", None, 4)})
    group = PhoneGroup(NUMBER, [stored("+49301234567", "p2"), stored("0049301234567", "p1")])
    profiles = {
        "p1": facts("p1", 5, email={"a@x.io"}),
        "p2": facts("p2", 3, email={"b@x.io"}),
    }
    plan = decide_group(group, profiles, rules, normalise)
    assert plan.merged == [] and {r.rule for r in plan.refusals} == {"strong-evidence"}
