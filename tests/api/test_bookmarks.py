"""`X-Idgraph-Bookmark` in one process: a write answers with the bookmark of its transaction, a read accepts
it (and a bookmark idgraph did not hand out is a clear 400). The same across two processes is in
tests/system/test_scale_out.py."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.helpers import unique

Client = TestClient[Any]
HEADER = "X-Idgraph-Bookmark"
# Neo4j 5's bookmark format: "FB:" and base64.
BOOKMARK = re.compile(r"FB:[A-Za-z0-9+/=]+")


def _track(client: Client, source_id: str, email: str, **kw: Any) -> Any:
    body = {
        "source": {"id": source_id},
        "session": {"id": unique("sess")},
        "events": [{"type": "identify", "properties": {"email": email}}],
    }
    return client.post("/track", json=body, **kw)


def test_a_write_answers_with_its_bookmark_and_a_read_after_it_sees_the_write(
    client: Client, source_id: str, admin: dict[str, str]
) -> None:
    email = f"{unique('bm')}@example.com"
    written = _track(client, source_id, email)
    assert written.status_code == 200, written.text
    bookmark = written.headers.get(HEADER)
    assert bookmark is not None and BOOKMARK.fullmatch(bookmark), bookmark

    read = client.get(f"/aliases/urn:email:{email}", headers={**admin, HEADER: bookmark})
    assert read.status_code == 200, read.text
    assert read.json()["profile"]["id"] == written.json()["profile"]["id"]
    assert HEADER not in read.headers, "a request that wrote nothing hands out no bookmark"

    # A later write's bookmark supersedes it; both together are accepted too (comma-separated).
    second = _track(client, source_id, f"{unique('bm')}@example.com", headers={HEADER: bookmark})
    later = second.headers[HEADER]
    assert second.status_code == 200 and later != bookmark
    both = client.get(f"/aliases/urn:email:{email}", headers={**admin, HEADER: f"{bookmark}, {later}"})
    assert both.status_code == 200, both.text


def test_admin_writes_hand_out_bookmarks_too(client: Client, admin: dict[str, str]) -> None:
    created = client.post("/sources", json={"name": "bookmarked"}, headers=admin)
    assert created.status_code == 201 and BOOKMARK.fullmatch(created.headers[HEADER])


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("not a bookmark!", "not a bookmark idgraph handed out"),
        (" , ", "is empty"),
        (",".join(f"FB:a{i}" for i in range(17)), "more than 16"),
        ("FB:" + "A" * 300, "not a bookmark idgraph handed out"),
        # Well-formed text, but no bookmark Neo4j can read: Neo4j's refusal becomes the same 400.
        ("FB:kcwQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "not a bookmark of this database"),
    ],
)
def test_a_malformed_bookmark_is_a_400_problem(
    client: Client, source_id: str, admin: dict[str, str], value: str, why: str
) -> None:
    for response in (
        client.get("/aliases/urn:email:nobody@example.com", headers={**admin, HEADER: value}),
        _track(client, source_id, f"{unique('bm')}@example.com", headers={HEADER: value}),
    ):
        assert response.status_code == 400, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "X-Idgraph-Bookmark" in response.json()["detail"] and why in response.json()["detail"]
