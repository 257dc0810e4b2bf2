"""What both CRM adapters share: the employee look-up they need and small helpers."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Generic, TypeVar

from ringbridge.domain.clock import utc_now
from ringbridge.domain.crm import call_marker, call_summary
from ringbridge.domain.employees import EmployeeKeyKind
from ringbridge.domain.ports import EmployeeDirectory

# Maps a CRM manager id back to the mapped employee (C2): the domain's employee directory.
ManagerDirectory = EmployeeDirectory


def employee_for_manager(directory: ManagerDirectory | None, manager_id: object) -> str | None:
    if directory is None or manager_id in (None, ""):
        return None
    employee = directory.find(EmployeeKeyKind.CRM_MANAGER, str(manager_id))
    return employee.employee_id if employee else None


def parse_time(value: str) -> datetime:
    """An ISO 8601 time (``Z`` allowed); a naive one is taken as UTC."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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


# The call line an adapter writes is the domain's call note (it starts with the call's marker).
call_line = call_summary

__all__ = ["ManagerDirectory", "TtlCache", "call_line", "call_marker", "employee_for_manager", "parse_time", "utc_now"]
