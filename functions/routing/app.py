"""Routing ping (R1-R4): Ringostat's webhook number asks whom to ring.

Hot path: one DynamoDB GetItem with a short deadline; any failure falls through so a
caller never waits on us.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from ringbridge import wiring
from ringbridge.domain.phones import mask_phone
from ringbridge.domain.routing import RoutingDecision, RoutingPing, route_ping
from ringbridge.observability import lambda_entry, logger, metrics
from ringbridge.web import HttpResponse, error_response, json_response, new_resolver, request_payload, webhook_auth

wiring.init("routing")
app = new_resolver(auth=webhook_auth)


def no_target_answer() -> HttpResponse:
    """R3: the answer that makes Ringostat go on to the next direction (configurable)."""
    mode = wiring.settings().routing_no_target
    if mode == "omit":
        return json_response(200, {})
    if mode == "not_found":
        return error_response(404, "no responsible manager")
    return json_response(200, {"dst_phone": ""})


@app.post("/ringostat/routing")
def routing_ping() -> HttpResponse:
    ping = RoutingPing.model_validate(request_payload(app))
    phone, decision = route_ping(ping, wiring.settings().default_country, wiring.route_lookup())
    _record(phone, decision)
    if decision.target:
        return json_response(200, {"dst_phone": decision.target})
    return no_target_answer()


def _record(phone: str, decision: RoutingDecision) -> None:
    outcome = decision.fall_through.value if decision.fall_through else "routed"
    metrics.add_metric(name=f"Routing_{outcome}", unit=MetricUnit.Count, value=1)
    logger.info("routing decision", extra={"caller": mask_phone(phone), "outcome": outcome})


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
