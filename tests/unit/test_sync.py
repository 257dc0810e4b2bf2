"""SPEC P2-P7, F2-F6, T1, L4: the pipeline's rules against in-memory fakes of the ports."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ringbridge.domain.calls import CallRecord, merge
from ringbridge.domain.employees import Employee
from ringbridge.domain.rules import FunnelMode, SyncRules
from ringbridge.ringostat.webhook import parse_call_event
from ringbridge.usecases.sync import NumberBusy, SyncOutcome, sync_call
from tests.unit.fakes import FakeCalls, FakeCrm, FakeEmployees, FakeLedger, Refused

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

        self.refusals: list[tuple[str, str]] = []

    def sync(self, call_id: str) -> SyncOutcome:
        return sync_call(
            call_id,
            self.calls,
            self.crm,
            self.employees,
            self.ledger,
            self.rules,
            NOW,
            on_refused=lambda step, reason: self.refusals.append((step, reason)),
        )


def test_waits_for_the_end_of_the_call() -> None:
    world = World(record("c1", event="call_taken", status="IN PROGRESS"))
    assert world.sync("c1").state == "waiting_for_end"
    assert world.crm.contacts == {}


def test_unknown_call_is_reported_not_raised() -> None:
    assert World().sync("nope").state == "unknown_call"


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
    world = World(record("c1", status="NO ANSWER"))
    world.crm.broken["create_task"] = ConnectionError("CRM timed out")
    with pytest.raises(ConnectionError):
        world.sync("c1")
    assert len(world.crm.cards) == 1
    del world.crm.broken["create_task"]
    world.sync("c1")
    assert len(world.crm.cards) == 1
    assert len(world.crm.contacts) == 1
    assert len(world.crm.tasks) == 1
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
    assert outcome.state == "updated"
    assert world.crm.logged["c1"][0].recording_url == "https://app.ringostat.com/r.ogg"
    assert len(world.crm.cards) == 1


# ---------------------------------------------------------------- one refused step never loses a call (F1, T1, L1)
def test_f1_l1_refused_card_still_gets_the_call_line_and_the_contact() -> None:
    world = World(record("c1", status="ANSWERED", employee_id="111"))
    world.crm.broken["create_card"] = Refused(400, "funnel 7 does not exist")
    outcome = world.sync("c1")
    assert outcome.state == "synced"
    assert outcome.refused == ["card"]
    assert "c1" in world.crm.logged  # the call line
    assert len(world.crm.contacts) == 1
    assert world.crm.cards == []
    failures = world.calls.records["c1"].sync_failures
    assert [(f.step, f.at) for f in failures] == [("card", NOW.isoformat(timespec="seconds"))]
    assert "funnel 7 does not exist" in failures[0].reason
    assert world.refusals == [("card", failures[0].reason)]
    assert "lock#+48123456789" not in world.ledger.owners


def test_t1_refused_task_is_recorded_and_the_card_and_call_stand() -> None:
    world = World(record("c1", status="NO ANSWER"))
    world.crm.broken["create_task"] = Refused(422, "assignee unknown")
    outcome = world.sync("c1")
    assert outcome.refused == ["task"]
    assert len(world.crm.cards) == 1
    assert "c1" in world.crm.logged
    assert [f.step for f in world.calls.records["c1"].sync_failures] == ["task"]


def test_l1_refused_contact_still_logs_the_call_without_one() -> None:
    world = World(record("c1", status="ANSWERED"))
    world.crm.broken["create_contact"] = Refused(422, "phone is invalid")
    outcome = world.sync("c1")
    assert outcome.refused == ["contact"]
    _call, contact, _ = world.crm.logged["c1"]
    assert contact is None  # kept in the call history, attached to no one
    assert world.crm.cards == []  # no contact, no card


@pytest.mark.parametrize("status", [408, 409, 429])
def test_f1_timeout_conflict_and_throttling_are_retried_not_recorded(status: int) -> None:
    world = World(record("c1", status="ANSWERED"))
    world.crm.broken["create_card"] = Refused(status, "try again")
    with pytest.raises(Refused):
        world.sync("c1")
    assert world.calls.records["c1"].sync_failures == []
    assert world.refusals == []


def test_f1_l1_retry_after_a_transient_failure_redoes_only_the_missing_step() -> None:
    world = World(record("c1", status="ANSWERED", employee_id="111"))
    world.crm.broken["create_card"] = ConnectionError("CRM timed out")
    with pytest.raises(ConnectionError):
        world.sync("c1")
    assert "c1" in world.crm.logged and len(world.crm.contacts) == 1
    del world.crm.broken["create_card"]
    world.crm.calls_made.clear()
    outcome = world.sync("c1")
    assert outcome.card_created
    assert len(world.crm.cards) == 1
    assert "log_call" not in world.crm.calls_made  # the call was written by the first attempt
    assert "create_contact" not in world.crm.calls_made
    assert world.calls.records["c1"].sync_failures == []


def test_f1_l1_done_steps_are_kept_on_the_call_record_not_in_the_ledger() -> None:
    """The markers travel with the call (read anyway): the ledger holds no per-call keys any more."""
    world = World(record("c1", status="ANSWERED", employee_id="111"))
    world.crm.broken["create_card"] = ConnectionError("CRM timed out")
    with pytest.raises(ConnectionError):
        world.sync("c1")
    failed = world.calls.records["c1"]
    assert set(failed.sync_steps) == {"contact", "call"} and failed.synced_at is None  # kept although the sync failed
    assert failed.sync_steps["contact"] == next(iter(world.crm.contacts.values())).crm_id
    del world.crm.broken["create_card"]
    world.sync("c1")
    synced = world.calls.records["c1"]
    assert set(synced.sync_steps) == {"contact", "call", "card", "callback"} and synced.synced_at == NOW.isoformat(
        timespec="seconds"
    )
    assert synced.sync_steps["card"] == world.crm.cards[0].crm_id
    assert not [key for key in world.ledger.values if "c1" in key]
    assert "lock#+48123456789" not in world.ledger.owners  # the number's lock is released after a failure too


def test_f1_a_refused_step_is_not_tried_again_by_a_retry() -> None:
    world = World(record("c1", status="NO ANSWER"))
    world.crm.broken["create_card"] = Refused(400, "no such funnel")
    world.crm.broken["create_task"] = ConnectionError("CRM timed out")
    with pytest.raises(ConnectionError):
        world.sync("c1")
    del world.crm.broken["create_task"]
    world.crm.calls_made.clear()
    outcome = world.sync("c1")
    assert "create_card" not in world.crm.calls_made
    assert outcome.task_created
    assert [f.step for f in world.calls.records["c1"].sync_failures] == ["card"]
    assert world.refusals == [("card", world.calls.records["c1"].sync_failures[0].reason)]


def test_l4_update_path_takes_the_number_lock() -> None:
    world = World(record("c1", status="ANSWERED"))
    world.sync("c1")
    world.ledger.claim("lock#+48123456789", "other-call")
    with pytest.raises(NumberBusy):
        world.sync("c1")


# ---------------------------------------------------------------- P8: a known contact's UTM tags
def _known_contact(world: World, has_utm: bool) -> None:
    from ringbridge.domain.crm import CrmContact

    world.crm.contacts["+48123456789"] = CrmContact(crm_id="k1", phone="+48123456789", has_utm=has_utm)


def test_p8_known_contact_without_utm_gets_the_call_s_tags() -> None:
    world = World(record("c1", status="ANSWERED", utm_source="newsletter"))
    _known_contact(world, has_utm=False)
    world.sync("c1")
    assert world.crm.utm["+48123456789"].source == "newsletter"


@pytest.mark.parametrize(("attribution", "written"), [("first_touch", False), ("last_touch", True)])
def test_p8_known_contact_with_utm_first_or_last_touch(attribution: str, written: bool) -> None:
    world = World(record("c1", status="ANSWERED", utm_source="newsletter"), rules=SyncRules(utm_attribution=attribution))
    _known_contact(world, has_utm=True)
    world.sync("c1")
    assert ("+48123456789" in world.crm.utm) is written


def test_p8_new_contact_takes_its_tags_at_creation_only_and_no_tags_means_no_write() -> None:
    world = World(record("c1", status="ANSWERED", utm_source="google"), record("c2", status="ANSWERED"))
    world.sync("c1")
    assert "write_utm" not in world.crm.calls_made
    world.sync("c2")
    assert "write_utm" not in world.crm.calls_made


def test_p8_refused_utm_write_is_recorded_and_the_rest_stands() -> None:
    world = World(record("c1", status="ANSWERED", utm_source="newsletter"))
    _known_contact(world, has_utm=False)
    world.crm.broken["write_utm"] = Refused(422, "unknown custom field")
    outcome = world.sync("c1")
    assert outcome.refused == ["utm"]
    assert "c1" in world.crm.logged


def test_f2_a_refused_card_does_not_use_up_the_number_s_one_time_card() -> None:
    world = World(record("c1", status="ANSWERED"), record("c2", status="ANSWERED"))
    world.crm.broken["create_card"] = Refused(400, "no such funnel")
    world.sync("c1")
    del world.crm.broken["create_card"]
    assert world.sync("c2").card_created
