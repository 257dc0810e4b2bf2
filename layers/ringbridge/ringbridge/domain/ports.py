"""The ports: what the use cases need from storage, queues and Ringostat, as small Protocols.

DynamoDB/SQS implementations live in ``ringbridge.storage``; tests use in-memory fakes.
The CRM port (``CrmPort``) is in ``domain/crm.py``; the routing ping's one read
(``RouteLookup``) in ``domain/routing.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ringbridge.domain.calls import CallEvent, CallRecord, SyncFailure
    from ringbridge.domain.contacts import Contact
    from ringbridge.domain.crm_check import CheckFinding
    from ringbridge.domain.employees import Employee, EmployeeKeyKind, StaffMember


class EmployeeDirectory(Protocol):
    """Finds a mapped employee by id or by any identifier (C2)."""

    def get(self, employee_id: str) -> Employee | None: ...

    def find(self, kind: EmployeeKeyKind, value: str) -> Employee | None: ...


class EmployeeStore(EmployeeDirectory, Protocol):
    def save(self, employee: Employee) -> None:
        """Write the employee and every identifier; raise Conflict if one is another's."""

    def delete(self, employee_id: str) -> bool: ...

    def list(self) -> Iterable[Employee]: ...


class ContactStore(Protocol):
    """The built-in store's contacts, keyed by E.164 number; they carry the routing ping's ``route_to``."""

    def get(self, phone: str, consistent: bool = False) -> Contact | None: ...

    def upsert(
        self, phone: str, name: str | None, responsible_employee_id: str | None, manager_name: str | None, route_to: str | None
    ) -> Contact:
        """Create or change the contact; a ``None`` value removes that attribute."""

    def reroute_employee(self, employee_id: str, route_to: str | None, manager_name: str | None) -> int:
        """Set ``route_to`` and ``manager_name`` on every contact of this responsible employee; return how many."""


class ContactProjection(Protocol):
    """The contacts table as a projection of an outside CRM's contacts (R2 with KeyCRM or NetHunt).

    ``route`` is ``(responsible_employee_id, manager_name, route_to)``, all ``None`` for a
    contact nobody mapped is responsible for; ``route`` ``None`` leaves the route as it is.
    """

    def project(
        self, phone: str, crm_contact_id: str, name: str | None, route: tuple[str | None, str | None, str | None] | None
    ) -> Contact | None:
        """Write the CRM's view of the number; return the item as it was before (None: new)."""


class CallStore(Protocol):
    """One record per call id, written with optimistic concurrency (``version``)."""

    def get(self, call_id: str) -> CallRecord | None: ...

    def apply(self, event: CallEvent) -> tuple[CallRecord, bool]:
        """Merge ``event`` into its record; return the record and whether it changed."""

    def save(self, record: CallRecord, expected_version: int) -> bool:
        """Write ``record`` if nobody wrote it since ``expected_version``; False otherwise."""

    def record_sync_failure(self, call_id: str, failure: SyncFailure) -> None:
        """Put ``failure`` on the call (replacing an earlier one of the same step), with a versioned write."""

    def mark_synced(self, call_id: str, steps: dict[str, str], synced_at: str | None) -> CallRecord | None:
        """Keep the call's done CRM steps (``steps`` replaces the map) and, when given, when its sync finished.

        Returns the call as written (None: it is gone).
        """


class CallQueue(Protocol):
    def enqueue(self, call_id: str, moment: str) -> None:
        """Hand the call to the CRM sync worker."""


class Ledger(Protocol):
    """Conditional writes that make the pipeline exactly-once (the dedup table)."""

    def claim(self, key: str, owner: str, ttl_seconds: int | None = None) -> bool:
        """Take ``key`` for ``owner`` unless someone else holds it; True if ``owner`` holds it now."""

    def release(self, key: str, owner: str) -> None: ...

    def recall(self, key: str) -> str | None: ...

    def remember(self, key: str, value: str) -> None: ...


class ClickToCallLog(Protocol):
    """Who asked to call a number, and how (X1, X2): an audit trail kept for ``ttl_seconds``."""

    def record_click_to_call(self, phone: str, employee_id: str, sip_account: str, mode: str, ttl_seconds: int) -> None: ...


class OutwardCalls(Protocol):
    """Ringostat's click-to-call (X1): ring ``extension`` (the manager's SIP account), then ``destination``."""

    def outward_call(self, extension: str, destination: str) -> object: ...


class StaffSource(Protocol):
    """Ringostat's staff list (C2): every employee of the project with their SIP accounts and numbers."""

    def staff_list(self) -> Sequence[StaffMember]: ...


class CrmRecords(Protocol):
    """The built-in store's cards and tasks as people change them: reads, versioned writes, the contact's pointers."""

    def card(self, card_id: str) -> dict[str, Any] | None: ...

    def task(self, task_id: str) -> dict[str, Any] | None: ...

    def change_card(self, card_id: str, changes: dict[str, Any], expected_version: int | None) -> dict[str, Any]:
        """Write ``changes`` over ``expected_version`` (None: any); raise PreconditionFailed when it moved on."""

    def change_task(self, task_id: str, changes: dict[str, Any], expected_version: int | None) -> dict[str, Any]: ...

    def claim_card_pointer(self, phone: str, card_id: str) -> bool:
        """Point the number's contact at ``card_id`` unless another active card holds the pointer."""

    def release_pointer(self, phone: str, pointer: str, item_id: str) -> None:
        """Remove the pointer (``open_card_id``/``open_task_id``) if it still names ``item_id``."""


class CrmConfigurationCheck(Protocol):
    """``crm check``: the configured CRM asked, with read-only requests, whether the settings hold.

    ``employees`` are the mapped employees (their ``crm_manager_id``s are checked against the
    CRM's users). A check the CRM could not answer is a failed finding, never an exception.
    """

    def findings(self, employees: Sequence[Employee]) -> list[CheckFinding]: ...


class RateBudget(Protocol):
    """One CRM key's request budget, shared by every container that uses the key.

    Time is cut into slots of equal length (the CRM's window divided by the requests it allows
    in it); each request takes a slot of its own, the earliest free one, and is sent no sooner
    than its slot starts. ``key`` names the budget (a hash of the CRM key, never the key).
    """

    def claim(self, key: str, current: int, latest: int) -> int | None:
        """Take the earliest free slot from ``current`` on, no later than ``latest``; None: all taken."""
