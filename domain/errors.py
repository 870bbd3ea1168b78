"""Typed domain errors.

Services raise these; the HTTP layer maps them to statuses in exactly one place, by type
(``handlers/_app.py``). ``detail`` is what the reference puts in ``{"detail": ...}`` — usually a
string, in one case (multiple schedules) a list with one string.
"""

from __future__ import annotations

from typing import Any

INTEGRITY_DETAIL = (
    "Data integrity conflict. This usually means a unique or foreign key constraint was violated. "
    "See server logs for details."
)


class DomainError(Exception):
    """Base class: an expected, client-visible failure with a reference ``detail``."""

    def __init__(self, detail: Any):
        super().__init__(detail if isinstance(detail, str) else repr(detail))
        self.detail = detail


class NotFound(DomainError):
    """The addressed object does not exist (HTTP 404)."""


class ObjectNotFound(NotFound):
    """A 404 the reference answers as ``{"exception_message": detail}`` (its ObjectNotFoundError
    handler: set_state, work queue ``get_runs`` and ``status``; quirk Q16)."""


class Conflict(DomainError):
    """A rule about existing data forbids the change (HTTP 409)."""


class IntegrityConflict(Conflict):
    """A unique or reference constraint failed (HTTP 409, the reference's fixed text)."""

    def __init__(self, detail: str = INTEGRITY_DETAIL):
        super().__init__(detail)


class Forbidden(DomainError):
    """The action is not allowed for this object, e.g. reserved names (HTTP 403)."""


class BadRequest(DomainError):
    """The request is well formed but cannot be acted on (HTTP 400)."""


class Unprocessable(DomainError):
    """A semantic error reported as ``{"detail": ...}`` with HTTP 422."""


class InvalidInput(Exception):
    """Validation failure reported in the 422 *validation envelope* (``exception_detail``).

    ``errors`` is a list of ``{"loc": [...], "msg": str, "type": str}`` dicts.
    """

    def __init__(self, errors: list[dict[str, Any]]):
        super().__init__(errors)
        self.errors = errors


class ConditionFailed(Exception):
    """A conditional write lost: the stored item did not satisfy the write's condition.

    Raised by repositories (any adapter); services translate it into the domain error that fits.
    """


class TooLarge(Unprocessable):
    """An item would exceed the store's per-item size limit (DynamoDB: 400 KB)."""


class ServiceUnavailable(DomainError):
    """The store throttled or is unreachable; clients retry 503 with backoff."""
