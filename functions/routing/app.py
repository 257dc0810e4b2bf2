"""Routing ping (SPEC R1-R4): Ringostat's webhook number asks whom to ring.

Hot path: one DynamoDB GetItem with a short deadline; any failure falls through so a
caller never waits on us.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from ringbridge.config import settings
from ringbridge.domain.phones import mask_phone
from ringbridge.domain.routing import RoutingDecision, RoutingPing, route_ping
from ringbridge.observability import logger, metrics, publish_metrics
from ringbridge.storage.contacts import DynamoRouteLookup
from ringbridge.web import HttpResponse, error_response, json_response, new_resolver, request_payload, webhook_auth

app = new_resolver(auth=webhook_auth)


def no_target_answer() -> HttpResponse:
    """R3: the answer that makes Ringostat go on to the next direction (configurable)."""
    mode = settings().routing_no_target
    if mode == "omit":
        return json_response(200, {})
    if mode == "not_found":
        return error_response(404, "no responsible manager")
    return json_response(200, {"dst_phone": ""})


@app.post("/ringostat/routing")
def routing_ping() -> HttpResponse:
    ping = RoutingPing.model_validate(request_payload(app))
    config = settings()
    phone, decision = route_ping(
        ping, config.default_country, DynamoRouteLookup(config.contacts_table, config.routing_store_timeout_ms)
    )
    _record(phone, decision)
    if decision.target:
        return json_response(200, {"dst_phone": decision.target})
    return no_target_answer()


def _record(phone: str, decision: RoutingDecision) -> None:
    outcome = decision.fall_through.value if decision.fall_through else "routed"
    metrics.add_metric(name=f"Routing_{outcome}", unit=MetricUnit.Count, value=1)
    logger.info("routing decision", extra={"caller": mask_phone(phone), "outcome": outcome})


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        return app.resolve(event, context)
    finally:
        publish_metrics()
