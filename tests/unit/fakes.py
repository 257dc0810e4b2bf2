"""In-memory fakes of the domain's ports: the rules run against these in unit tests."""

from __future__ import annotations

from ringbridge.domain.calls import CallRecord, SyncFailure, Utm
from ringbridge.domain.crm import CardDraft, ContactDraft, CrmCard, CrmContact, CrmRefusal, CrmTask, TaskDraft
from ringbridge.domain.employees import Employee, EmployeeKeyKind, employee_key


class Refused(CrmRefusal):
    """What an adapter raises for a 4xx: ``status`` decides whether it is permanent."""

    def __init__(self, status: int = 400, reason: str = "refused") -> None:
        super().__init__(f"HTTP {status}: {reason}")
        self.status = status
        self.reason = reason


class FakeCrm:
    def __init__(self) -> None:
        self.contacts: dict[str, CrmContact] = {}
        self.cards: list[CrmCard] = []
        self.tasks: list[CrmTask] = []
        self.logged: dict[str, tuple[CallRecord, CrmContact | None, Employee | None]] = {}
        self.fail = False
        # Per method: the exception it raises (a refusal, an outage) instead of working.
        self.broken: dict[str, Exception] = {}
        self.calls_made: list[str] = []
        self.utm: dict[str, Utm] = {}
        self.closed_by: dict[str, str] = {}
        self.known_ids: list[tuple[str, str | None]] = []  # (method, known_id) as the pipeline passed them

    def _maybe_fail(self, method: str = "") -> None:
        self.calls_made.append(method)
        if method in self.broken:
            raise self.broken[method]
        if self.fail:
            raise ConnectionError("CRM down")

    def find_contact(self, phone: str) -> CrmContact | None:
        self._maybe_fail("find_contact")
        return self.contacts.get(phone)

    def create_contact(self, draft: ContactDraft) -> CrmContact:
        self._maybe_fail("create_contact")
        responsible = draft.responsible.employee_id if draft.responsible else None
        return self.contacts.setdefault(
            draft.phone,
            CrmContact(
                crm_id=f"contact-{len(self.contacts) + 1}",
                phone=draft.phone,
                name=draft.name,
                responsible_employee_id=responsible,
                has_utm=any(draft.utm.model_dump().values()),
            ),
        )

    def find_active_card(self, phone: str, contact: CrmContact, known_id: str | None = None) -> CrmCard | None:
        self._maybe_fail("find_active_card")
        self.known_ids.append(("find_active_card", known_id))
        return next((card for card in self.cards if card.phone == phone and card.active), None)

    def create_card(self, draft: CardDraft) -> CrmCard:
        self._maybe_fail("create_card")
        card = CrmCard(crm_id=f"card-{draft.call_id}", phone=draft.phone)
        self.cards.append(card)
        return card

    def find_open_task(self, phone: str, known_id: str | None = None) -> CrmTask | None:
        self.known_ids.append(("find_open_task", known_id))
        return next((task for task in self.tasks if task.phone == phone and task.open), None)

    def create_task(self, draft: TaskDraft) -> CrmTask:
        self._maybe_fail("create_task")
        task = CrmTask(crm_id=f"task-{draft.call_id}", phone=draft.phone)
        self.tasks.append(task)
        return task

    def write_utm(self, contact: CrmContact, utm: Utm, keyword: str | None) -> None:
        self._maybe_fail("write_utm")
        self.utm[contact.phone] = utm
        self.contacts[contact.phone] = contact.model_copy(update={"has_utm": True})

    def close_callback(self, phone: str, call: CallRecord, known_id: str | None = None) -> str | None:
        self.known_ids.append(("close_callback", known_id))
        task = next((task for task in self.tasks if task.phone == phone and task.open), None)
        if task is None:
            return None
        self.tasks = [t.model_copy(update={"open": False}) if t.crm_id == task.crm_id else t for t in self.tasks]
        self.closed_by[task.crm_id] = call.call_id
        return task.crm_id

    def log_call(self, call: CallRecord, contact: CrmContact | None, manager: Employee | None) -> None:
        self._maybe_fail("log_call")
        self.logged[call.call_id] = (call, contact, manager)


class FakeLedger:
    def __init__(self) -> None:
        self.owners: dict[str, str] = {}
        self.values: dict[str, str] = {}

    def claim(self, key: str, owner: str, ttl_seconds: int | None = None) -> bool:
        return self.owners.setdefault(key, owner) == owner

    def release(self, key: str, owner: str) -> None:
        if self.owners.get(key) == owner:
            del self.owners[key]

    def recall(self, key: str) -> str | None:
        return self.values.get(key)

    def remember(self, key: str, value: str) -> None:
        self.values[key] = value


class FakeEmployees:
    def __init__(self, *employees: Employee) -> None:
        self.by_key = {key: employee for employee in employees for key in employee.identifier_keys()}

    def get(self, employee_id: str) -> Employee | None:
        return self.find(EmployeeKeyKind.EMPLOYEE, employee_id)

    def find(self, kind: EmployeeKeyKind, value: str) -> Employee | None:
        return self.by_key.get(employee_key(kind, value))


class FakeCalls:
    def __init__(self, *records: CallRecord) -> None:
        self.records = {record.call_id: record for record in records}

    def get(self, call_id: str) -> CallRecord | None:
        return self.records.get(call_id)

    def record_sync_failure(self, call_id: str, failure: SyncFailure) -> None:
        current = self.records[call_id]
        kept = [known for known in current.sync_failures if known.step != failure.step]
        self.records[call_id] = current.model_copy(update={"sync_failures": [*kept, failure], "version": current.version + 1})
