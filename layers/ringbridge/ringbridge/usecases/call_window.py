"""What a CRM's call window asks of ringbridge (X1-X3): a contact, a card, a call.

The contact and card are created in the built-in store under the same per-number lock
the CRM sync worker takes, so a click in the call window and a call being synced never
both create (F5).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from ringbridge.domain.contacts import Contact
from ringbridge.domain.crm import CardDraft, ContactDraft, CrmCard, CrmPort
from ringbridge.domain.employees import Employee
from ringbridge.domain.errors import Conflict, Unavailable, UnknownEmployee, Unprocessable
from ringbridge.domain.phones import mask_phone
from ringbridge.domain.ports import CallStore, ClickToCallLog, ContactStore, EmployeeDirectory, Ledger, OutwardCalls
from ringbridge.usecases.sync import LOCK_SECONDS, number_lock

CLICK_TO_CALL_MEMORY_SECONDS = 24 * 3600
# Ringostat's client is built only when a call is really placed (its credentials are read then).
OutwardCallsFactory = Callable[[], OutwardCalls]


def _employee(employees: EmployeeDirectory, employee_id: str, field: str) -> Employee:
    employee = employees.get(employee_id)
    if employee is None:
        raise UnknownEmployee(f"invalid field '{field}': employee {employee_id} is not mapped")
    return employee


def _locked(phone: str, owner: str, ledger: Ledger) -> None:
    if not ledger.claim(number_lock(phone), owner, ttl_seconds=LOCK_SECONDS):
        raise Conflict(f"{mask_phone(phone)} is being updated by a call right now; retry in a moment")


def create_contact(
    phone: str,
    name: str,
    responsible_employee_id: str | None,
    contacts: ContactStore,
    employees: EmployeeDirectory,
    crm: CrmPort,
    ledger: Ledger,
) -> tuple[Contact, bool]:
    """The contact for ``phone``; ``True`` when this request created it (a known number is returned as is)."""
    responsible = _employee(employees, responsible_employee_id, "responsible_employee_id") if responsible_employee_id else None
    owner = f"api-{uuid.uuid4().hex}"
    _locked(phone, owner, ledger)
    try:
        existing = contacts.get(phone, consistent=True)
        if existing is not None:
            return existing, False
        crm.create_contact(ContactDraft(call_id=owner, phone=phone, name=name, source="CRM", responsible=responsible))
    finally:
        ledger.release(number_lock(phone), owner)
    created = contacts.get(phone, consistent=True)
    if created is None:  # pragma: no cover - the conditional put either wrote it or found it
        raise Unavailable("the contact could not be read back; retry")
    return created, True


class ActiveCardExists(Exception):
    def __init__(self, card: CrmCard) -> None:
        super().__init__(card.crm_id)
        self.card = card


@dataclass(frozen=True)
class OpenedCard:
    card: CrmCard
    draft: CardDraft


def open_card(
    phone: str,
    title: str | None,
    funnel_id: str,
    call_id: str | None,
    crm: CrmPort,
    employees: EmployeeDirectory,
    calls: CallStore,
    ledger: Ledger,
) -> OpenedCard:
    """F3/F5 from the call window: a card only when the number has no active one.

    A ``call_id`` names the call the card is about (it may not be stored yet, while the call
    rings); a call already known with another number is refused: its card is that number's.
    """
    if call_id is not None:
        call = calls.get(call_id)
        if call is not None and call.other_party not in (None, phone):
            raise Unprocessable("invalid field 'call_id': that call is with another number")
    owner = call_id or f"api-{uuid.uuid4().hex}"
    _locked(phone, owner, ledger)
    try:
        contact = crm.find_contact(phone)
        if contact is None:
            raise Unprocessable("no contact with this number: create it first (POST /contacts)")
        active = crm.find_active_card(phone, contact)
        if active is not None:
            raise ActiveCardExists(active)
        manager = employees.get(contact.responsible_employee_id) if contact.responsible_employee_id else None
        draft = CardDraft(
            call_id=owner,
            phone=phone,
            contact=contact,
            funnel_id=funnel_id,
            title=title or f"Call with {contact.name or 'a new client'}",
            manager=manager,
            summary="Opened from the CRM's call window",
        )
        return OpenedCard(card=crm.create_card(draft), draft=draft)
    finally:
        ledger.release(number_lock(phone), owner)


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
    employees: EmployeeDirectory,
    ringostat: OutwardCallsFactory,
    intents: ClickToCallLog,
) -> CallStart:
    """X1: Ringostat rings the manager's SIP account, then the client; X2: the softphone dials itself."""
    employee = _employee(employees, employee_id, "employee_id")
    sip_account = employee.routing_target
    if sip_account is None:
        raise Unprocessable(f"invalid field 'employee_id': employee {employee_id} has no SIP account to ring")
    mode = "deep_link" if deep_link else "callback"
    if not deep_link:
        ringostat().outward_call(extension=sip_account, destination=phone.lstrip("+"))
    # Who asked to call this number, kept a day (an audit trail).
    intents.record_click_to_call(phone, employee.employee_id, sip_account, mode, CLICK_TO_CALL_MEMORY_SECONDS)
    return CallStart(mode=mode, phone=phone, sip_account=sip_account, employee_id=employee.employee_id)
