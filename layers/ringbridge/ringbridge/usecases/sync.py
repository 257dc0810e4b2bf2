"""Sync one call to the CRM (P2-P8, F1-F6, T1, L1-L4): the CRM sync worker's use case.

``sync_call`` runs for every queued message about a call. It may run twice for the same
call (retries, replays, a worker that timed out) and at the same moment as another
call from the same number, so:

- a per-number lock (a conditional write in the ledger) lets one worker at a time
  decide for a number; the other is retried a moment later (F5 under concurrency);
- every side effect is remembered on the call record (``sync_steps``, read with the call,
  written back in one write per attempt), and CRM adapters look up before they create, so
  a repeat creates nothing new.

The work is split in steps, in this order: the contact (found or created), the call
itself (call history, call log or note line), the card, the call-back task. Each step
succeeds or fails on its own:

- a step the CRM refuses for good (:class:`CrmRefusal` ``permanent``: a 4xx other than
  408/409/429, e.g. a funnel that does not exist) is recorded on the call
  (``sync_failures``), reported to ``on_refused`` (the worker logs and counts it) and
  skipped; the other steps still run and the message is *not* retried;
- anything else (the CRM down or throttling, a timeout) is raised, so the message is
  retried and finally lands in the DLQ; the steps already done are on the call record and
  a retry redoes only what is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from ringbridge.domain.call_rules import closes_callback, imported_call_work
from ringbridge.domain.calls import CallRecord, Direction, SyncFailure
from ringbridge.domain.crm import (
    CardDraft,
    ContactDraft,
    CrmContact,
    CrmPort,
    CrmRefusal,
    TaskDraft,
    call_summary,
    card_title,
)
from ringbridge.domain.employees import Employee, EmployeeKeyKind
from ringbridge.domain.phones import mask_phone
from ringbridge.domain.ports import CallStore, ContactProjection, EmployeeDirectory, Ledger
from ringbridge.domain.rules import (
    CardCallTypes,
    FunnelMode,
    ImportedCallsCrmWork,
    SyncRules,
    UtmAttribution,
)
from ringbridge.usecases.crm_contacts import project_contact

T = TypeVar("T")

# The steps of a call's sync, as named in ``sync_failures`` and in the worker's metric.
STEP_CONTACT = "contact"
STEP_CALL = "call"
STEP_CARD = "card"
STEP_TASK = "task"
STEP_UTM = "utm"
STEP_CALLBACK = "callback"  # T1: a later call that closes the number's call-back task
STEPS = (STEP_CONTACT, STEP_CALL, STEP_CARD, STEP_TASK, STEP_UTM, STEP_CALLBACK)
MAX_REASON = 300

# Told about every refused step (step, reason): the worker logs it and counts it in a metric.
RefusalHook = Callable[[str, str], None]

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
    refused: list[str] = field(default_factory=list)  # steps the CRM refused for good
    # What the sync saw, for what follows it (wiring.after_sync) without reading it all again:
    call: CallRecord | None = None  # the call as the sync's last write left it (None: read it again)
    manager: Employee | None = None  # the call's manager (C2), resolved from ``call``
    contact: CrmContact | None = None  # the number's contact in the CRM, found or created


class _Steps:
    """Runs each step of one call's sync on its own: a permanent refusal is recorded, not raised.

    What is done lives on the call record (``sync_steps``, read with the call, so asking costs
    nothing) and a refused step in its ``sync_failures``; the steps done are written back in one
    write when the sync ends or fails (``save``), with ``synced_at`` when it went through.
    """

    def __init__(
        self,
        call: CallRecord,
        calls: CallStore,
        now: datetime,
        outcome: SyncOutcome,
        on_refused: RefusalHook | None,
    ) -> None:
        self._call, self._calls, self._now = call, calls, now
        self.outcome, self._on_refused = outcome, on_refused
        self._done = dict(call.sync_steps)
        self._refused = {failure.step for failure in call.sync_failures}
        self._changed = False

    def done(self, step: str) -> bool:
        """Was ``step`` done (or refused for good) by an earlier attempt for this call?"""
        return step in self._done or step in self._refused

    def made(self, step: str) -> str | None:
        """The id of what ``step`` created for this call (None: nothing, or not done)."""
        return self._done.get(step) or None

    def remember(self, step: str, made: str = "") -> None:
        """``step`` is done (``made``: the id of what it created, if anything); kept by ``save``."""
        self._done[step] = made
        self._changed = True

    def save(self, synced: bool) -> None:
        """Write the steps done so far (and, if ``synced``, the end of the sync) on the call: one write."""
        if self._changed or synced:
            at = self._now.isoformat(timespec="seconds") if synced else None
            self.outcome.call = self._calls.mark_synced(self._call.call_id, self._done, at)
            self._changed = False

    def run(self, step: str, action: Callable[[], T]) -> T | None:
        try:
            return action()
        except CrmRefusal as refusal:
            if not refusal.permanent:
                raise
            reason = str(refusal)[:MAX_REASON]
        at = self._now.isoformat(timespec="seconds")
        self._refused.add(step)
        self._calls.record_sync_failure(self._call.call_id, SyncFailure(step=step, reason=reason, at=at))
        self.outcome.refused.append(step)
        if self._on_refused is not None:
            self._on_refused(step, reason)
        return None


def resolve_manager(call: CallRecord, employees: EmployeeDirectory) -> Employee | None:
    """C2: whichever identifier the call carries names the employee (missed incoming: none).

    An outgoing call made from a manager's FMC mobile arrives with that mobile as its caller,
    which the webhook cannot tell from a company number: it was stored as the tracking number,
    and is looked up in the directory as an FMC number too.
    """
    if call.direction is Direction.INCOMING and not call.answered:
        return None
    lookups = [
        (EmployeeKeyKind.RINGOSTAT, call.employee_id),
        (EmployeeKeyKind.SIP, call.sip_account),
        (EmployeeKeyKind.FMC, call.fmc_number),
    ]
    if call.direction is Direction.OUTGOING:
        lookups.append((EmployeeKeyKind.FMC, call.tracking_number))
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


def utm_wanted(call: CallRecord, contact: CrmContact, rules: SyncRules) -> bool:
    """P8: does a known contact take this call's UTM tags (a new one got them when created)?"""
    if not any(call.utm.model_dump().values()):
        return False
    if rules.utm_attribution is UtmAttribution.LAST_TOUCH:
        return True
    return contact.has_utm is False  # first touch: only a contact known to have none


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
    on_refused: RefusalHook | None = None,
    projection: ContactProjection | None = None,
) -> SyncOutcome:
    """``projection`` (KeyCRM, NetHunt): the contacts table, kept in step with every contact found or created (R2)."""
    outcome = SyncOutcome(call_id)
    call = calls.get(call_id)
    if call is None:
        outcome.state = "unknown_call"
        return outcome
    synced_before = call.synced_at is not None
    if not call.ended and not synced_before:
        # Contacts and cards depend on how the call ended: wait for the after-call event.
        outcome.state = "waiting_for_end"
        return outcome
    steps = _Steps(call, calls, now, outcome, on_refused)
    manager = outcome.manager = resolve_manager(call, employees)
    phone = call.other_party
    if phone is None:
        steps.run(STEP_CALL, lambda: crm.log_call(call, None, manager))
        return outcome

    lock = number_lock(phone)
    if not ledger.claim(lock, call_id, ttl_seconds=LOCK_SECONDS):
        raise NumberBusy(f"another call from {mask_phone(phone)} is being synced")
    synced = False
    try:
        if synced_before:
            # A later event (e.g. the recording link, L4): refresh the call in the CRM only,
            # under the number's lock (KeyCRM rewrites the buyer's whole note).
            contact = outcome.contact = crm.find_contact(phone)
            _project(phone, contact, employees, projection)
            steps.run(STEP_CALL, lambda: crm.log_call(call, contact, manager))
            outcome.state = "updated"
            return outcome
        # L1: a call imported from the call log does only what ImportedCallsCrmWork allows (a webhook call: all).
        work = imported_call_work(call, rules, now)
        contact = crm.find_contact(phone)
        if (
            contact is None
            and work is not ImportedCallsCrmWork.HISTORY_ONLY
            and should_create_contact(call, rules)
            and not steps.done(STEP_CONTACT)
        ):
            responsible = manager if call.answered or call.direction is Direction.OUTGOING else None
            draft = ContactDraft(
                call_id=call_id, phone=phone, name=phone, utm=call.utm, keyword=call.keyword, responsible=responsible
            )
            contact = steps.run(STEP_CONTACT, lambda: crm.create_contact(draft))
            if contact is not None:
                steps.remember(STEP_CONTACT, contact.crm_id)
                outcome.contact_created = True
        outcome.contact = contact
        _project(phone, contact, employees, projection)
        # The call itself first: a refused card or task must never cost the call its place in the CRM.
        if not steps.done(STEP_CALL):
            steps.run(STEP_CALL, lambda: crm.log_call(call, contact, manager))
            steps.remember(STEP_CALL)
        if work is ImportedCallsCrmWork.FULL:
            _funnel_task_and_tags(call, phone, contact, manager, crm, employees, ledger, rules, now, steps)
        synced = True
    finally:
        try:
            steps.save(synced)  # also after a failure: the retry redoes only what is missing
        finally:
            ledger.release(lock, call_id)
    return outcome


