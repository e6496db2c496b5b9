"""`plan_identity` under the default (v2) rules: one row per rule of API.md and per example it names.

Each case is one unit of evidence (a request) against a state: which profiles hold which aliases. The
profiles' facts list their strong and limited aliases, as the ingestion round reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from graph_model.identity import IdentityPlan, ProfileFacts, plan_identity
from graph_model.identity_rules import DEFAULTS
from graph_model.urn import AliasUrn


def a(alias_type: str, value: str) -> AliasUrn:
    return AliasUrn(alias_type, value)


KIOSK, TABLET, OWN = a("device_id", "kiosk"), a("anonymous_id", "tablet"), a("device_id", "own")
ANN, ANN2, BOB = a("email", "ann@x.io"), a("email", "ann2@x.io"), a("email", "bob@x.io")
U1, U2, C1 = a("user_id", "u1"), a("user_id", "u2"), a("customer_id", "c1")
TOKEN = a("checkout_token", "t1")


def facts(pid: str, size: int, *aliases: AliasUrn) -> ProfileFacts:
    held: dict[str, set[str]] = {}
    for alias in aliases:
        if DEFAULTS.is_strong(alias.type) or DEFAULTS.limit(alias.type) is not None:
            held.setdefault(alias.type, set()).add(alias.value)
    return ProfileFacts(pid, size, {t: frozenset(v) for t, v in held.items()})


@dataclass
class Case:
    """A unit of evidence, the state it meets, and the plan the rules must make."""

    alias_profiles: dict[AliasUrn, str | None]
    profiles: list[ProfileFacts] = field(default_factory=list)
    session_profile: str | None = None
    session_aliases: list[AliasUrn] = field(default_factory=list)
    shared: list[AliasUrn] = field(default_factory=list)
    asserted: bool = False
    # expected
    survivor: str | None = None
    merged: list[str] = field(default_factory=list)
    new_aliases: list[AliasUrn] = field(default_factory=list)
    refused: list[tuple[AliasUrn, str]] = field(default_factory=list)  # (alias, rule)
    marks_shared: list[AliasUrn] = field(default_factory=list)
    session_leaves: str | None = None

    def plan(self) -> IdentityPlan:
        return plan_identity(
            session_profile=self.session_profile,
            claimed_profile=None,
            alias_profiles=self.alias_profiles,
            profiles={f.id: f for f in self.profiles},
            session_aliases=self.session_aliases,
            shared=self.shared,
            asserted=self.asserted,
        )


CASES = {
    # Rule 1: a profile that is not identified joins through any alias.
    "anonymous visitor's device joins their login": Case(
        {OWN: "pa", ANN: None}, [facts("pa", 3, OWN)], survivor="pa", new_aliases=[ANN]
    ),
    "an anonymous session joins the profile of the device it carries": Case(
        {OWN: "p1"}, [facts("p1", 4, OWN, ANN)], survivor="p1"
    ),
    "anonymous session stitched to a login that arrives later in it": Case(
        {ANN: None},
        [facts("pa", 2)],
        session_profile="pa",
        survivor="pa",
        new_aliases=[ANN],
    ),
    # Rule 2: identified profiles join only through strong evidence on both sides.
    "kiosk: a new email with the kiosk id of someone else's profile starts its own": Case(
        {KIOSK: "p1", BOB: None},
        [facts("p1", 3, KIOSK, ANN)],
        new_aliases=[BOB],
        refused=[(KIOSK, "strong-evidence")],
        marks_shared=[KIOSK],
    ),
    "kiosk: a session that browsed anonymously leaves with the login": Case(
        {BOB: None},
        [facts("p1", 4, KIOSK, ANN)],
        session_profile="p1",
        session_aliases=[KIOSK],
        new_aliases=[BOB],
        refused=[(KIOSK, "strong-evidence")],
        marks_shared=[KIOSK],
        session_leaves="p1",
    ),
    "family tablet: a second person's email never joins the first's": Case(
        {TABLET: "pm", BOB: "pd"},
        [facts("pm", 5, TABLET, ANN), facts("pd", 3, BOB)],
        survivor="pd",
        refused=[(TABLET, "strong-evidence")],
        marks_shared=[TABLET],
    ),
    "login id and email, later a second email with the login id: one profile": Case(
        {U1: "p1", ANN2: None}, [facts("p1", 4, U1, ANN)], survivor="p1", new_aliases=[ANN2]
    ),
    "the session's own earlier login is strong evidence for its profile": Case(
        {ANN2: None},
        [facts("p1", 4, ANN)],
        session_profile="p1",
        session_aliases=[ANN],
        survivor="p1",
        new_aliases=[ANN2],
    ),
    "a second email alone on one's own device: a second profile": Case(
        {OWN: "p1", ANN2: None},
        [facts("p1", 4, OWN, ANN)],
        new_aliases=[ANN2],
        refused=[(OWN, "strong-evidence")],
        marks_shared=[OWN],
    ),
    "two identified profiles, a strong alias of each in one unit: they merge": Case(
        {U1: "p1", ANN: "p2"},
        [facts("p1", 4, U1), facts("p2", 2, ANN)],
        survivor="p1",
        merged=["p2"],
    ),
    "a checkout token re-used by someone else never joins two customers": Case(
        {TOKEN: "p1", BOB: "p2"},
        [facts("p1", 3, TOKEN, ANN), facts("p2", 2, BOB)],
        survivor="p2",
        refused=[(TOKEN, "strong-evidence")],
        marks_shared=[TOKEN],
    ),
    "a client's explicit alias call is strong evidence for both sides": Case(
        {OWN: "pa", U1: None},
        [facts("pa", 3, OWN, ANN)],
        asserted=True,
        survivor="pa",
        new_aliases=[U1],
    ),
    # Rule 3: a join over a limit is refused, the lower-priority side giving way.
    "a second user id is refused, the email still joins": Case(
        {U1: "p1", U2: "p2", ANN: None},
        [facts("p1", 4, U1), facts("p2", 2, U2)],
        survivor="p1",
        new_aliases=[ANN],
        refused=[(U2, "limit")],
    ),
    "a new second customer id is refused (it gets a profile of its own)": Case(
        {a("customer_id", "c2"): None},
        [facts("p1", 3, C1)],
        session_profile="p1",
        session_aliases=[C1],
        survivor="p1",
        refused=[(a("customer_id", "c2"), "limit")],
    ),
    "a sixth email is over the limit of five": Case(
        {a("email", "e6@x.io"): None, U1: "p1"},
        [facts("p1", 9, U1, *(a("email", f"e{i}@x.io") for i in range(1, 6)))],
        survivor="p1",
        refused=[(a("email", "e6@x.io"), "limit")],
    ),
    # Shared identifiers make no new links.
    "a session carrying only a shared alias starts anonymous": Case(
        {KIOSK: "p1"}, [facts("p1", 4, KIOSK, ANN)], shared=[KIOSK], refused=[(KIOSK, "shared")]
    ),
    "a shared alias beside a login: only the login counts": Case(
        {KIOSK: "p1", BOB: "p2"},
        [facts("p1", 4, KIOSK, ANN), facts("p2", 2, BOB)],
        shared=[KIOSK],
        survivor="p2",
        refused=[(KIOSK, "shared")],
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_rules_v2(case: Case) -> None:
    plan = case.plan()
    assert plan.survivor == case.survivor
    assert plan.merged == case.merged
    assert plan.new_aliases == case.new_aliases
    assert [(r.alias, r.rule) for r in plan.refusals] == case.refused
    assert plan.shared == case.marks_shared
    assert plan.session_leaves == case.session_leaves


def test_refused_profiles_keep_their_members_and_new_refused_aliases_are_named_without_a_profile() -> None:
    plan = CASES["a new second customer id is refused (it gets a profile of its own)"].plan()
    (refusal,) = plan.refusals
    assert refusal.profile_id is None and refusal.alias_type == "customer_id" and refusal.limit == 1
