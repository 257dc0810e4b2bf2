"""Cards and tasks as people work them in the built-in store (F2, F3, T1): won, lost, reopened, done.

Every change names the version it read (``If-Match``). A card's status change takes the same
per-number lock as the CRM sync worker and the call window, so a call being synced never decides
"has this number an active card?" halfway through a change:

- won or lost: the card is inactive, then the contact's ``open_card_id`` is released (only if it
  still points at this card) - in repeatable mode the next call opens a new card (F3); in one-time
  mode nothing ever does (F2: the ledger's ``card-once#`` claim stands);
- open again: the pointer is claimed first, and only when no other card of the number is active
  (409 otherwise); the card is reopened after that, the claim given back if the card changed meanwhile.

A task marked done releases the number's open-task pointer, so the next missed call makes a new one (T1).
"""

from __future__ import annotations

import uuid
from typing import Any

from ringbridge.domain.clock import utc_stamp
from ringbridge.domain.crm_lists import CardChange, CardStatus, TaskStatus, card_status
from ringbridge.domain.errors import Conflict, NotFound, PreconditionFailed, UnknownEmployee
from ringbridge.domain.phones import mask_phone
from ringbridge.domain.ports import CrmRecords, EmployeeDirectory, Ledger
from ringbridge.usecases.sync import LOCK_SECONDS, number_lock

STALE = "it changed since you read it; read it again"


def _current(item: dict[str, Any] | None, what: str, expected_version: int | None) -> dict[str, Any]:
    if item is None:
        raise NotFound(f"no {what} with this id")
    version = int(item.get("version", 0))
    if expected_version is not None and expected_version != version:
        raise PreconditionFailed(STALE, current_version=version)
    return item


def change_card(
    card_id: str,
    change: CardChange,
    expected_version: int | None,
    records: CrmRecords,
    employees: EmployeeDirectory,
    ledger: Ledger,
) -> dict[str, Any]:
    card = _current(records.card(card_id), "card", expected_version)
    changes: dict[str, Any] = {}
    if change.manager_employee_id is not None:
        manager = employees.get(change.manager_employee_id)
        if manager is None:
            raise UnknownEmployee(f"invalid field 'manager_employee_id': employee {change.manager_employee_id} is not mapped")
        changes |= {"manager_employee_id": manager.employee_id, "manager_name": manager.name}
    if change.status is None or change.status.value == card_status(card):
        return records.change_card(card_id, changes, expected_version) if changes else card
    phone = str(card["phone"])
    reopen = change.status is CardStatus.OPEN
    changes |= {"status": change.status.value, "active": reopen, "closed_at": None if reopen else utc_stamp()}
    owner = f"api-{uuid.uuid4().hex}"
    if not ledger.claim(number_lock(phone), owner, ttl_seconds=LOCK_SECONDS):
        raise Conflict(f"{mask_phone(phone)} is being updated by a call right now; retry in a moment")
    try:
        if reopen and not records.claim_card_pointer(phone, card_id):
            raise Conflict("this number has another active card: close it first")
        try:
            updated = records.change_card(card_id, changes, expected_version)
        except PreconditionFailed:
            if reopen:
                records.release_pointer(phone, "open_card_id", card_id)
            raise
        if not reopen:
            records.release_pointer(phone, "open_card_id", card_id)
        return updated
    finally:
        ledger.release(number_lock(phone), owner)


def finish_task(task_id: str, expected_version: int | None, records: CrmRecords) -> dict[str, Any]:
    """Mark the task done (T1); the number's open-task pointer is released, so a later missed call makes a new one."""
    task = _current(records.task(task_id), "task", expected_version)
    if task.get("status") == TaskStatus.DONE:
        return task
    updated = records.change_task(task_id, {"status": TaskStatus.DONE.value, "closed_at": utc_stamp()}, expected_version)
    records.release_pointer(str(task["phone"]), "open_task_id", task_id)
    return updated
