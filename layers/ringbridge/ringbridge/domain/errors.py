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
