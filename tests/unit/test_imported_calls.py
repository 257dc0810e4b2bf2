"""L1: a call imported from Ringostat's call log does in the CRM only what the installation allows.

``ImportedCallsCrmWork`` (history-only | contacts | full) and ``ImportedCallsMaxAgeHours``: the rule
(``domain/call_rules.py::imported_call_work``) and what the sync does with it, against the unit fakes.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from ringbridge.domain.call_rules import imported_call_work
from ringbridge.domain.calls import CallEvent, CallRecord, merge
from ringbridge.domain.rules import ImportedCallsCrmWork, SyncRules
from ringbridge.ringostat.webhook import parse_call_event
from ringbridge.usecases.reconcile import reconcile
from tests.unit.fakes import FakeCalls
from tests.unit.test_sync import NOW, World

HISTORY, CONTACTS, FULL = ImportedCallsCrmWork.HISTORY_ONLY, ImportedCallsCrmWork.CONTACTS, ImportedCallsCrmWork.FULL


def call(call_id: str, hours_ago: float, *, imported: bool = True, status: str = "NO ANSWER") -> CallRecord:
    started = (NOW - timedelta(hours=hours_ago)).isoformat().replace("+00:00", "Z")
    values = {"call_id": call_id, "event": "after_call", "direction": "in", "caller": "+48123456789", "status": status}
    event = parse_call_event({**values, "started_at": started}, "PL", "Europe/Warsaw")
    return merge(None, event.model_copy(update={"imported": imported}), "2026-11-23T09:59:00Z")


@pytest.mark.parametrize(
    ("hours_ago", "imported", "setting", "work"),
    [
        (1, False, HISTORY, FULL),  # a webhook call: everything, whatever the setting
        (72, False, CONTACTS, FULL),
        (1, True, CONTACTS, FULL),  # recent: a lost webhook, everything whatever the setting
        (1, True, HISTORY, FULL),
        (23.9, True, CONTACTS, FULL),
        (24.1, True, CONTACTS, CONTACTS),  # older than the cut-off: the setting (default contacts)
        (24.1, True, FULL, FULL),
        (24.1, True, HISTORY, HISTORY),
    ],
)
def test_l1_imported_call_work(
    hours_ago: float, imported: bool, setting: ImportedCallsCrmWork, work: ImportedCallsCrmWork
) -> None:
    rules = SyncRules(imported_calls_crm_work=setting)
    assert imported_call_work(call("c1", hours_ago, imported=imported), rules, NOW) is work


def test_l1_the_cut_off_is_a_setting_and_an_unknown_start_counts_as_old() -> None:
    assert imported_call_work(call("c1", 30), SyncRules(imported_calls_max_age_hours=48), NOW) is FULL
    assert imported_call_work(call("c1", 1), SyncRules(imported_calls_max_age_hours=0), NOW) is CONTACTS
    unknown = call("c1", 1).model_copy(update={"started_at": None})
    assert imported_call_work(unknown, SyncRules(imported_calls_crm_work=HISTORY), NOW) is HISTORY
    estimated = call("c1", 1).model_copy(update={"started_at_estimated": True})
    assert imported_call_work(estimated, SyncRules(), NOW) is CONTACTS


def test_l1_default_settings_are_contacts_and_24_hours() -> None:
    assert (SyncRules().imported_calls_crm_work, SyncRules().imported_calls_max_age_hours) == (CONTACTS, 24)
    assert ImportedCallsCrmWork("history-only") is HISTORY


@pytest.mark.parametrize(
    ("setting", "hours_ago", "contacts", "cards", "tasks"),
    [
        (CONTACTS, 2, 1, 1, 1),  # recent: a lost webhook, contact, card (F1) and task (T1)
        (CONTACTS, 30, 1, 0, 0),  # older than a day, the default: history and a contact only
        (HISTORY, 30, 0, 0, 0),  # nothing in the CRM but the call's history line
        (FULL, 30, 1, 1, 1),
    ],
)
def test_l1_a_missed_imported_call_syncs_per_the_setting(
    setting: ImportedCallsCrmWork, hours_ago: float, contacts: int, cards: int, tasks: int
) -> None:
    world = World(call("c1", hours_ago), rules=SyncRules(imported_calls_crm_work=setting))
    outcome = world.sync("c1")
    assert (len(world.crm.contacts), len(world.crm.cards), len(world.crm.tasks)) == (contacts, cards, tasks)
    assert "c1" in world.crm.logged  # the call's history line, always
    assert outcome.state == "synced" and not outcome.refused


def event(call_id: str, **values: str) -> CallEvent:
    payload = {"call_id": call_id, "event": "after_call", "direction": "in", "caller": "+48123456789", **values}
    return parse_call_event(payload, "PL", "Europe/Warsaw")


def test_l1_imported_is_set_when_the_record_is_created_and_never_after() -> None:
    imported = call("c1", 30)
    recording = event("c1", event="recording", recording_url="https://app.ringostat.com/recordings/c1.ogg?token=t")
    assert merge(imported, recording, "2026-11-23T10:00:00Z").imported is True  # a late webhook: still imported
    live = call("c2", 1, imported=False)
    from_the_log = event("c2").model_copy(update={"imported": True})
    assert merge(live, from_the_log, "2026-11-23T10:00:00Z").imported is False  # completed from the log: still live


@dataclass
class _Page:
    events: list[CallEvent]
    rows: int = 1
    in_progress: int = 0
    invalid: int = 0


class _OneCallLog:
    requests_made = 0

    def pages(self, start: datetime, end: datetime) -> Iterator[_Page]:
        yield _Page([event("c1")])


def test_l1_reconcile_marks_what_it_feeds_as_imported() -> None:
    accepted: list[bool] = []
    reconcile(NOW - timedelta(hours=3), NOW, _OneCallLog(), FakeCalls(), lambda event: accepted.append(event.imported))
    assert accepted == [True]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_l1_reconcile_progress_on_a_terminal_is_one_bar_redrawn_in_place() -> None:
    from ringbridge.cli import DayProgress
    from ringbridge.usecases.reconcile import Reconciled

    terminal = _Terminal()
    progress = DayProgress(terminal)
    progress(1, 4, Reconciled(read=10, new=2, unchanged=8))
    progress(4, 4, Reconciled(read=40, new=5, completed=1, unchanged=34))
    drawn = terminal.getvalue()
    assert drawn.count("\r") == 2 and drawn.endswith("\n") and drawn.count("\n") == 1
    first, last = drawn.strip("\n").split("\r")[1:]
    assert first == "[#######.......................] 1/4 days  read 10  new 2  completed 0  unchanged 8"
    assert last == "[##############################] 4/4 days  read 40  new 5  completed 1  unchanged 34"
