"""In-memory fakes of the domain's ports: the rules run against these in unit tests."""

from __future__ import annotations

from ringbridge.domain.calls import CallRecord
from ringbridge.domain.crm import CardDraft, ContactDraft, CrmCard, CrmContact, CrmTask, TaskDraft
from ringbridge.domain.employees import Employee, EmployeeKeyKind, employee_key


class FakeCrm:
    def __init__(self) -> None:
        self.contacts: dict[str, CrmContact] = {}
        self.cards: list[CrmCard] = []
        self.tasks: list[CrmTask] = []
        self.logged: dict[str, tuple[CallRecord, CrmContact | None, Employee | None]] = {}
        self.fail = False
        self.closed_by: dict[str, str] = {}

    def _maybe_fail(self) -> None:
        if self.fail:
            raise ConnectionError("CRM down")

    def find_contact(self, phone: str) -> CrmContact | None:
        self._maybe_fail()
        return self.contacts.get(phone)

    def create_contact(self, draft: ContactDraft) -> CrmContact:
        self._maybe_fail()
        responsible = draft.responsible.employee_id if draft.responsible else None
        return self.contacts.setdefault(
            draft.phone,
            CrmContact(
                crm_id=f"contact-{len(self.contacts) + 1}",
                phone=draft.phone,
                name=draft.name,
                responsible_employee_id=responsible,
            ),
        )

    def find_active_card(self, phone: str, contact: CrmContact) -> CrmCard | None:
        return next((card for card in self.cards if card.phone == phone and card.active), None)

    def create_card(self, draft: CardDraft) -> CrmCard:
        self._maybe_fail()
        card = CrmCard(crm_id=f"card-{draft.call_id}", phone=draft.phone)
        self.cards.append(card)
        return card

    def find_open_task(self, phone: str) -> CrmTask | None:
        return next((task for task in self.tasks if task.phone == phone and task.open), None)

    def create_task(self, draft: TaskDraft) -> CrmTask:
        task = CrmTask(crm_id=f"task-{draft.call_id}", phone=draft.phone)
        self.tasks.append(task)
        return task

    def close_callback(self, phone: str, call: CallRecord) -> str | None:
        task = self.find_open_task(phone)
        if task is None:
            return None
        self.tasks = [t.model_copy(update={"open": False}) if t.crm_id == task.crm_id else t for t in self.tasks]
        self.closed_by[task.crm_id] = call.call_id
        return task.crm_id

    def log_call(self, call: CallRecord, contact: CrmContact | None, manager: Employee | None) -> None:
        self._maybe_fail()
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
