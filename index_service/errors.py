"""Domain errors. Services raise these (they never import FastAPI); the API turns each
into an RFC 9457 problem document with the status given here."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    code = "bad_request"
    title = "Bad request"

    def __init__(self, detail: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.extra = extra


class InvalidInput(DomainError):
    status = 422
    code = "invalid_input"
    title = "The request is not valid"


class Unauthenticated(DomainError):
    status = 401
    code = "unauthenticated"
    title = "Authentication failed"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    title = "Not allowed"


class NotFound(DomainError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "Conflict"


class PreconditionFailed(DomainError):
    status = 412
    code = "precondition_failed"
    title = "The record has changed since you read it"


class MalformedIfMatch(PreconditionFailed):
    """If-Match that is not an ETag this service writes: not a change someone made."""

    code = "if_match_malformed"
    title = "If-Match is not an ETag"


class PreconditionRequired(DomainError):
    status = 428
    code = "precondition_required"
    title = "If-Match is required"


class MalformedBody(DomainError):
    """A body that is JSON in no reliable sense: one object naming a field twice (parsers
    disagree on which wins), or nesting deeper than a parser can follow."""

    status = 400
    code = "malformed_json"
    title = "Malformed JSON"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"
    title = "Request body too large"


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"
    title = "Unsupported content type"


class AuditUnavailable(DomainError):
    """The audit row could not be written, so the request is answered with nothing."""

    status = 500
    code = "audit_unavailable"
    title = "The request could not be recorded"


class ServiceUnavailable(DomainError):
    status = 503
    code = "service_unavailable"
    title = "A service this request depends on is unavailable"


class ServiceBusy(DomainError):
    """Full: every connection is in use and the request waited its time for one;
    `retry_after` (seconds) becomes the Retry-After header."""

    status = 503
    code = "service_busy"
    title = "The service is busy"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)


class DatabaseUnavailable(ServiceBusy):
    """The database could not be reached (down, restarting): nothing was done."""

    code = "database_unavailable"
    title = "The index's database is unavailable"


class TooManyRequests(DomainError):
    """Over a rate limit; `retry_after` (seconds) becomes the Retry-After header."""

    status = 429
    code = "rate_limited"
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
