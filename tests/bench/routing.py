"""Routing ping: latency and throughput on the local stack, DynamoDB calls, handler CPU."""

from __future__ import annotations

import json
import time
from typing import Any

import requests

from local.stack import LocalStack
from tests.bench.common import load

EMPLOYEE = {"name": "Bench", "sip_accounts": ["bench_sip"]}
CONTACTS = 200


def _phone(index: int) -> str:
    return f"+4860{index % CONTACTS:07d}"


def run(count: int) -> dict[str, Any]:
    with LocalStack(port=0, moto_port=0, parameters={"LogLevel": "WARNING"}) as stack:
        stack.gateway.access_log = False
        admin = {"Authorization": f"Bearer {stack.secrets['ADMIN_TOKEN']}"}
        session = requests.Session()
        session.put(f"{stack.base_url}/admin/employees/bench", json=EMPLOYEE, headers=admin, timeout=10).raise_for_status()
        for index in range(CONTACTS):
            session.put(
                f"{stack.base_url}/admin/contacts/{_phone(index)}",
                json={"responsible_employee_id": "bench"},
                headers=admin,
                timeout=10,
            ).raise_for_status()
        url = f"{stack.base_url}/ringostat/routing?token={stack.secrets['WEBHOOK_TOKEN']}"

        from ringbridge.storage.aws import client

        calls: list[str] = []
        dynamodb = client("dynamodb", 400)
        dynamodb.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))

        def ping(index: int) -> None:
            response = session.post(url, json={"from": _phone(index), "direction": "in", "state": "ping"}, timeout=10)
            assert response.json() == {"dst_phone": "bench_sip"}, response.text

        for index in range(50):  # warm up connections and caches
            ping(index)
        calls.clear()
        figures = load(ping, count, concurrency=4)
        reads = sum(1 for name in calls if name in {"GetItem", "Query", "Scan", "BatchGetItem"})
        writes = len(calls) - reads
        figures["dynamodb_reads_per_ping"] = reads / count
        figures["dynamodb_writes_per_ping"] = writes / count
        figures["handler_cpu_ms_per_ping_store_stubbed"] = _handler_cpu_ms(stack)
        return figures


def _handler_cpu_ms(stack: LocalStack, count: int = 2000) -> float:
    """CPU time of the routing handler alone (auth, parsing, decision, answer), storage stubbed."""
    from local.runtime import LambdaContext, load_module
    from ringbridge.storage.contacts import DynamoRouteLookup

    spec = next(spec for spec in stack.template.functions() if spec.logical_id == "RoutingFunction")
    module = load_module(spec)
    event = json.loads((spec.code_dir.parent.parent / "events" / "routing-ping.json").read_text())
    event["queryStringParameters"] = {"token": stack.secrets["WEBHOOK_TOKEN"]}
    original = DynamoRouteLookup.route_for
    DynamoRouteLookup.route_for = lambda self, phone: "bench_sip"  # type: ignore[method-assign]
    context = LambdaContext(spec.logical_id, spec.memory_mb, spec.timeout)
    try:
        module.lambda_handler(event, context)
        started = time.process_time()
        for _ in range(count):
            module.lambda_handler(event, context)
        return (time.process_time() - started) * 1000 / count
    finally:
        DynamoRouteLookup.route_for = original  # type: ignore[method-assign]
