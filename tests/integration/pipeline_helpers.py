"""Ringostat-shaped call events and counts for the pipeline tests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import AwsStack

CLIENT = "+48123456789"
TRACKING = "+48221002030"
ANNA = {"name": "Anna Nowak", "crm_manager_id": "17", "ringostat_employee_id": "111111", "sip_accounts": ["company_anna"]}


def after_call(
    call_id: str, direction: str, answered: bool, phone: str = CLIENT, sip: str = "company_anna", **extra: Any
) -> dict[str, Any]:
    """The after-call webhook (after_outgoing for an outgoing call), as an admin would configure it."""
    payload: dict[str, Any] = {
        "call_id": call_id,
        "event": "after_call" if direction == "in" else "after_outgoing",
        "direction": direction,
        "status": "ANSWERED" if answered else "NO ANSWER",
        "started_at": "2026-11-23 11:15:02",
        "duration": "60",
        "talk_time": "42" if answered else "0",
        "utm_source": "google",
        "utm_medium": "cpc",
        "utm_campaign": "zima",
    }
    if direction == "in":
        payload.update(caller=phone, callee=TRACKING)
        if answered:
            payload.update(employee_id="111111", sip_account=sip)
    else:
        payload.update(caller=sip, callee=phone, sip_account=sip)
    payload.update(extra)
    return payload


def send(aws: AwsStack, payload: dict[str, Any], path: str = "/ringostat/events") -> None:
    response = aws.post_webhook(path, json=payload)
    assert response.status_code == 200, response.json


def set_rules(monkeypatch: pytest.MonkeyPatch, **rules: str) -> None:
    from ringbridge.config import settings

    for name, value in rules.items():
        monkeypatch.setenv(name.upper(), value)
    settings.cache_clear()


def counts(aws: AwsStack) -> dict[str, int]:
    return {
        "contacts": len(aws.items("ContactsTable")),
        "cards": len(aws.items("CardsTable")),
        "tasks": len(aws.items("TasksTable")),
        "calls": len(aws.items("CallsTable")),
    }


def call_record(aws: AwsStack, call_id: str) -> dict[str, Any]:
    return next(item for item in aws.items("CallsTable") if item["call_id"] == call_id)
