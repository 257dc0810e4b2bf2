"""Call-event ack: the webhook's latency with a fast CRM and with one taking 2 s a request.

The queue decouples them, so the ratio slow/fast should stay near 1 (goal <= 1.1).
"""

from __future__ import annotations

from typing import Any

import requests

from tests.bench.common import load
from tests.e2e.conftest import local_stack_process
from tests.fakes import keycrm

SLOW_CRM_SECONDS = 2.0


def _acks(count: int, delay: float) -> dict[str, float]:
    fake = keycrm.FakeKeyCrm()
    fake.delay_seconds = delay
    fake.start()
    try:
        parameters = {"Crm": "keycrm", "CrmBaseUrl": f"{fake.url}/v1", "KeycrmSourceId": "1"}
        with local_stack_process(parameters, secrets={"CRM_API_KEY": keycrm.API_KEY}) as stack:
            session = requests.Session()
            url = f"{stack.base_url}/ringostat/events"

            def deliver(index: int) -> None:
                payload = {
                    "call_id": f"ack-{index}",
                    "event": "after_call",
                    "direction": "in",
                    "caller": f"+4860{index:07d}",
                    "status": "ANSWERED",
                    "talk_time": "30",
                }
                response = session.post(url, params={"token": stack.webhook_token}, json=payload, timeout=30)
                assert response.status_code == 200, response.text

            for index in range(20):  # warm-up: cold imports, first clients
                deliver(1_000_000 + index)
            return load(deliver, count, concurrency=4)
    finally:
        fake.stop()


def run(count: int) -> dict[str, Any]:
    fast = _acks(count, 0.0)
    slow = _acks(count, SLOW_CRM_SECONDS)
    return {
        "fast_crm_p50_ms": fast["p50_ms"],
        "fast_crm_p99_ms": fast["p99_ms"],
        "slow_crm_p50_ms": slow["p50_ms"],
        "slow_crm_p99_ms": slow["p99_ms"],
        "p50_ratio_slow_to_fast": slow["p50_ms"] / fast["p50_ms"],
        "p99_ratio_slow_to_fast": slow["p99_ms"] / fast["p99_ms"],
    }
