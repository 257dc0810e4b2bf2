"""Issue 2's 'done when', over real HTTP against `python -m local`."""

from __future__ import annotations

import pytest
import requests

from tests.e2e.conftest import RunningStack

pytestmark = pytest.mark.e2e


def test_start_prints_the_webhook_urls_with_the_secret(local_stack: RunningStack) -> None:
    printed = "".join(local_stack.output)
    assert f"{local_stack.base_url}/ringostat/routing?token={local_stack.webhook_token}" in printed
    assert f"{local_stack.base_url}/ringostat/events?token={local_stack.webhook_token}" in printed


def test_known_caller_in_national_format_reaches_the_manager(local_stack: RunningStack) -> None:
    employee = {"name": "Ewa", "sip_accounts": ["company_ewa"], "ringostat_employee_id": "3003"}
    assert local_stack.admin("PUT", "/admin/employees/ewa", json=employee).status_code == 200
    contact = local_stack.admin(
        "PUT", "/admin/contacts/+48 22 123 45 67", json={"name": "Biuro", "responsible_employee_id": "ewa"}
    )
    assert contact.status_code == 200
    for written in ("0 22 123 45 67", "48221234567", "0048221234567"):
        response = local_stack.webhook("/ringostat/routing", json={"from": written, "direction": "in", "state": "ping"})
        assert response.status_code == 200
        assert response.json() == {"dst_phone": "company_ewa"}


def test_unknown_caller_falls_through(local_stack: RunningStack) -> None:
    response = local_stack.webhook("/ringostat/routing", json={"from": "+48 601 999 888", "direction": "in", "state": "ping"})
    assert response.json() == {"dst_phone": ""}


def test_wrong_token_is_401(local_stack: RunningStack) -> None:
    response = requests.post(
        local_stack.base_url + "/ringostat/routing", params={"token": "nope"}, json={"from": "+48221234567"}, timeout=10
    )
    assert response.status_code == 401


def test_unknown_route_is_404(local_stack: RunningStack) -> None:
    assert requests.get(local_stack.base_url + "/nowhere", timeout=10).status_code == 404
