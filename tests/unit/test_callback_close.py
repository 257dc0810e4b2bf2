"""T1: which later calls close the number's open call-back task (the rule, and the sync step on fakes)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ringbridge.domain.call_rules import closes_callback
from ringbridge.domain.calls import CallRecord, CallStatus, Direction, Moment
from ringbridge.domain.rules import FunnelMode, SyncRules
from ringbridge.usecases.sync import sync_call
from tests.unit.fakes import FakeCrm, FakeEmployees, FakeLedger

PHONE = "+48221234567"


def ended(call_id: str, direction: Direction, status: CallStatus, talk: int) -> CallRecord:
    moment = Moment.AFTER_CALL if direction is Direction.INCOMING else Moment.AFTER_OUTGOING
    return CallRecord(
        call_id=call_id,
        direction=direction,
        other_party=PHONE,
        status=status,
        talk_time=talk,
        started_at="2026-11-23T12:00:00Z",
        moments=[moment.value],
    )


@pytest.mark.parametrize(
    ("direction", "status", "talk", "closes"),
    [
        (Direction.OUTGOING, CallStatus.ANSWERED, 10, True),
        (Direction.OUTGOING, CallStatus.ANSWERED, 9, False),
        (Direction.OUTGOING, CallStatus.MISSED, 0, False),
        (Direction.INCOMING, CallStatus.ANSWERED, 1, True),
        (Direction.INCOMING, CallStatus.MISSED, 0, False),
    ],
)
def test_t1_rule_answered_long_enough_or_answered_incoming(
    direction: Direction, status: CallStatus, talk: int, closes: bool
) -> None:
    assert closes_callback(ended("c", direction, status, talk), SyncRules(callback_close_min_talk_seconds=10)) is closes


def test_t1_sync_step_asks_the_crm_to_close_the_call_back() -> None:
    crm, ledger, employees = FakeCrm(), FakeLedger(), FakeEmployees()
    calls = {
        "m": ended("m", Direction.INCOMING, CallStatus.MISSED, 0),
        "o": ended("o", Direction.OUTGOING, CallStatus.ANSWERED, 30),
    }

    class Calls:
        def get(self, call_id: str) -> CallRecord | None:
            return calls.get(call_id)

        def mark_synced(self, call_id: str, steps: dict[str, str], synced_at: str | None) -> CallRecord:
            calls[call_id] = calls[call_id].model_copy(update={"sync_steps": steps, "synced_at": synced_at})
            return calls[call_id]

    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    sync_call("m", Calls(), crm, employees, ledger, SyncRules(), now)  # type: ignore[arg-type]
    assert [task.open for task in crm.tasks] == [True]
    sync_call("o", Calls(), crm, employees, ledger, SyncRules(), now)  # type: ignore[arg-type]
    assert [task.open for task in crm.tasks] == [False]
    assert crm.closed_by == {"task-m": "o"}


def test_t1_f3_the_pipeline_passes_the_ids_it_created_and_keeps_the_one_a_call_closed() -> None:
    crm, ledger, employees = FakeCrm(), FakeLedger(), FakeEmployees()
    calls = {
        "m1": ended("m1", Direction.INCOMING, CallStatus.MISSED, 0),
        "m2": ended("m2", Direction.INCOMING, CallStatus.MISSED, 0),
        "o": ended("o", Direction.OUTGOING, CallStatus.ANSWERED, 30),
    }

    class Calls:
        def get(self, call_id: str) -> CallRecord | None:
            return calls.get(call_id)

        def mark_synced(self, call_id: str, steps: dict[str, str], synced_at: str | None) -> CallRecord:
            calls[call_id] = calls[call_id].model_copy(update={"sync_steps": steps, "synced_at": synced_at})
            return calls[call_id]

    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    rules = SyncRules(funnel_mode=FunnelMode.REPEATABLE, contacts_from_incoming_missed=True)
    for call_id in ("m1", "m2", "o"):
        sync_call(call_id, Calls(), crm, employees, ledger, rules, now)  # type: ignore[arg-type]
    assert ledger.recall(f"number-task#{PHONE}") == "task-m1"  # T1: the last task created for the number
    assert crm.known_ids == [
        ("find_active_card", None),  # m1: nothing created yet
        ("find_open_task", None),
        ("find_active_card", "card-m1"),  # m2: the card and the task m1 created, by id
        ("find_open_task", "task-m1"),
        ("close_callback", "task-m1"),  # o: the task to close, by id
    ]
    assert calls["o"].sync_steps["callback"] == "task-m1"  # the reminder this call closed, kept on the call
    sync_call("o", Calls(), crm, employees, ledger, rules, now)  # type: ignore[arg-type]
    assert [method for method, _ in crm.known_ids].count("close_callback") == 1  # closing twice: once
