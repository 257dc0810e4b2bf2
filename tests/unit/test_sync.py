"""SPEC P2-P7, F2-F6, T1, L4: the pipeline's rules against in-memory fakes of the ports."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ringbridge.domain.calls import CallRecord, merge
from ringbridge.domain.employees import Employee
from ringbridge.domain.rules import FunnelMode, SyncRules
from ringbridge.ringostat.webhook import parse_call_event
from ringbridge.usecases.sync import NumberBusy, sync_call
from tests.unit.fakes import FakeCalls, FakeCrm, FakeEmployees, FakeLedger

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
ANNA = Employee(
    employee_id="anna", name="Anna", ringostat_employee_id="111", sip_accounts=["company_anna"], fmc_number="+48602000111"
)


def record(call_id: str, event: str = "after_call", **payload: str) -> CallRecord:
    values = {"call_id": call_id, "event": event, "direction": "in", "caller": "+48123456789", **payload}
    return merge(None, parse_call_event(values, "PL", "Europe/Warsaw"), "2026-11-23T09:00:00Z")


class World:
    def __init__(self, *records: CallRecord, rules: SyncRules | None = None) -> None:
        self.calls = FakeCalls(*records)
        self.crm = FakeCrm()
        self.ledger = FakeLedger()
        self.employees = FakeEmployees(ANNA)
        self.rules = rules or SyncRules()

    def sync(self, call_id: str) -> object:
        return sync_call(call_id, self.calls, self.crm, self.employees, self.ledger, self.rules, NOW)


def test_waits_for_the_end_of_the_call() -> None:
    world = World(record("c1", event="call_taken", status="IN PROGRESS"))
    assert world.sync("c1").state == "waiting_for_end"  # type: ignore[attr-defined]
    assert world.crm.contacts == {}


def test_unknown_call_is_reported_not_raised() -> None:
    assert World().sync("nope").state == "unknown_call"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("payload", "manager"),
    [
        ({"employee_id": "111"}, "anna"),
        ({"sip_account": "COMPANY_ANNA"}, "anna"),
        ({"fmc_number": "602000111"}, "anna"),
        ({}, None),
    ],
)
def test_c2_manager_by_any_identifier(payload: dict[str, str], manager: str | None) -> None:
    world = World(record("c1", status="ANSWERED", **payload))
    world.sync("c1")
    _, _, logged_manager = world.crm.logged["c1"]
    assert (logged_manager.employee_id if logged_manager else None) == manager


def test_f5_lock_held_by_another_call_means_retry() -> None:
    world = World(record("c1", status="ANSWERED"))
    world.ledger.claim("lock#+48123456789", "other-call")
    with pytest.raises(NumberBusy):
        world.sync("c1")
    assert world.crm.contacts == {}


def test_f5_crash_after_the_card_then_retry_makes_no_second_card() -> None:
    world = World(record("c1", status="ANSWERED", employee_id="111"))
    original = world.crm.log_call

    def crash(*_: object) -> None:
        raise ConnectionError("CRM timed out")

    world.crm.log_call = crash  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        world.sync("c1")
    assert len(world.crm.cards) == 1
    world.crm.log_call = original  # type: ignore[method-assign]
    world.sync("c1")
    assert len(world.crm.cards) == 1
    assert len(world.crm.contacts) == 1
    assert "lock#+48123456789" not in world.ledger.owners  # released even after the crash


def test_f2_one_time_vs_f3_repeatable() -> None:
    calls = [record(f"c{i}", status="ANSWERED") for i in range(3)]
    one_time = World(*calls)
    repeatable = World(*calls, rules=SyncRules(funnel_mode=FunnelMode.REPEATABLE))
    for world in (one_time, repeatable):
        world.sync("c0")
        world.crm.cards = [card.model_copy(update={"active": False}) for card in world.crm.cards]  # the card is won
        world.sync("c1")
        world.sync("c2")
    assert len(one_time.crm.cards) == 1
    assert len(repeatable.crm.cards) == 2  # a new one after the first closed, none while that one is open


def test_t1_default_assignee_when_no_one_is_responsible() -> None:
    world = World(record("c1", status="NO ANSWER"), rules=SyncRules(default_task_employee_id="anna"))
    world.sync("c1")
    assert len(world.crm.tasks) == 1


def test_l4_recording_after_sync_updates_the_crm_only() -> None:
    world = World(record("c1", status="ANSWERED"))
    world.sync("c1")
    later = world.calls.records["c1"].model_copy(update={"recording_url": "https://app.ringostat.com/r.ogg"})
    world.calls.records["c1"] = later
    outcome = world.sync("c1")
    assert outcome.state == "updated"  # type: ignore[attr-defined]
    assert world.crm.logged["c1"][0].recording_url == "https://app.ringostat.com/r.ogg"
    assert len(world.crm.cards) == 1
