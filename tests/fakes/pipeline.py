"""In-memory stand-ins for the call pipeline's other ports, to drive ``sync_call`` against a CRM fake."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ringbridge.domain.calls import CallRecord, CallStatus, Direction, SyncFailure, Utm
from ringbridge.domain.crm import CrmPort
from ringbridge.domain.employees import Employee, EmployeeKeyKind, employee_key
from ringbridge.domain.rules import SyncRules
from ringbridge.usecases.sync import SyncOutcome, sync_call

ANNA = Employee(employee_id="anna", name="Anna Nowak", crm_manager_id="1", ringostat_employee_id="r-anna", sip_accounts=["101"])
PIOTR = Employee(employee_id="piotr", name="Piotr Kowalski", crm_manager_id="2", ringostat_employee_id="r-piotr")


class Employees:
    def __init__(self, *employees: Employee) -> None:
        self._by_id = {e.employee_id: e for e in employees}
        self._by_key = {key: e for e in employees for key in e.identifier_keys()}

    def get(self, employee_id: str) -> Employee | None:
        return self._by_id.get(employee_id)

    def find(self, kind: EmployeeKeyKind, value: str) -> Employee | None:
        return self._by_key.get(employee_key(kind, value))


class Ledger:
    def __init__(self) -> None:
        self.held: dict[str, str] = {}
        self.values: dict[str, str] = {}

    def claim(self, key: str, owner: str, ttl_seconds: int | None = None) -> bool:
        if self.held.get(key, owner) != owner:
            return False
        self.held[key] = owner
        return True

    def release(self, key: str, owner: str) -> None:
        if self.held.get(key) == owner:
            del self.held[key]

    def recall(self, key: str) -> str | None:
        return self.values.get(key)

    def remember(self, key: str, value: str) -> None:
        self.values[key] = value


class Calls:
    def __init__(self) -> None:
        self.records: dict[str, CallRecord] = {}

    def get(self, call_id: str) -> CallRecord | None:
        return self.records.get(call_id)

    def record_sync_failure(self, call_id: str, failure: SyncFailure) -> None:
        current = self.records[call_id]
        kept = [known for known in current.sync_failures if known.step != failure.step]
        self.records[call_id] = current.model_copy(update={"sync_failures": [*kept, failure], "version": current.version + 1})

    def mark_synced(self, call_id: str, steps: dict[str, str], synced_at: str | None) -> CallRecord | None:
        current = self.records[call_id]
        changes: dict[str, object] = {"sync_steps": dict(steps), "version": current.version + 1}
        if synced_at is not None:
            changes["synced_at"] = synced_at
        self.records[call_id] = current.model_copy(update=changes)
        return self.records[call_id]


def make_call(
    call_id: str,
    phone: str,
    *,
    direction: Direction = Direction.INCOMING,
    answered: bool = True,
    employee: Employee | None = ANNA,
    recording_url: str | None = None,
    utm: Utm | None = None,
    keyword: str | None = None,
    started: datetime | None = None,
) -> CallRecord:
    start = started or datetime.now(UTC) - timedelta(minutes=3)
    return CallRecord(
        call_id=call_id,
        direction=direction,
        other_party=phone,
        status=CallStatus.ANSWERED if answered else CallStatus.MISSED,
        started_at=start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        duration=95 if answered else 20,
        talk_time=80 if answered else 0,
        employee_id=employee.ringostat_employee_id if (employee and answered) else None,
        recording_url=recording_url,
        utm=utm or Utm(),
        keyword=keyword,
        moments=["after_call"],
        moment_rank=3,
    )


class Pipeline:
    """``sync_call`` with in-memory ledger, calls and employees around one CRM adapter."""

    def __init__(
        self, crm: CrmPort, rules: SyncRules | None = None, employees: Employees | None = None, **rule_overrides: Any
    ) -> None:
        self.crm = crm
        self.rules = rules or SyncRules(**rule_overrides)
        self.calls = Calls()
        self.ledger = Ledger()
        self.employees = employees or Employees(ANNA, PIOTR)

    def sync(self, call: CallRecord) -> SyncOutcome:
        known = self.calls.records.get(call.call_id)
        if known is not None:
            # As the calls table's merge does: what an earlier sync wrote on the record stays.
            kept = ("sync_steps", "synced_at", "sync_failures", "version")
            call = call.model_copy(update={name: getattr(known, name) for name in kept})
        self.calls.records[call.call_id] = call
        return sync_call(call.call_id, self.calls, self.crm, self.employees, self.ledger, self.rules, datetime.now(UTC))
