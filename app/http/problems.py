"""Errors as `application/problem+json` (RFC 9457), one shape for every endpoint.

Litestar reports a body that fails its msgspec type as a 400 ValidationException; the contract wants 400 only
for malformed JSON or a body that is not an object, and 422 (with the JSON path of each failure) for
well-formed JSON that breaks the contract. The handlers here make that distinction in one place.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, TypeVar

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from app.logging import get_logger
from graph_model.errors import DomainError, FieldError, InvalidInput, MalformedInput

log = get_logger(__name__)

PROBLEM_JSON = "application/problem+json"

_T = TypeVar("_T")


class Problem(msgspec.Struct, omit_defaults=True):
    status: int
    title: str
    detail: str
    type: str = "about:blank"
    errors: list[FieldError] | None = None


class ApiError(HTTPException):
    """An error the API answers on purpose: a status, a detail, and for invalid input the failing paths."""

    def __init__(
        self,
        status: int,
        detail: str,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail=detail, status_code=status, headers=headers)
        self.errors = errors


def found(value: _T | None, missing: str) -> _T:
    """What a service answered, or a 404 saying what is missing (a service answers None for an unknown id)."""
    if value is None:
        raise ApiError(404, missing)
    return value


def invalid(path: str, message: str) -> ApiError:
    """422 for one failing field of otherwise well-formed JSON."""
    return ApiError(422, f"{path}: {message}", [FieldError(path, message)])


def problem_response(
    status: int, detail: str, errors: list[FieldError] | None = None, headers: dict[str, str] | None = None
) -> Response[Problem]:
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    return Response(
        Problem(status=status, title=title, detail=detail, errors=errors),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _json_path(key: str) -> str:
    if key in ("", "data"):
        return "$"
    return "$." + key if not key.startswith("[") else "$" + key


def _from_validation(exc: ValidationException) -> Response[Problem]:
    extra = exc.extra if isinstance(exc.extra, list) else []
    body_errors = [e for e in extra if isinstance(e, dict) and e.get("source") == "body"]
    if not body_errors:
        # Query and path parameters: the request itself is malformed.
        errors = [
            FieldError(str(e.get("key", "")), str(e.get("message", ""))) for e in extra if isinstance(e, dict)
        ]
        return problem_response(400, exc.detail or "invalid request parameters", errors or None)
    if any(
        _json_path(str(e.get("key", ""))) == "$" and "Expected `object`" in str(e.get("message", ""))
        for e in body_errors
    ):
        return problem_response(400, "the request body must be a JSON object")
    errors = [FieldError(_json_path(str(e.get("key", ""))), str(e.get("message", ""))) for e in body_errors]
    detail = "; ".join(f"{e.path}: {e.message}" for e in errors)
    return problem_response(422, detail, errors)


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    if isinstance(exc, ApiError):
        return problem_response(exc.status_code, exc.detail, exc.errors, exc.headers)
    if isinstance(exc, ValidationException):
        return _from_validation(exc)
    detail = exc.detail
    if exc.status_code == 400 and "malformed" in detail.lower():
        detail = f"malformed JSON: {detail}"
    elif exc.status_code == 413:
        detail = "the request body is larger than this endpoint accepts"
    return problem_response(exc.status_code, detail, headers=exc.headers)


def domain_error_handler(request: Request[Any, Any, Any], exc: DomainError) -> Response[Problem]:
    """What a dialect or a service refused: 400 for input of no known shape, 422 for a broken contract."""
    if isinstance(exc, InvalidInput):
        return problem_response(422, exc.detail, exc.errors)
    if isinstance(exc, MalformedInput):
        return problem_response(400, exc.detail)
    return problem_response(422, exc.detail)


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    log.error("unhandled error", path=request.url.path, error_type=type(exc).__name__, exc_info=exc)
    return problem_response(500, "internal error; the request id in the logs has the details")


def database_unavailable_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    """Neo4j away or overloaded past the driver's retries: 503 and a hint when to come back, never a 500."""
    log.warning("neo4j unavailable", path=request.url.path, error_type=type(exc).__name__)
    return problem_response(
        503, "the graph database is unavailable; retry later", headers={"Retry-After": "5"}
    )
