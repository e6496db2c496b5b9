"""The JSON shape limits (app/http/limits.py): the first value that breaks one, named by its JSON path."""

from __future__ import annotations

import msgspec
import pytest

from app.http.limits import JsonLimits, check_json, check_json_bytes
from app.http.problems import ApiError

LIMITS = JsonLimits(max_depth=4, max_string=8, max_keys=3)


def failure(value: object, limits: JsonLimits = LIMITS, **kw: bool) -> tuple[str, str] | None:
    try:
        check_json(value, limits, **kw)
    except ApiError as exc:
        assert exc.status_code == 422 and exc.errors is not None
        return exc.errors[0].path, exc.errors[0].message
    return None


@pytest.mark.parametrize(
    ("value", "path", "message"),
    [
        ({"events": [{"a": "x" * 9}]}, "$.events[0].a", "strings may hold at most 8 characters"),
        ({"events": [{}, {"a b": ["ok", "y" * 9]}]}, '$.events[1]["a b"][1]', "strings may hold"),
        ({"k": {"x" * 9: 1}}, "$.k.xxxxxxxxx", "keys may hold"),
        ({"k": {"x y" * 3: 1}}, '$.k["x yx yx y"]', "keys may hold"),
        ({"a": [[[[1]]]]}, "$.a[0][0][0]", "JSON may nest at most 4 levels deep"),
        ({"a": {"p": 1, "q": 2, "r": 3, "s": 4}}, "$.a", "an object may hold at most 3 keys"),
    ],
)
def test_the_failing_value_is_named_by_its_path(value: object, path: str, message: str) -> None:
    found = failure(value)
    assert found is not None and found[0] == path and found[1].startswith(message)


def test_within_limits_passes() -> None:
    assert failure({"events": [{"type": "x", "p": [1, 2.5, None, True]}]}) is None


def test_containers_only_finds_the_same_container_failures() -> None:
    """Without the string checks (a body no longer than the string limit) a depth or key-count failure is
    the same one, at the same path."""
    for value in ({"a": [[[[1]]]]}, {"b": [{}, {"p": 1, "q": 2, "r": 3, "s": 4}]}, {"c": ["s", {"d": []}]}):
        assert failure(value, strings=False) == failure(value)


def test_a_body_longer_than_the_string_limit_still_checks_strings() -> None:
    body = msgspec.json.encode({"a": "z" * 9})
    with pytest.raises(ApiError) as caught:
        check_json_bytes(body, LIMITS)
    assert caught.value.errors is not None and caught.value.errors[0].path == "$.a"
