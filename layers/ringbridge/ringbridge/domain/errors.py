"""Domain errors: the web layer maps each class to one HTTP status in one place."""


class DomainError(Exception):
    """Base class: ``reason`` is safe to show to the caller (no secrets, no full numbers)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidInput(DomainError):
    """The request is malformed or a value is impossible (HTTP 400)."""


class NotFound(DomainError):
    """The named object does not exist (HTTP 404)."""


class Conflict(DomainError):
    """The change collides with existing data (HTTP 409)."""


class UnknownEmployee(DomainError):
    """A reference names an employee that is not mapped (HTTP 422)."""


class PayloadTooLarge(DomainError):
    """The request, or what it would make a record hold, is larger than allowed (HTTP 413)."""


class Unprocessable(DomainError):
    """The request is well formed but names something that cannot be used (HTTP 422)."""


class PreconditionFailed(DomainError):
    """A conditional request's condition does not hold, e.g. a stale ``If-Match`` (HTTP 412).

    ``current_version`` is what the caller should read again (sent back as the ETag).
    """

    def __init__(self, reason: str, current_version: int | None = None) -> None:
        super().__init__(reason)
        self.current_version = current_version


class PreconditionRequired(DomainError):
    """A conditional request came without its condition, e.g. no ``If-Match`` (HTTP 428)."""


class UpstreamFailed(DomainError):
    """A service we depend on refused or failed the request (HTTP 502)."""


class UpstreamTimeout(DomainError):
    """A service we depend on did not answer in time (HTTP 504)."""


class Unavailable(DomainError):
    """A dependency (secrets store, database) cannot be reached right now (HTTP 503)."""
