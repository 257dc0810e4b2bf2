"""Sync one call to the CRM (P2-P8, F1-F6, T1, L1-L4): the CRM sync worker's use case.

``sync_call`` runs for every queued message about a call. It may run twice for the same
call (retries, replays, a worker that timed out) and at the same moment as another
call from the same number, so:

- a per-number lock (a conditional write in the ledger) lets one worker at a time
  decide for a number; the other is retried a moment later (F5 under concurrency);
- every side effect is remembered in the ledger under the call id, and CRM adapters
  look up before they create, so a repeat creates nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ringbridge.domain.calls import CallRecord, Direction
from ringbridge.domain.crm import CardDraft, ContactDraft, CrmContact, CrmPort, TaskDraft, call_summary, card_title
from ringbridge.domain.employees import Employee, EmployeeKeyKind
from ringbridge.domain.phones import mask_phone
from ringbridge.domain.ports import CallStore, EmployeeDirectory, Ledger
from ringbridge.domain.rules import CardCallTypes, FunnelMode, SyncRules, closes_callback

LOCK_SECONDS = 60


def number_lock(phone: str) -> str:
    """The ledger key that lets one worker (or one call-window request) at a time decide for a number."""
    return f"lock#{phone}"


class NumberBusy(Exception):
    """Another worker is deciding for this number right now: retry this call shortly."""


@dataclass
class SyncOutcome:
    call_id: str
    state: str = "synced"  # synced | waiting_for_end | updated | unknown_call
    contact_created: bool = False
    card_created: bool = False
    task_created: bool = False


def resolve_manager(call: CallRecord, employees: EmployeeDirectory) -> Employee | None:
    """C2: whichever identifier the call carries names the employee (missed incoming: none)."""
    if call.direction is Direction.INCOMING and not call.answered:
        return None
    lookups = (
        (EmployeeKeyKind.RINGOSTAT, call.employee_id),
        (EmployeeKeyKind.SIP, call.sip_account),
        (EmployeeKeyKind.FMC, call.fmc_number),
    )
    for kind, value in lookups:
        if value:
            employee = employees.find(kind, value)
            if employee is not None:
                return employee
    return None


def should_create_contact(call: CallRecord, rules: SyncRules) -> bool:
    """P2, P3, P5, P7: may this call create a contact for an unknown number?"""
    if call.direction is Direction.INCOMING:
        return rules.contacts_from_incoming_answered if call.answered else rules.contacts_from_incoming_missed
    return rules.contacts_from_outgoing


def card_wanted(call: CallRecord, rules: SyncRules) -> bool:
    """F1, F4: does this call's type open cards at all?"""
    if not rules.funnel_enabled:
        return False
    if rules.funnel_call_types is CardCallTypes.BOTH:
        return True
    wanted = Direction.INCOMING if rules.funnel_call_types is CardCallTypes.INCOMING else Direction.OUTGOING
    return call.direction is wanted


def _responsible(contact: CrmContact, employees: EmployeeDirectory) -> Employee | None:
    if contact.responsible_employee_id:
        return employees.get(contact.responsible_employee_id)
    return None


def sync_call(
    call_id: str,
    calls: CallStore,
    crm: CrmPort,
    employees: EmployeeDirectory,
    ledger: Ledger,
    rules: SyncRules,
    now: datetime,
) -> SyncOutcome:
    outcome = SyncOutcome(call_id)
    call = calls.get(call_id)
    if call is None:
        outcome.state = "unknown_call"
        return outcome
    synced_before = ledger.recall(f"synced#{call_id}") is not None
    if not call.ended and not synced_before:
        # Contacts and cards depend on how the call ended: wait for the after-call event.
        outcome.state = "waiting_for_end"
        return outcome
    manager = resolve_manager(call, employees)
    phone = call.other_party
    if phone is None:
        crm.log_call(call, None, manager)
        return outcome
    if synced_before:
        # A later event (e.g. the recording link, L4): refresh the call in the CRM only.
        crm.log_call(call, crm.find_contact(phone), manager)
        outcome.state = "updated"
        return outcome

    lock = number_lock(phone)
    if not ledger.claim(lock, call_id, ttl_seconds=LOCK_SECONDS):
        raise NumberBusy(f"another call from {mask_phone(phone)} is being synced")
    try:
        contact = crm.find_contact(phone)
        if contact is None and should_create_contact(call, rules):
            responsible = manager if call.answered or call.direction is Direction.OUTGOING else None
            contact = crm.create_contact(
                ContactDraft(
                    call_id=call_id, phone=phone, name=phone, utm=call.utm, keyword=call.keyword, responsible=responsible
                )
            )
            outcome.contact_created = True
        if contact is not None and card_wanted(call, rules):
            outcome.card_created = _open_card(
                call, phone, contact, manager or _responsible(contact, employees), crm, ledger, rules
            )
        if call.direction is Direction.INCOMING and not call.answered and rules.callback_tasks:
            outcome.task_created = _callback_task(call, phone, contact, crm, employees, ledger, rules, now)
        if closes_callback(call, rules):
            crm.close_callback(phone, call)  # T1: the call-back happened
        crm.log_call(call, contact, manager)
        ledger.remember(f"synced#{call_id}", now.isoformat())
    finally:
        ledger.release(lock, call_id)
    return outcome


def _open_card(
    call: CallRecord,
    phone: str,
    contact: CrmContact,
    manager: Employee | None,
    crm: CrmPort,
    ledger: Ledger,
    rules: SyncRules,
) -> bool:
    """F1-F3, F5, F6."""
    if ledger.recall(f"card#{call.call_id}") is not None:
        return False  # this call already opened its card
    if rules.funnel_mode is FunnelMode.ONE_TIME:
        # The first call that opens a card owns the number for good (F2).
        if not ledger.claim(f"card-once#{phone}", call.call_id):
            return False
    elif crm.find_active_card(phone, contact) is not None:
        return False
    card = crm.create_card(
        CardDraft(
            call_id=call.call_id,
            phone=phone,
            contact=contact,
            funnel_id=rules.funnel_id,
            title=card_title(contact.name or phone),
            manager=manager,
            utm=call.utm,
            summary=call_summary(call, manager),
        )
    )
    ledger.remember(f"card#{call.call_id}", card.crm_id)
    return True


def _callback_task(
    call: CallRecord,
    phone: str,
    contact: CrmContact | None,
    crm: CrmPort,
    employees: EmployeeDirectory,
    ledger: Ledger,
    rules: SyncRules,
    now: datetime,
) -> bool:
    """T1: one open call-back task per number, for the responsible manager or the default."""
    if ledger.recall(f"task#{call.call_id}") is not None or crm.find_open_task(phone) is not None:
        return False
    assignee = _responsible(contact, employees) if contact else None
    if assignee is None and rules.default_task_employee_id:
        assignee = employees.get(rules.default_task_employee_id)
    task = crm.create_task(
        TaskDraft(
            call_id=call.call_id,
            phone=phone,
            contact=contact,
            assignee=assignee,
            assignee_id=assignee.employee_id if assignee else rules.default_task_employee_id,
            due_at=(now + timedelta(minutes=rules.callback_due_minutes)).isoformat(timespec="seconds"),
            text=f"Call back {(contact.name if contact else None) or phone}: missed call at {call.started_at or 'unknown time'}",
        )
    )
    ledger.remember(f"task#{call.call_id}", task.crm_id)
    return True
