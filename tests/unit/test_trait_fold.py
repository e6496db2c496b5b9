"""The traits fold (graph_model.trait_fold) against the definition (graph_model.traits.compute_traits)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from graph_model.trait_fold import (
    EMPTY,
    TraitFold,
    as_session,
    combine,
    fold_all,
    fold_events,
    from_properties,
    of_event,
    slot_event_ids,
    to_properties,
    traits_of,
)
from graph_model.traits import TraitEvent, compute_traits

T0 = datetime(2025, 3, 1, tzinfo=UTC)

_fields = st.fixed_dictionaries(
    {},
    optional={
        "page_url": st.sampled_from(["https://a.example/", "https://b.example/x"]),
        "page_referrer": st.sampled_from(["https://r.example/"]),
        "utm_source": st.sampled_from(["google", "mail"]),
        "utm_campaign": st.sampled_from(["spring", "fall"]),
        "ua_browser": st.sampled_from(["Chrome", "Safari"]),
        "ua_os": st.sampled_from(["iOS", "Linux"]),
    },
)


@st.composite
def events(draw: st.DrawFn) -> TraitEvent:
    keys = draw(st.lists(st.sampled_from(["name", "plan", "email"]), unique=True, max_size=3))
    return TraitEvent(
        id=draw(st.text("abcdef", min_size=1, max_size=3)),
        type=draw(st.sampled_from(["page-view", "identify", "purchase"])),
        # few distinct times, so ties on time (broken by id) are common
        time=T0 + timedelta(minutes=draw(st.integers(0, 4))),
        trait_keys=keys,
        trait_values=[msgspec.json.encode(draw(st.integers(0, 3))).decode() for _ in keys],
        fields=draw(_fields),
    )


def _unique(evs: list[TraitEvent]) -> list[TraitEvent]:
    by_id: dict[str, TraitEvent] = {}
    for e in evs:
        by_id.setdefault(e.id, e)
    return list(by_id.values())


def _fields_of(evs: list[TraitEvent]) -> dict[str, dict[str, object]]:
    return {e.id: dict(e.fields) for e in evs}


@st.composite
def disjoint_folds(draw: st.DrawFn) -> tuple[TraitFold, TraitFold, TraitFold]:
    """Summaries of three disjoint sets of events (an event is in one session only)."""
    evs = _unique(draw(st.lists(events(), max_size=15)))
    parts = [draw(st.integers(0, 2)) for _ in evs]
    a, b, c = (fold_events([e for e, p in zip(evs, parts, strict=True) if p == n]) for n in range(3))
    return a, b, c


folds = st.lists(events(), max_size=6).map(lambda evs: fold_events(_unique(evs)))


@given(disjoint_folds())
def test_combine_is_associative(abc: tuple[TraitFold, TraitFold, TraitFold]) -> None:
    a, b, c = abc
    assert combine(combine(a, b), c) == combine(a, combine(b, c))


@given(disjoint_folds())
def test_combine_is_commutative_with_empty_as_unit(abc: tuple[TraitFold, TraitFold, TraitFold]) -> None:
    a, b, _ = abc
    assert combine(a, b) == combine(b, a)
    assert combine(a, EMPTY) == a == combine(EMPTY, a)


@settings(max_examples=300)
@given(st.lists(events(), max_size=12), st.randoms(use_true_random=False))
def test_any_split_and_order_equals_the_definition(evs: list[TraitEvent], rnd: object) -> None:
    evs = _unique(evs)
    import random

    assert isinstance(rnd, random.Random)
    # split into random sessions, fold each (in a shuffled order), then combine the sessions in another
    sessions: list[list[TraitEvent]] = [[] for _ in range(3)]
    for e in evs:
        sessions[rnd.randrange(3)].append(e)
    parts = [as_session(fold_events(rnd.sample(s, len(s)))) for s in sessions if s]
    fold = fold_all(rnd.sample(parts, len(parts)))
    assert traits_of(fold, _fields_of(evs)) == compute_traits(evs, len(parts))
    assert set(slot_event_ids(fold)) <= {e.id for e in evs}


@given(st.lists(events(), max_size=8), st.data())
def test_duplicates_count_once(evs: list[TraitEvent], data: st.DataObject) -> None:
    evs = _unique(evs)
    repeats = data.draw(st.lists(st.sampled_from(evs), max_size=5)) if evs else []
    assert fold_events(evs + repeats) == fold_events(evs)
    # the order-only parts are idempotent under combine, too
    fold = fold_events(evs)
    twice = combine(fold, fold)
    assert (twice.first, twice.last, twice.latest, twice.earliest) == (
        fold.first,
        fold.last,
        fold.latest,
        fold.earliest,
    )


@given(folds)
def test_flat_properties_round_trip(fold: TraitFold) -> None:
    assert from_properties(to_properties(fold)) == fold
    assert from_properties({}) == EMPTY


def test_latest_value_wins_by_time_then_id() -> None:
    old = TraitEvent(id="z", type="identify", time=T0, trait_keys=["plan"], trait_values=['"free"'])
    new = TraitEvent(
        id="a", type="identify", time=T0 + timedelta(seconds=1), trait_keys=["plan"], trait_values=['"gold"']
    )
    tie = TraitEvent(
        id="b", type="identify", time=T0 + timedelta(seconds=1), trait_keys=["plan"], trait_values=['"vip"']
    )
    assert traits_of(combine(of_event(new), of_event(old)), {})["plan"] == "gold"
    assert traits_of(fold_all([of_event(tie), of_event(old), of_event(new)]), {})["plan"] == "vip"
