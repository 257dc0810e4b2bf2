"""Call-event ack: the webhook's latency with a fast CRM and with one taking 2 s a request.

The queue decouples them, so the ratio slow/fast should stay near 1 (goal <= 1.1). Both
stacks run at once and the requests alternate between them, so that whatever else the
machine does meanwhile weighs on both sides alike.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from time import perf_counter
from typing import Any

import requests

from tests.bench.common import percentile
from tests.e2e.conftest import RunningStack, local_stack_process
from tests.fakes import keycrm

SLOW_CRM_SECONDS = 2.0
SIDES = ("fast", "slow")


def _stack(exits: ExitStack, delay: float) -> RunningStack:
    fake = keycrm.FakeKeyCrm()
    fake.delay_seconds = delay
    fake.start()
    exits.callback(fake.stop)
    parameters = {"Crm": "keycrm", "CrmBaseUrl": f"{fake.url}/v1", "KeycrmSourceId": "1", "LogLevel": "WARNING"}
    return exits.enter_context(local_stack_process(parameters, secrets={"CRM_API_KEY": keycrm.API_KEY}))


def run(count: int) -> dict[str, Any]:
    with ExitStack() as exits:
        stacks = {"fast": _stack(exits, 0.0), "slow": _stack(exits, SLOW_CRM_SECONDS)}
        sessions = {side: requests.Session() for side in SIDES}

        def deliver(index: int) -> tuple[str, float]:
            side = SIDES[index % 2]
            stack = stacks[side]
            payload = {
                "call_id": f"ack-{index}",
                "event": "after_call",
                "direction": "in",
                "caller": f"+4860{index:07d}",
                "status": "ANSWERED",
                "talk_time": "30",
            }
            started = perf_counter()
            response = sessions[side].post(
                f"{stack.base_url}/ringostat/events", params={"token": stack.webhook_token}, json=payload, timeout=30
            )
            elapsed = (perf_counter() - started) * 1000
            assert response.status_code == 200, response.text
            return side, elapsed

        for index in range(40):  # warm-up: cold imports and first clients on both sides
            deliver(1_000_000 + index)
        with ThreadPoolExecutor(max_workers=2) as pool:
            samples = list(pool.map(deliver, range(2 * count)))
    by_side = {side: [ms for name, ms in samples if name == side] for side in SIDES}
    figures: dict[str, Any] = {}
    for side in SIDES:
        figures[f"{side}_crm_p50_ms"] = percentile(by_side[side], 0.50)
        figures[f"{side}_crm_p99_ms"] = percentile(by_side[side], 0.99)
    figures["p50_ratio_slow_to_fast"] = figures["slow_crm_p50_ms"] / figures["fast_crm_p50_ms"]
    figures["p99_ratio_slow_to_fast"] = figures["slow_crm_p99_ms"] / figures["fast_crm_p99_ms"]
    return figures
