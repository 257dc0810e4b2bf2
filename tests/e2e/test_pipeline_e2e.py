"""Issue 3's 'done when': the seeds' scenarios as Ringostat-shaped HTTP requests to the local stack,
read back through the admin routes while the queue poller feeds the worker."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.e2e.conftest import RunningStack
from tests.integration import pipeline_helpers

pytestmark = pytest.mark.e2e

ANNA = {"name": "Anna Nowak", "crm_manager_id": "17", "ringostat_employee_id": "111111", "sip_accounts": ["company_anna_e2e"]}


def eventually(check: Callable[[], Any], seconds: float = 20) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        try:
            result = check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
            continue
        return result


def after_call(call_id: str, direction: str, answered: bool, phone: str) -> dict[str, str]:
    """The integration tests' after-call event for the e2e employee; the moment goes in the URL."""
    payload = pipeline_helpers.after_call(call_id, direction, answered, phone, sip="company_anna_e2e")
    del payload["event"]
    return payload


def deliver(stack: RunningStack, payload: dict[str, str], moment: str) -> None:
    # The moment as a static URL parameter, the rest as a form, as Ringostat can send them.
    response = requests.post(
        stack.base_url + "/ringostat/events", params={"token": stack.webhook_token, "event": moment}, data=payload, timeout=10
    )
    assert response.status_code == 200, response.text


def call(stack: RunningStack, call_id: str) -> dict[str, Any]:
    response = stack.admin("GET", f"/admin/calls/{call_id}")
    assert response.status_code == 200
    return dict(response.json())


def test_seed_scenarios_end_to_end(local_stack: RunningStack) -> None:
    assert local_stack.admin("PUT", "/admin/employees/anna-e2e", json=ANNA).status_code == 200
    assert local_stack.admin("PUT", "/admin/contacts/+48 601 500 003", json={"name": "Znany Klient"}).status_code == 200
    scenarios = [
        ("e2e-new-answered", "in", True, "0 601 500 001", "after_call"),
        ("e2e-new-missed", "in", False, "48601500002", "after_call"),
        ("e2e-known", "in", True, "+48 601-500-003", "after_call"),
        ("e2e-out-new", "out", True, "601500004", "after_outgoing"),
        ("e2e-out-known", "out", False, "0048601500003", "after_outgoing"),
    ]
    for _ in range(3):  # Ringostat's retries: every event three times
        for call_id, direction, answered, phone, moment in scenarios:
            deliver(local_stack, after_call(call_id, direction, answered, phone), moment)

    def linked() -> None:
        assert call(local_stack, "e2e-new-answered").get("contact_id")
        assert call(local_stack, "e2e-out-known").get("contact_id")
        assert call(local_stack, "e2e-new-missed").get("contact_id")

    eventually(linked)
    # P2: contact with the answering manager, who now gets the routing ping.
    new = local_stack.admin("GET", "/admin/contacts/+48601500001").json()
    assert new["source"] == "Ringostat"
    assert new["responsible_employee_id"] == "anna-e2e"
    ping = local_stack.webhook("/ringostat/routing", json={"from": "0601500001", "state": "ping"})
    assert ping.json() == {"dst_phone": "company_anna_e2e"}
    # P3 + T1: the missed call's contact has no manager and one call-back task.
    assert local_stack.admin("GET", "/admin/contacts/+48601500002").json()["responsible_employee_id"] is None
    assert len(local_stack.admin("GET", "/admin/contacts/+48601500002/tasks").json()["tasks"]) == 1
    assert call(local_stack, "e2e-new-missed").get("manager_employee_id") is None
    # P4 / P6: the known contact got both calls, no second contact.
    known = local_stack.admin("GET", "/admin/contacts/+48601500003").json()
    assert {c["call_id"] for c in known["last_calls"]} == {"e2e-known", "e2e-out-known"}
    # P5: an outgoing call to a new number stays in the call history only.
    assert local_stack.admin("GET", "/admin/contacts/+48601500004").status_code == 404
    assert call(local_stack, "e2e-out-new")["other_party"] == "+48601500004"
    # F1/F2/F5: one card per number that called in, despite the triple delivery.
    for phone in ("+48601500001", "+48601500002", "+48601500003"):
        assert len(local_stack.admin("GET", f"/admin/contacts/{phone}/cards").json()["cards"]) == 1
