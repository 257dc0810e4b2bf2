"""C2, L2: webhook shapes Ringostat sends besides the flat one, and FMC attribution of outgoing calls."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ringbridge.domain.calls import CallRecord, Direction, merge
from ringbridge.domain.employees import Employee
from ringbridge.domain.rules import SyncRules
from ringbridge.ringostat.webhook import flatten_nested, parse_call_event
from ringbridge.usecases.sync import resolve_manager, sync_call
from tests.unit.fakes import FakeCalls, FakeCrm, FakeEmployees, FakeLedger

PIOTR = Employee(employee_id="piotr", name="Piotr", ringostat_employee_id="222", fmc_number="+48601234567")
ANNA = Employee(employee_id="anna", name="Anna", sip_accounts=["company_anna"])


def record(**payload: Any) -> CallRecord:
    values = {"call_id": "c1", "event": "after_call", **payload}
    return merge(None, parse_call_event(values, "PL", "Europe/Warsaw"), "2026-11-23T09:00:00Z")


def test_c2_outgoing_call_from_a_managers_fmc_number_is_his() -> None:
    call = record(direction="out", caller="48601234567", callee="0 22 123 45 67", status="ANSWERED", billsec="30")
    assert (call.tracking_number, call.other_party) == ("+48601234567", "+48221234567")
    manager = resolve_manager(call, FakeEmployees(PIOTR, ANNA))
    assert manager is not None and manager.employee_id == "piotr"


def test_c2_outgoing_call_from_a_company_number_has_no_manager() -> None:
    call = record(direction="out", caller="48221000000", callee="48221234567", status="ANSWERED")
    assert resolve_manager(call, FakeEmployees(PIOTR, ANNA)) is None


def test_c2_incoming_call_to_a_number_equal_to_an_fmc_is_not_attributed_by_it() -> None:
    call = record(direction="in", caller="48221234567", callee="48601234567", status="ANSWERED")
    assert resolve_manager(call, FakeEmployees(PIOTR)) is None


def test_c2_fmc_outgoing_call_is_logged_with_its_manager() -> None:
    call = record(direction="out", caller='"Piotr" <48601234567>', callee="48221234567", status="ANSWERED")
    crm, calls = FakeCrm(), FakeCalls(call)
    sync_call("c1", calls, crm, FakeEmployees(PIOTR), FakeLedger(), SyncRules(), datetime(2026, 11, 23, tzinfo=UTC))
    _, _, manager = crm.logged["c1"]
    assert manager is not None and manager.employee_id == "piotr"


@pytest.mark.parametrize(
    "caller",
    ['"Jan Kowalski" <48221234567>', "Jan <+48 22 123 45 67>", "<0221234567>"],
)
def test_l2_caller_written_with_a_display_name(caller: str) -> None:
    assert record(direction="in", caller=caller, callee="48221000000").other_party == "+48221234567"


def test_l2_sip_caller_with_a_display_name_is_the_employee() -> None:
    call = record(direction="out", caller='"Anna" <company_anna>', callee="48221234567")
    assert (call.sip_account, call.tracking_number) == ("company_anna", None)


def test_l2_fields_nested_under_additional_call_data() -> None:
    payload = {
        "uniqueid": "ua0-1.2",
        "event": "after_call",
        "additional_call_data": {"userfield": "48221234567", "dst": "48221000000", "call_type": "in", "disposition": "ANSWERED"},
    }
    event = parse_call_event(payload, "PL", "Europe/Warsaw")
    assert (event.call_id, event.direction, event.client_phone, event.tracking_number, event.raw_status) == (
        "ua0-1.2",
        Direction.INCOMING,
        "+48221234567",
        "+48221000000",
        "ANSWERED",
    )
    assert "additional_call_data" not in event.extra


def test_l2_root_fields_win_over_nested_ones_and_json_text_is_read() -> None:
    flat = flatten_nested({"caller": "1", "additional_call_data": '{"caller": "2", "dst": "3", "deep": {"x": 1}}'})
    assert flat == {"caller": "1", "dst": "3"}
    assert flatten_nested({"additional_call_data": "not json"}) == {}
