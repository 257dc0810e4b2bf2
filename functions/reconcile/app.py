"""Reconciliation (L1): Ringostat's call log fills in calls whose webhooks never arrived.

Two triggers: ``POST /admin/ringostat/reconcile`` with ``{"from": …, "to": …}`` (ISO 8601
with a zone; the admin token), and a schedule that reads the last ``RECONCILE_PERIOD_MINUTES``
plus ``RECONCILE_OVERLAP_MINUTES`` (so a call still going on at one run is read finished by the next).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ringbridge import wiring
from ringbridge.domain.clock import utc_now
from ringbridge.domain.errors import InvalidInput
from ringbridge.observability import lambda_entry
from ringbridge.usecases.reconcile import Reconciled, parse_moment
from ringbridge.web import HttpResponse, admin_auth, json_body, json_response, new_resolver

wiring.init("reconcile")
app = new_resolver(auth=admin_auth)


@app.post("/admin/ringostat/reconcile")
def reconcile_window() -> HttpResponse:
    body = json_body(app)
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object with 'from' and 'to'")
    start, end = parse_moment("from", body.get("from")), parse_moment("to", body.get("to"))
    outcome = wiring.reconcile(start, end)
    return json_response(200, outcome.answer())


def _scheduled() -> Reconciled:
    config = wiring.settings()
    end = utc_now()
    start = end - timedelta(minutes=config.reconcile_period_minutes + config.reconcile_overlap_minutes)
    return wiring.reconcile(start, end)


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("source") == "aws.events" or "detail-type" in event:
        return _scheduled().answer()
    return app.resolve(event, context)
