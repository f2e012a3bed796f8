"""Typed domain errors shared by every face (Python API, magics, REST).

Services raise these; the REST base handler maps each class to one HTTP status,
the magics turn them into ``UsageError``. Nothing outside the services decides
which error applies.
"""

from __future__ import annotations


class MlopsError(Exception):
    """Base class of every error mlops_jlab raises on purpose."""

    code = "bad_request"
    http_status = 400

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, object]:
        """JSON body of the error as the REST API returns it."""
        body: dict[str, object] = {"error": self.code, "message": self.message}
        body.update({k: v for k, v in self.details.items() if v is not None})
        return body


class InvalidInput(MlopsError):
    """The input cannot be parsed or has the wrong shape (HTTP 400)."""


class PipelineError(InvalidInput):
    """A pipeline file is not valid (HTTP 400); the message names the file and what is
    wrong with it."""

    code = "invalid_pipeline"


class FilterError(InvalidInput):
    """A search filter is malformed; ``position`` points at the offending character."""

    code = "bad_filter"

    def __init__(self, message: str, position: int | None = None, text: str | None = None):
        pointer = None
        if text is not None and position is not None:
            pointer = f"{text}\n{' ' * position}^"
        full = f"{message} (at position {position})" if position is not None else message
        super().__init__(full, position=position)
        self.position = position
        self.pointer = pointer

    def __str__(self) -> str:
        return f"{self.message}\n{self.pointer}" if self.pointer else self.message


class OrderByError(InvalidInput):
    """An ``order_by`` clause names an unknown field or direction."""

    code = "bad_order_by"


class PageTokenError(InvalidInput):
    """A paging cursor is not one this server issued."""

    code = "bad_page_token"


class SchemaMismatch(InvalidInput):
    """Model input does not match the signature; ``problems`` lists each mismatch."""

    code = "schema_mismatch"

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message, problems=problems or [])
        self.problems = problems or []


class UntrustedModel(MlopsError):
    """A model file holds types outside the trusted list, or its files fail their hashes."""

    code = "untrusted_model"
    http_status = 422

    def __init__(self, message: str, untrusted_types: list[str] | None = None) -> None:
        super().__init__(message, untrusted_types=untrusted_types or None)
        self.untrusted_types = untrusted_types or []


class NotFound(MlopsError):
    """The named experiment, run, metric or artifact does not exist (HTTP 404)."""

    code = "not_found"
    http_status = 404


class Conflict(MlopsError):
    """The request collides with existing state, e.g. a duplicate name (HTTP 409)."""

    code = "conflict"
    http_status = 409


class RuleViolation(MlopsError):
    """Well-formed input that breaks a domain rule (HTTP 422)."""

    code = "invalid"
    http_status = 422


class ConfigurationError(MlopsError):
    """The configuration (env vars, traits, remote server) is unusable."""

    code = "configuration"
    http_status = 500


_ATTRIBUTES = ("problems", "untrusted_types", "position", "needed")


def error_class(code: object, status: int = 400) -> type[MlopsError]:
    """The error class whose ``code`` is ``code`` (the most derived one when several
    share it); else the class of the HTTP ``status``; else :class:`MlopsError`."""
    by_code: dict[str, type[MlopsError]] = {}
    by_status: dict[int, type[MlopsError]] = {}
    pending: list[type[MlopsError]] = [MlopsError]
    while pending:
        cls = pending.pop(0)
        by_code[cls.code] = cls
        by_status.setdefault(cls.http_status, cls)
        pending.extend(cls.__subclasses__())
    if isinstance(code, str) and code in by_code:
        return by_code[code]
    return by_status.get(status, InvalidInput if 400 <= status < 500 else MlopsError)


def from_dict(body: object, status: int = 400) -> MlopsError:
    """The typed error a REST error body describes (the inverse of ``to_dict``), so a
    client over HTTP raises what the services raised."""
    if not isinstance(body, dict):
        body = {"message": str(body)}
    cls = error_class(body.get("error"), status)
    message = str(body.get("message") or body.get("error") or f"HTTP {status}")
    details = {k: v for k, v in body.items() if k not in ("error", "message")}
    error = cls.__new__(cls)
    MlopsError.__init__(error, message, **details)
    for name in _ATTRIBUTES:  # the attributes the typed constructors set
        if name in details:
            setattr(error, name, details[name])
    if isinstance(error, FilterError):
        error.position = details.get("position")  # type: ignore[assignment]
        error.pointer = None
    if isinstance(error, SchemaMismatch) and "problems" not in details:
        error.problems = []
    if isinstance(error, UntrustedModel) and "untrusted_types" not in details:
        error.untrusted_types = []
    return error


class PermissionDenied(MlopsError):
    """The acting user's role or the resource's permissions do not allow this (HTTP 403).

    ``needed`` names the role the action takes, when a role is what is missing."""

    code = "permission_denied"
    http_status = 403

    def __init__(self, message: str, needed: str | None = None) -> None:
        super().__init__(message, needed=needed)
        self.needed = needed


class ApprovalRequired(RuleViolation):
    """Moving ``@production`` takes an approved promotion request (HTTP 422)."""

    code = "approval_required"


class IdempotencyKeyReused(Conflict):
    """An ``Idempotency-Key`` already used by this user for a different request (409)."""

    code = "idempotency_key_reused"


class RequestInProgress(Conflict):
    """The first request with this ``Idempotency-Key`` is still running: retry shortly."""

    code = "request_in_progress"


class AuditKeyError(ConfigurationError):
    """The audit key file is unusable: readable by others, malformed, or missing where
    it must exist (rotation). The message names the file and the fix."""

    code = "audit_key"
