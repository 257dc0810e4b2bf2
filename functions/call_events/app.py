"""Call-event ingestion (SPEC L1, L2, A1): Ringostat's webhooks in, one call record, one queued sync.

Answers fast and never calls the CRM: the CRM sync worker does that from the queue.
"""

from __future__ import annotations

from typing import Any

from ringbridge import pipeline
from ringbridge.config import settings
from ringbridge.domain.calls import parse_call_event
from ringbridge.observability import logger
from ringbridge.web import HttpResponse, json_response, new_resolver, request_payload, webhook_auth

app = new_resolver(auth=webhook_auth)


@app.post("/ringostat/events")
def call_event() -> HttpResponse:
    config = settings()
    event = parse_call_event(request_payload(app), config.default_country, config.project_timezone)
    result = pipeline.accept_event(event, app.lambda_context)
    logger.info(
        "call event accepted", extra={"call_id": event.call_id, "moment": event.moment.value, "changed": result["changed"]}
    )
    return json_response(200, {"call_id": event.call_id, "status": "accepted"})


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
