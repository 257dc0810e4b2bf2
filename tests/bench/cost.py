"""A cost estimate per 1 million calls, from the counts and times this run measured.

Prices: AWS us-east-1 list prices (checked 2026-11): HTTP API $1.00 per million requests;
Lambda arm64 $0.0000133334 per GB-s and $0.20 per million requests; DynamoDB on-demand
$0.625 per million write request units and $0.125 per million read request units; SQS
standard $0.40 per million requests. Model of one call: one routing ping, two call events
(e.g. "call taken" and "after call"), each synced once by the worker in batches of one
(the worst case); each DynamoDB call counted as one unit (items under 1 KB written,
4 KB read); SQS: one send, one receive and one delete per event.
"""

from __future__ import annotations

from typing import Any

from local.template import load_template

CALLS = 1_000_000
EVENTS_PER_CALL = 2
HTTP_API_PER_MILLION = 1.00
LAMBDA_GB_SECOND = 0.0000133334
LAMBDA_PER_MILLION = 0.20
DYNAMODB_WRITE_PER_MILLION = 0.625
DYNAMODB_READ_PER_MILLION = 0.125
SQS_PER_MILLION = 0.40
SQS_REQUESTS_PER_EVENT = 3


def _memory_gb(function: str) -> float:
    spec = next(spec for spec in load_template().functions() if spec.logical_id == function)
    return spec.memory_mb / 1024


def estimate(routing: dict[str, Any], worker: dict[str, Any]) -> dict[str, float]:
    events = CALLS * EVENTS_PER_CALL
    http_requests = CALLS + events
    # Billed durations: the local stack's p50 per request (moto is slower than DynamoDB, so this errs high).
    gb_seconds = (
        CALLS * routing["p50_ms"] / 1000 * _memory_gb("RoutingFunction")
        + events * worker["ack_ms_p50"] / 1000 * _memory_gb("CallEventsFunction")
        + events * worker["worker_ms_per_event"] / 1000 * _memory_gb("CrmSyncFunction")
    )
    invocations = CALLS + events + events
    reads = CALLS * routing["dynamodb_reads_per_ping"] + events * (
        worker["ack_dynamodb_reads_per_event"] + worker["worker_dynamodb_reads_per_event"]
    )
    writes = CALLS * routing["dynamodb_writes_per_ping"] + events * (
        worker["ack_dynamodb_writes_per_event"] + worker["worker_dynamodb_writes_per_event"]
    )
    costs = {
        "usd_http_api": http_requests / 1e6 * HTTP_API_PER_MILLION,
        "usd_lambda": gb_seconds * LAMBDA_GB_SECOND + invocations / 1e6 * LAMBDA_PER_MILLION,
        "usd_dynamodb": reads / 1e6 * DYNAMODB_READ_PER_MILLION + writes / 1e6 * DYNAMODB_WRITE_PER_MILLION,
        "usd_sqs": events * SQS_REQUESTS_PER_EVENT / 1e6 * SQS_PER_MILLION,
    }
    costs["usd_total_per_million_calls"] = sum(costs.values())
    return costs
