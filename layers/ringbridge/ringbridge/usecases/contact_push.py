"""Caller ID in Ringostat (S1): every contact created or changed is pushed to Ringostat's contact book.

Producers (the CRM sync after a call, the admin's contact seed, the call window, the full
push) put :class:`ContactChange` lists on the contact-push queue; the contact-push worker
reads a batch, keeps the newest change per contact and sends them with
``POST /minicrm/contacts/sync``, ``CONTACTS_PER_SYNC`` a request. Ringostat upserts by
``externalId`` (our contact id, or the CRM's), so a repeat is harmless.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from ringbridge.domain.ports import EmployeeDirectory

# What Ringostat's contact sync takes in one request (the client splits longer lists the same way).
CONTACTS_PER_REQUEST = 100
# A queue message carries at most this many changes (a full push: one message per page).
CHANGES_PER_MESSAGE = 100
ORIGINS = {"builtin": "ringbridge", "keycrm": "KeyCRM", "nethunt": "NetHunt"}


class ContactChange(BaseModel):
    """One contact as Ringostat should show it; ``changed_at`` orders two changes of one contact."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    external_id: str = Field(min_length=1, max_length=128)
    phone: str = Field(min_length=2, max_length=32)
    name: str | None = None
    responsible_employee_id: str | None = None
    link: str | None = None
    changed_at: str = ""


class ContactPushQueue(Protocol):
    """Where changes wait for the contact-push worker (SQS)."""

    def push(self, changes: Sequence[ContactChange]) -> int:
        """Queue the changes; return how many messages that took (0 when the push is switched off)."""
        ...


class ContactSink(Protocol):
    """Ringostat's contact book."""

    def sync_contacts(self, contacts: Sequence[dict[str, Any]]) -> int: ...


def contact_link(template: str, contact_id: str) -> str | None:
    """The CRM's page of a contact from the installation's template (``…/{id}``); None without one."""
    return template.replace("{id}", contact_id) if template and "{id}" in template else None


def ringostat_contact(change: ContactChange, staff_id: str | None, project_id: str, origin: str) -> dict[str, Any]:
    """The entry ``/minicrm/contacts/sync`` takes (field names from Ringostat's help article and the OkayCMS module)."""
    return {
        "projectId": int(project_id) if project_id.isdigit() else project_id,
        "fullName": change.name or change.phone,
        "origin": origin,
        "externalId": change.external_id,
        "leadId": None,
        # Ringostat's staff id of the responsible manager; "0" for nobody (as the OkayCMS module sends).
        "responsible": staff_id or "0",
        "staffId": staff_id,
        "contactLink": change.link,
        "leadLink": None,
        "dealLink": None,
        "googleClientId": None,
        "contactDirections": [{"type": "phone", "name": "personal", "value": change.phone.lstrip("+")}],
        "organizations": [],
    }


@dataclass
class PushReport:
    contacts: int = 0
    requests: int = 0
    failed_messages: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)


def newest_per_contact(messages: Iterable[tuple[str, Sequence[ContactChange]]]) -> list[tuple[ContactChange, set[str]]]:
    """One change per contact (the newest; the later message on a tie) with the messages that carried it."""
    chosen: dict[str, tuple[ContactChange, set[str]]] = {}
    for message_id, changes in messages:
        for change in changes:
            kept = chosen.get(change.external_id)
            if kept is None:
                chosen[change.external_id] = (change, {message_id})
                continue
            best = change if change.changed_at >= kept[0].changed_at else kept[0]
            chosen[change.external_id] = (best, kept[1] | {message_id})
    return list(chosen.values())


def push_contacts(
    messages: Iterable[tuple[str, Sequence[ContactChange]]],
    employees: EmployeeDirectory,
    sink: ContactSink,
    project_id: str,
    origin: str,
    pace: Callable[[], None] = lambda: None,
) -> PushReport:
    """Send the batch's changes to Ringostat; a failed request fails every message that fed it."""
    report = PushReport()
    staff_ids: dict[str, str | None] = {}

    def staff_id(employee_id: str | None) -> str | None:
        if not employee_id:
            return None
        if employee_id not in staff_ids:
            employee = employees.get(employee_id)
            staff_ids[employee_id] = employee.ringostat_employee_id if employee else None
        return staff_ids[employee_id]

    entries = newest_per_contact(messages)
    for start in range(0, len(entries), CONTACTS_PER_REQUEST):
        chunk = entries[start : start + CONTACTS_PER_REQUEST]
        contacts = [ringostat_contact(c, staff_id(c.responsible_employee_id), project_id, origin) for c, _ in chunk]
        pace()
        try:
            report.requests += sink.sync_contacts(contacts)
            report.contacts += len(contacts)
        except Exception as error:  # noqa: BLE001 - reported per message; the queue retries them, then the DLQ keeps them
            report.errors.append(f"{type(error).__name__}: {error}")
            for _, message_ids in chunk:
                report.failed_messages |= message_ids
    return report
