"""R2 with KeyCRM or NetHunt: the contacts table as a projection of the CRM's contacts.

The routing ping reads one item of the contacts table (``route_to``). With an outside CRM
the CRM is the source of truth for who is responsible for a client, so the item is kept in
step with it three ways:

- every call sync that finds or creates a contact writes it (:func:`project_contact`);
- a full import reads every contact of the CRM (``POST /admin/crm/sync-contacts`` with
  ``{"full": true}``), for the customers who were there before ringbridge;
- a scheduled pull reads the contacts changed since the last run (:func:`pull_contacts`).

The pull is resumable: its window and the next page are kept in the dedup table after every
page (``crm-contacts#cursor``), so a run cut short by its time budget, the CRM's rate limit
or an outage goes on where it stopped. One run at a time (``crm-contacts#lock``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ringbridge.domain.contacts import Contact
from ringbridge.domain.crm import ContactSource, CrmContact, SourcedContact
from ringbridge.domain.employees import Employee, EmployeeKeyKind
from ringbridge.domain.errors import Conflict
from ringbridge.domain.phones import InvalidPhoneNumber, normalize_phone
from ringbridge.domain.ports import ContactProjection, EmployeeDirectory, Ledger

CURSOR_KEY = "crm-contacts#cursor"
LOCK_KEY = "crm-contacts#lock"
LOCK_SECONDS = 900
# A contact changed just before a run started may carry a time a little after it (clocks differ):
# each window starts this much before the previous one ended.
OVERLAP = timedelta(minutes=2)

Route = tuple[str | None, str | None, str | None]


class PullBusy(Conflict):
    """Another pull (the schedule or an admin) is running: try again when it is done."""


@dataclass
class PullOutcome:
    read: int = 0  # contacts the CRM listed
    changed: int = 0  # contact items whose name or route changed (or that are new)
    pages: int = 0
    done: bool = True  # False: stopped by the time budget; the next run goes on
    truncated: bool = False  # the CRM listed fewer than had changed (NetHunt: no paging)
    full: bool = False

    def answer(self) -> dict[str, object]:
        return {
            "read": self.read,
            "changed": self.changed,
            "pages": self.pages,
            "done": self.done,
            "truncated": self.truncated,
            "full": self.full,
        }


def route_of(employee: Employee | None) -> Route:
    if employee is None:
        return (None, None, None)
    return (employee.employee_id, employee.name, employee.routing_target)


def _changed(old: Contact | None, name: str | None, route: Route | None) -> bool:
    if old is None:
        return True
    if name and old.name != name:
        return True
    return route is not None and (old.responsible_employee_id, old.manager_name, old.route_to) != route


def project_contact(phone: str, contact: CrmContact, employees: EmployeeDirectory, projection: ContactProjection) -> bool:
    """After a sync found or created ``contact`` for ``phone``: write its route; True if it changed."""
    route: Route | None = None
    if contact.manager_known:
        responsible = employees.get(contact.responsible_employee_id) if contact.responsible_employee_id else None
        route = route_of(responsible)
    old = projection.project(phone, contact.crm_id, contact.name, route)
    return _changed(old, contact.name, route)


def _project_sourced(
    contact: SourcedContact, default_country: str, employees: EmployeeDirectory, projection: ContactProjection
) -> int:
    route: Route | None = None
    if contact.manager_known:
        manager = employees.find(EmployeeKeyKind.CRM_MANAGER, contact.manager_id) if contact.manager_id else None
        route = route_of(manager)
    changed = 0
    seen: set[str] = set()
    for stored in contact.phones:
        try:
            phone = normalize_phone(stored, default_country)
        except InvalidPhoneNumber:
            continue  # a number the CRM holds that no call can come from
        if phone in seen:
            continue
        seen.add(phone)
        old = projection.project(phone, contact.crm_id, contact.name, route)
        changed += _changed(old, contact.name, route)
    return changed


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def pull_contacts(
    source: ContactSource,
    employees: EmployeeDirectory,
    projection: ContactProjection,
    ledger: Ledger,
    default_country: str,
    now: datetime,
    owner: str,
    full: bool = False,
    out_of_time: Callable[[], bool] = lambda: False,
) -> PullOutcome:
    """Read the contacts changed since the last run (all of them with ``full``) into the contacts table."""
    if not ledger.claim(LOCK_KEY, owner, ttl_seconds=LOCK_SECONDS):
        raise PullBusy("another contact pull is running")
    try:
        return _pull(source, employees, projection, ledger, default_country, now, full, out_of_time)
    finally:
        ledger.release(LOCK_KEY, owner)


def _pull(
    source: ContactSource,
    employees: EmployeeDirectory,
    projection: ContactProjection,
    ledger: Ledger,
    default_country: str,
    now: datetime,
    full: bool,
    out_of_time: Callable[[], bool],
) -> PullOutcome:
    stored = ledger.recall(CURSOR_KEY)
    cursor: dict[str, str | None] = json.loads(stored) if stored else {}
    outcome = PullOutcome()
    if full:
        # A full import starts over, unless a full import was cut short: then it goes on.
        if not (cursor.get("full") and cursor.get("page")):
            cursor = {"full": "1", "since": None, "until": _stamp(now), "page": None, "next_since": cursor.get("next_since")}
    elif not cursor.get("page"):
        since = cursor.get("next_since")
        cursor = {"full": None, "since": since, "until": _stamp(now), "page": None, "next_since": since}
    outcome.full = bool(cursor.get("full"))
    since_text, until_text = cursor.get("since"), cursor.get("until") or _stamp(now)
    window_start = datetime.fromisoformat(since_text) if since_text else None
    window_end = datetime.fromisoformat(until_text)
    page = cursor.get("page")
    while True:
        listed = source.changed_since(window_start, window_end, page)
        outcome.pages += 1
        outcome.read += len(listed.contacts)
        outcome.truncated = outcome.truncated or listed.truncated
        for contact in listed.contacts:
            outcome.changed += _project_sourced(contact, default_country, employees, projection)
        page = listed.next_page
        if page is None:
            # The window is read: the next run starts a little before its end.
            cursor = {"full": None, "since": None, "until": None, "page": None, "next_since": _stamp(window_end - OVERLAP)}
            ledger.remember(CURSOR_KEY, json.dumps(cursor))
            return outcome
        cursor["page"] = page
        ledger.remember(CURSOR_KEY, json.dumps(cursor))
        if out_of_time():
            outcome.done = False
            return outcome