def _funnel_task_and_tags(
    call: CallRecord,
    phone: str,
    contact: CrmContact | None,
    manager: Employee | None,
    crm: CrmPort,
    employees: EmployeeDirectory,
    ledger: Ledger,
    rules: SyncRules,
    now: datetime,
    steps: _Steps,
) -> None:
    """The steps after the contact and the call: card (F1-F6), call-back task (T1), closing a call-back, UTM tags (P8)."""
    if contact is not None and card_wanted(call, rules) and not steps.done(STEP_CARD):
        known = contact
        card = steps.run(
            STEP_CARD,
            lambda: _open_card(call, phone, known, manager, crm, employees, ledger, rules),
        )
        if card is not None:
            steps.remember(STEP_CARD, card)
            steps.outcome.card_created = bool(card)
    if call.direction is Direction.INCOMING and not call.answered and rules.callback_tasks and not steps.done(STEP_TASK):
        found = contact
        # T1: the number's card, to link the task to: this call's, the one the contact points to, the last one opened
        card_id = steps.made(STEP_CARD) or _known_card(phone, contact, ledger)
        task = steps.run(STEP_TASK, lambda: _callback_task(call, phone, found, card_id, crm, employees, ledger, rules, now))
        if task is not None:
            steps.remember(STEP_TASK, task)
            steps.outcome.task_created = bool(task)
    if closes_callback(call, rules) and not steps.done(STEP_CALLBACK):
        task_id = _known_task(phone, contact, ledger)  # T1: the task ringbridge created, found by id first
        closed = steps.run(STEP_CALLBACK, lambda: crm.close_callback(phone, call, known_id=task_id))
        steps.remember(STEP_CALLBACK, closed or "")  # the reminder this call closed, if any
    if (
        contact is not None
        and not steps.outcome.contact_created
        and utm_wanted(call, contact, rules)
        and not steps.done(STEP_UTM)
    ):
        tagged = contact
        steps.run(STEP_UTM, lambda: crm.write_utm(tagged, call.utm, call.keyword))
        steps.remember(STEP_UTM)


