"""What a CRM's call window asks of ringbridge (X1-X3): a contact, a card, a call.

Use cases behind the CRM-facing API; the handler parses and answers, these decide.
They work on the built-in store with the pipeline's own dedup rules.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ringbridge.domain.contacts import Contact
from ringbridge.domain.crm import CardDraft, ContactDraft, CrmCard
from ringbridge.domain.employees import Employee
from ringbridge.domain.errors import Unavailable, UnknownEmployee, Unprocessable
from ringbridge.storage.builtin_crm import BuiltinCrm
from ringbridge.storage.contacts import DynamoContacts, utc_now
from ringbridge.storage.employees import DynamoEmployees

CLICK_TO_CALL_MEMORY_SECONDS = 24 * 3600


def _employee(employees: DynamoEmployees, employee_id: str, field: str) -> Employee:
    employee = employees.get(employee_id)
    if employee is None:
        raise UnknownEmployee(f"invalid field '{field}': employee {employee_id} is not mapped")
    return employee


def create_contact(
    phone: str,
    name: str,
    responsible_employee_id: str | None,
    contacts: DynamoContacts,
    employees: DynamoEmployees,
    crm: BuiltinCrm,
) -> tuple[Contact, bool]:
    """The contact for ``phone``; ``True`` when this call created it (a known number is returned as is)."""
    existing = contacts.get(phone, consistent=True)
    if existing is not None:
        return existing, False
    responsible = _employee(employees, responsible_employee_id, "responsible_employee_id") if responsible_employee_id else None
    crm.create_contact(
        ContactDraft(call_id=f"api-{uuid.uuid4().hex}", phone=phone, name=name, source="CRM", responsible=responsible)
    )
    created = contacts.get(phone, consistent=True)
    if created is None:  # pragma: no cover - the conditional put either wrote it or found it
        raise Unavailable("the contact could not be read back; retry")
    return created, True


class ActiveCardExists(Exception):
    def __init__(self, card: CrmCard) -> None:
        super().__init__(card.crm_id)
        self.card = card


def open_card(
    phone: str, title: str | None, funnel_id: str, call_id: str | None, crm: BuiltinCrm, employees: DynamoEmployees
) -> CardDraft:
    """F3/F5 from the call window: a card only when the number has no active one."""
    contact = crm.find_contact(phone)
    if contact is None:
        raise Unprocessable("no contact with this number: create it first (POST /contacts)")
    active = crm.find_active_card(phone, contact)
    if active is not None:
        raise ActiveCardExists(active)
    manager = employees.get(contact.responsible_employee_id) if contact.responsible_employee_id else None
    draft = CardDraft(
        call_id=call_id or f"api-{uuid.uuid4().hex}",
        phone=phone,
        contact=contact,
        funnel_id=funnel_id,
        title=title or f"Call with {contact.name or 'a new client'}",
        manager=manager,
        summary="Opened from the CRM's call window",
    )
    crm.create_card(draft)
    return draft


@dataclass(frozen=True)
class CallStart:
    mode: str  # "deep_link" | "callback"
    phone: str
    sip_account: str
    employee_id: str


def start_call(
    phone: str,
    employee_id: str,
    deep_link: bool,
    employees: DynamoEmployees,
    ring_manager_then_client: Callable[[str, str], object],
    remember: Callable[[dict[str, Any]], None],
) -> CallStart:
    """X1: Ringostat rings the manager's SIP account, then the client; X2: the softphone dials itself."""
    employee = _employee(employees, employee_id, "employee_id")
    sip_account = employee.routing_target
    if sip_account is None:
        raise Unprocessable(f"invalid field 'employee_id': employee {employee_id} has no SIP account to ring")
    mode = "deep_link" if deep_link else "callback"
    if not deep_link:
        ring_manager_then_client(sip_account, phone.lstrip("+"))
    # Who asked to call this number, kept a day (an audit trail; TTL in the dedup table).
    remember(
        {
            "id": {"S": f"click_to_call#{phone}"},
            "employee_id": {"S": employee.employee_id},
            "sip_account": {"S": sip_account},
            "mode": {"S": mode},
            "requested_at": {"S": utc_now()},
            "expiration": {"N": str(int(time.time()) + CLICK_TO_CALL_MEMORY_SECONDS)},
        }
    )
    return CallStart(mode=mode, phone=phone, sip_account=sip_account, employee_id=employee.employee_id)
