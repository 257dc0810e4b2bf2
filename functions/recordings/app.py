"""Recording links (L4): attach a link to its call record, whichever arrives first.

Ringostat may send the link with the after-call event or on its own; a link for a call
not seen yet makes a placeholder record that the call's events later fill in.
"""

from __future__ import annotations

from typing import Any

from ringbridge import wiring
from ringbridge.domain.calls import Moment
from ringbridge.observability import lambda_entry, logger
from ringbridge.ringostat.webhook import parse_call_event
from ringbridge.web import HttpResponse, json_response, new_resolver, request_payload, webhook_auth

wiring.init("recordings")
app = new_resolver(auth=webhook_auth, park=wiring.park_event)


@app.post("/ringostat/recordings")
def recording_link() -> HttpResponse:
    config = wiring.settings()
    event = parse_call_event(request_payload(app), config.default_country, config.project_timezone, moment=Moment.RECORDING)
    logger.set_correlation_id(event.call_id)
    wiring.accept_event(event)
    logger.info("recording link stored")
    return json_response(200, {"call_id": event.call_id, "status": "accepted"})


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
