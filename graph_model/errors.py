"""Errors the domain and the use cases raise on purpose; the HTTP layer turns each into problem+json.

They say what is wrong with the input, never how to answer: `app/http/problems.py` maps `MalformedInput` to
400 and `InvalidInput` to 422 with the failing JSON paths, and the CLI's import reports them as rejects.
"""

from __future__ import annotations

import msgspec


class FieldError(msgspec.Struct, frozen=True):
    path: str  # a JSON path into the request, e.g. "$.events[0].type"
    message: str


class DomainError(Exception):
    """Base of the errors a caller caused (as opposed to a fault of idgraph or of Neo4j)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class MalformedInput(DomainError):
    """Not JSON, or not the shape any request has (e.g. a body that is not an object)."""


class InvalidInput(DomainError):
    """Well-formed input that breaks the contract, with each failing field."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.path}: {e.message}" for e in errors))
        self.errors = errors


def invalid(path: str, message: str) -> InvalidInput:
    """One failing field of otherwise well-formed input."""
    return InvalidInput([FieldError(path, message)])
