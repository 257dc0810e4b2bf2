"""The CRM sync worker's DynamoDB calls per event, counted with botocore's hooks (built-in store, moto).

Guards the worker's cost (docs/benchmarks.md): what a step did is kept on the call record it
reads anyway (``sync_steps``, ``synced_at``), not in ledger items of its own, and the contact is
read once per event. The budgets are today's counts: a change that adds a call fails here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.conftest import AwsStack
from tests.integration.pipeline_helpers import ANNA, after_call, call_record, send

# (reads, writes) per event of the worker, with the test stack's parameters.
# Before the markers moved onto the call record: 35, 24, 30 and 12 calls (docs/benchmarks.md).
BUDGETS = {"new answered": (5, 10), "known answered": (5, 7), "known missed": (5, 9), "late recording": (5, 4)}
READS = {"GetItem", "Query", "Scan", "BatchGetItem"}


class Counted:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def __call__(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def take(self) -> tuple[int, int]:
        reads = sum(n for name, n in self.calls.items() if name in READS)
        writes = sum(self.calls.values()) - reads
        self.calls.clear()
        return reads, writes


@pytest.fixture
def counted() -> Iterator[Counted]:
    from ringbridge.storage.aws import _session, reset_clients

    counter = Counted()
    _session().events.register("before-call.dynamodb", counter, unique_id="worker-dynamodb-calls")
    reset_clients()  # clients copy the session's hooks when created
    yield counter
    _session().events.unregister("before-call.dynamodb", unique_id="worker-dynamodb-calls")
    reset_clients()


def test_worker_dynamodb_calls_per_event(aws: AwsStack, counted: Counted) -> None:
    assert aws.admin("PUT", "/admin/employees/anna", json=ANNA).status_code == 200
    seen: dict[str, tuple[int, int]] = {}

    def worker(kind: str, payload: dict[str, Any], path: str = "/ringostat/events") -> None:
        send(aws, payload, path)
        counted.take()
        aws.drain()
        seen[kind] = counted.take()

    worker("new answered", after_call("d1", "in", True))
    worker("known answered", after_call("d2", "in", True, started_at="2026-11-23 11:20:00"))
    worker("known missed", after_call("d3", "in", False, started_at="2026-11-23 11:25:00"))
    worker("late recording", {"call_id": "d1", "recording_url": "https://app.ringostat.com/r/d1.ogg"}, "/ringostat/recordings")
    for kind, (reads, writes) in BUDGETS.items():
        assert seen[kind][0] <= reads and seen[kind][1] <= writes, (kind, seen[kind])


def test_f5_l1_sync_markers_live_on_the_call_and_the_ledger_keeps_no_item_per_call(aws: AwsStack) -> None:
    assert aws.admin("PUT", "/admin/employees/anna", json=ANNA).status_code == 200
    send(aws, after_call("m1", "in", False))
    aws.drain()
    record = call_record(aws, "m1")
    assert set(record["sync_steps"]) == {"contact", "call", "card", "task"} and record["synced_at"]
    assert record["sync_steps"]["card"] and record["sync_steps"]["task"]  # the ids of what the call opened
    ledger_keys = [item["id"] for item in aws.items("DedupTable")]
    assert not [key for key in ledger_keys if "m1" in key and not key.startswith(("announced#", "card-once#"))], ledger_keys
    assert not [key for key in ledger_keys if key.startswith("lock#")]  # the number's lock is given back
