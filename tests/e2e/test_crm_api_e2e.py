"""Issue 4 over real HTTP against `python -m local`: call history, caller look-up and its latency."""

from __future__ import annotations

import json
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import RunningStack
from tests.e2e.crm_api_support import new_api_key, stack_dynamodb
from tests.integration.crm_api_helpers import call, seed_calls

pytestmark = pytest.mark.e2e

LOOKUPS = 500
LATENCY_REPORT = Path("/tmp/ringbridge-crm-api-latency.json")


@pytest.fixture(scope="module")
def key(local_stack: RunningStack) -> str:
    return new_api_key(local_stack, "e2e")


def test_l1_l3_history_and_comment_over_http(local_stack: RunningStack, key: str) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    stamp = lambda hours: (now - timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    seed_calls(
        "CallsTable",
        [call("e2e-1", stamp(30), phone="+48221110001"), call("e2e-2", stamp(2), phone="+48221110001")],
        stack_dynamodb(local_stack),
    )
    headers = {"X-Api-Key": key}
    listed = requests.get(local_stack.base_url + "/calls", params={"phone": "0 22 111 00 01"}, headers=headers, timeout=10)
    assert listed.status_code == 200
    assert [c["id"] for c in listed.json()["calls"]] == ["e2e-2", "e2e-1"]
    one = requests.get(local_stack.base_url + "/calls/e2e-1", headers=headers, timeout=10)
    patched = requests.patch(
        local_stack.base_url + "/calls/e2e-1",
        json={"comment": "call back Monday"},
        headers={**headers, "If-Match": one.headers["ETag"]},
        timeout=10,
    )
    assert patched.status_code == 200
    assert patched.json()["comment"] == "call back Monday"
    replay = requests.patch(
        local_stack.base_url + "/calls/e2e-1",
        json={"comment": "x"},
        headers={**headers, "If-Match": one.headers["ETag"]},
        timeout=10,
    )
    assert replay.status_code == 412


def test_s1_caller_lookup_latency(local_stack: RunningStack, key: str) -> None:
    """S1: "who is this number" must be fast enough for a ringing phone; measured over the local stack."""
    headers = {"X-Api-Key": key}
    created = requests.post(
        local_stack.base_url + "/contacts", json={"phone": "+48 22 111 00 02", "name": "Latency"}, headers=headers, timeout=10
    )
    assert created.status_code in (200, 201)
    timings: list[float] = []
    with requests.Session() as session:
        session.headers.update(headers)
        for _ in range(LOOKUPS):
            started = time.perf_counter()
            response = session.get(local_stack.base_url + "/contacts", params={"phone": "0 22 111 00 02"}, timeout=10)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
    timings.sort()
    p50, p99 = statistics.median(timings), timings[int(len(timings) * 0.99) - 1]
    LATENCY_REPORT.write_text(json.dumps({"requests": LOOKUPS, "p50_ms": round(p50, 2), "p99_ms": round(p99, 2)}))
    print(f"GET /contacts over {LOOKUPS} requests: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    assert p99 < 1000
