"""Worker throughput and per-event cost, to the built-in store and to the fake KeyCRM, and at scale.

Runs in-process (moto's server in this process) so that botocore's event hooks count every
DynamoDB call ringbridge makes, and so that the scale runs can preload moto directly.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from typing import Any

import requests

from local.stack import LocalStack

QUIET = {"LogLevel": "WARNING"}
READS = {"GetItem", "Query", "BatchGetItem", "Scan"}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


class DynamoCounter:
    """Counts ringbridge's DynamoDB calls (all its clients come from one boto3 session)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def install(self) -> None:
        from ringbridge.storage.aws import _session, reset_clients

        _session().events.register("before-call.dynamodb", self._count, unique_id=f"bench-counter-{id(self)}")
        reset_clients()  # clients copy the session's hooks when created

    def uninstall(self) -> None:
        from ringbridge.storage.aws import _session

        _session().events.unregister("before-call.dynamodb", unique_id=f"bench-counter-{id(self)}")

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def take(self) -> tuple[int, int, int]:
        reads = sum(n for name, n in self.calls.items() if name in READS)
        writes = sum(n for name, n in self.calls.items() if name in WRITES)
        scans = self.calls["Scan"]
        self.calls.clear()
        return reads, writes, scans


def _event(call_id: str, phone: str, answered: bool) -> dict[str, str]:
    return {
        "call_id": call_id,
        "event": "after_call",
        "direction": "in",
        "caller": phone,
        "status": "ANSWERED" if answered else "NO ANSWER",
        "talk_time": "30" if answered else "0",
        "sip_account": "bench_sip",
        "utm_source": "google",
    }


def _measure(stack: LocalStack, counter: DynamoCounter, events: list[dict[str, str]]) -> dict[str, float]:
    session = requests.Session()
    admin = {"Authorization": f"Bearer {stack.secrets['ADMIN_TOKEN']}"}
    session.put(
        f"{stack.base_url}/admin/employees/bench",
        json={"name": "Bench", "sip_accounts": ["bench_sip"]},
        headers=admin,
        timeout=10,
    )
    counter.take()
    for payload in events:
        response = session.post(
            f"{stack.base_url}/ringostat/events", params={"token": stack.secrets["WEBHOOK_TOKEN"]}, json=payload, timeout=10
        )
        response.raise_for_status()
    ack_reads, ack_writes, _ = counter.take()
    poller = stack.pollers[0]
    started = time.perf_counter()
    handled = 0
    while handled < len(events):
        handled += poller.poll_once(wait_seconds=0)
    elapsed = time.perf_counter() - started
    worker_reads, worker_writes, scans = counter.take()
    counter.uninstall()
    count = len(events)
    return {
        "events": count,
        "events_per_s": count / elapsed,
        "worker_ms_per_event": elapsed * 1000 / count,
        "ack_dynamodb_reads_per_event": ack_reads / count,
        "ack_dynamodb_writes_per_event": ack_writes / count,
        "worker_dynamodb_reads_per_event": worker_reads / count,
        "worker_dynamodb_writes_per_event": worker_writes / count,
        "dynamodb_scans": scans,
    }


def _mixed_events(count: int, prefix: str) -> list[dict[str, str]]:
    """Half new numbers, half repeat callers; a quarter missed."""
    return [_event(f"{prefix}-{i}", f"+4860{i // 2:07d}", answered=i % 4 != 3) for i in range(count)]


def builtin(count: int) -> dict[str, float]:
    counter = DynamoCounter()
    with LocalStack(port=0, moto_port=0, run_pollers=False, parameters=dict(QUIET)) as stack:
        stack.gateway.access_log = False
        counter.install()
        return _measure(stack, counter, _mixed_events(count, "builtin"))


def keycrm(count: int) -> dict[str, float]:
    from tests.fakes import keycrm as fake_keycrm

    fake = fake_keycrm.FakeKeyCrm()
    fake.start()
    os.environ["RINGBRIDGE_CRM_API_KEY"] = fake_keycrm.API_KEY
    counter = DynamoCounter()
    try:
        parameters = {**QUIET, "Crm": "keycrm", "CrmBaseUrl": f"{fake.url}/v1", "KeycrmSourceId": "1"}
        with LocalStack(port=0, moto_port=0, run_pollers=False, parameters=parameters) as stack:
            stack.gateway.access_log = False
            counter.install()
            figures = _measure(stack, counter, _mixed_events(count, "keycrm"))
            figures["crm_requests_per_event"] = len(fake.exchanges) / count
            return figures
    finally:
        os.environ.pop("RINGBRIDGE_CRM_API_KEY", None)
        fake.stop()


def _preload(stack: LocalStack, rows: int) -> None:
    """Put ``rows`` contacts and ``rows`` calls straight into moto's backend (no HTTP: fast)."""
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends["123456789012"]["us-east-1"]
    contacts, calls = stack.environment["CONTACTS_TABLE"], stack.environment["CALLS_TABLE"]
    for index in range(rows):
        phone = f"+4850{index:07d}"
        backend.put_item(
            contacts,
            {
                "phone": {"S": phone},
                "contact_id": {"S": f"pre-{index}"},
                "name": {"S": f"Preloaded {index}"},
                "created_at": {"S": "2026-01-01T00:00:00Z"},
                "updated_at": {"S": "2026-01-01T00:00:00Z"},
            },
        )
        backend.put_item(
            calls,
            {
                "call_id": {"S": f"pre-call-{index}"},
                "other_party": {"S": phone},
                "contact_id": {"S": f"pre-{index}"},
                "started_at": {"S": "2026-01-01T00:00:00Z"},
                "call_day": {"S": "2026-01-01"},
                "status": {"S": "answered"},
                "version": {"N": "1"},
            },
        )


def at_scale(rows: int, count: int) -> dict[str, float]:
    counter = DynamoCounter()
    with LocalStack(port=0, moto_port=0, run_pollers=False, parameters=dict(QUIET)) as stack:
        stack.gateway.access_log = False
        _preload(stack, rows)
        counter.install()
        figures = _measure(stack, counter, _mixed_events(count, f"scale{rows}"))
        figures["preloaded_contacts_and_calls"] = rows
        return figures