def _project(phone: str, contact: CrmContact | None, employees: EmployeeDirectory, projection: ContactProjection | None) -> None:
    """R2: the routing ping's item follows the CRM's responsible manager of the contact."""
    if contact is not None and projection is not None:
        project_contact(phone, contact, employees, projection)


def _open_card(
    call: CallRecord,
    phone: str,
    contact: CrmContact,
    manager: Employee | None,
    crm: CrmPort,
    employees: EmployeeDirectory,
    ledger: Ledger,
    rules: SyncRules,
) -> str:
    """F1-F3, F5, F6: the id of the card this call opened, "" when it opens none."""
    if rules.funnel_mode is FunnelMode.ONE_TIME:
        # The first call that opens a card owns the number for good (F2).
        if not ledger.claim(f"card-once#{phone}", call.call_id):
            return ""
    elif crm.find_active_card(phone, contact, known_id=_known_card(phone, contact, ledger)) is not None:
        return ""
    owner = manager or _responsible(contact, employees)  # looked up only for a card it opens
    draft = CardDraft(
        call_id=call.call_id,
        phone=phone,
        contact=contact,
        funnel_id=rules.funnel_id,
        title=card_title(contact.name or phone),
        manager=owner,
        utm=call.utm,
        summary=call_summary(call, owner),
    )
    try:
        card = crm.create_card(draft)
    except CrmRefusal as refusal:
        if refusal.permanent and rules.funnel_mode is FunnelMode.ONE_TIME:
            # F2: a card the CRM refused was never opened; the number's one card is still to come.
            ledger.release(f"card-once#{phone}", call.call_id)
        raise
    if not contact.pointers_known:
        ledger.remember(number_card_key(phone), card.crm_id)  # T1: found again by id, before any scan
    return card.crm_id


def _known_card(phone: str, contact: CrmContact | None, ledger: Ledger) -> str | None:
    """The card ringbridge last opened for the number: on the CRM's contact when it keeps it there, else in the ledger."""
    if contact is not None and contact.pointers_known:
        return contact.open_card_id
    return ledger.recall(number_card_key(phone))


def _known_task(phone: str, contact: CrmContact | None, ledger: Ledger) -> str | None:
    """The call-back task ringbridge last created for the number, the same way as ``_known_card``."""
    if contact is not None and contact.pointers_known:
        return contact.open_task_id
    return ledger.recall(number_task_key(phone))


def number_card_key(phone: str) -> str:
    """The ledger key of the last card ringbridge opened for a number."""
    return f"number-card#{phone}"


def number_task_key(phone: str) -> str:
    """The ledger key of the last call-back task ringbridge created for a number (T1: found again by id)."""
    return f"number-task#{phone}"


def _callback_task(
    call: CallRecord,
    phone: str,
    contact: CrmContact | None,
    card_id: str | None,
    crm: CrmPort,
    employees: EmployeeDirectory,
    ledger: Ledger,
    rules: SyncRules,
    now: datetime,
) -> str:
    """T1: one open call-back task per number, for the responsible manager or the default; the id of the one it opened."""
    if crm.find_open_task(phone, known_id=_known_task(phone, contact, ledger)) is not None:
        return ""
    one_time = rules.funnel_mode is FunnelMode.ONE_TIME
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
            card_id=card_id,
            new_card_allowed=not (one_time and rules.funnel_enabled),
        )
    )
    if not (contact and contact.pointers_known):
        ledger.remember(number_task_key(phone), task.crm_id)  # T1: found again by id, before any search
    return task.crm_id
