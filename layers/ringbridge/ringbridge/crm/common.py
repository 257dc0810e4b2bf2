"""What both CRM adapters share: the employee look-up they need and small helpers."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Generic, Protocol, TypeVar

from ringbridge.domain.calls import CallRecord
from ringbridge.domain.employees import Employee, EmployeeKeyKind
from ringbridge.domain.sync import call_summary


class ManagerDirectory(Protocol):
    """Maps a CRM manager id back to the mapped employee (C2); the employees store fits."""

    def find(self, kind: EmployeeKeyKind, value: str) -> Employee | None: ...


def employee_for_manager(directory: ManagerDirectory | None, manager_id: object) -> str | None:
    if directory is None or manager_id in (None, ""):
        return None
    employee = directory.find(EmployeeKeyKind.CRM_MANAGER, str(manager_id))
    return employee.employee_id if employee else None


def call_marker(call_id: str) -> str:
    """The text that starts every note ringbridge writes about one call (its idempotency key)."""
    return f"Ringostat call {call_id};"


def call_line(call: CallRecord, manager: Employee | None) -> str:
    line = call_summary(call, manager)
    marker = call_marker(call.call_id)
    return line if line.startswith(marker) else f"{marker} {line}"


def parse_time(value: str) -> datetime:
    """An ISO 8601 time (``Z`` allowed); a naive one is taken as UTC."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


T = TypeVar("T")


class TtlCache(Generic[T]):
    """A value per key for ``ttl`` seconds of ``monotonic`` time (per Lambda container)."""

    def __init__(self, ttl: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._monotonic = monotonic
        self._values: dict[str, tuple[float, T]] = {}

    def get(self, key: str) -> T | None:
        hit = self._values.get(key)
        if hit is None or self._monotonic() - hit[0] > self._ttl:
            return None
        return hit[1]

    def put(self, key: str, value: T) -> None:
        self._values[key] = (self._monotonic(), value)
