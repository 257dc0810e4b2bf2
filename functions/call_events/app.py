"""Call-event ingestion (L1, L2, A1): Ringostat's webhooks in, one call record, one queued sync.

Answers fast and never calls the CRM: the CRM sync worker does that from the queue.
"""

from __future__ import annotations

from typing import Any

from ringbridge import wiring
from ringbridge.observability import lambda_entry, logger
from ringbridge.ringostat.webhook import parse_call_event
from ringbridge.web import HttpResponse, json_response, new_resolver, request_payload, webhook_auth

wiring.init("call_events")
app = new_resolver(auth=webhook_auth, park=wiring.park_event)


@app.post("/ringostat/events")
def call_event() -> HttpResponse:
    config = wiring.settings()
    event = parse_call_event(request_payload(app), config.default_country, config.project_timezone)
    logger.set_correlation_id(event.call_id)
    result = wiring.accept_event(event)
    logger.info("call event accepted", extra={"moment": event.moment.value, "changed": result.get("changed")})
    return json_response(200, {"call_id": event.call_id, "status": "accepted"})


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
