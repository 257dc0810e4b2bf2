"""The CRM's contacts into routing (R2 with KeyCRM or NetHunt): the CRM is the source of truth.

Two triggers: ``POST /admin/crm/sync-contacts`` (the admin token; ``{"full": true}`` reads
every contact of the CRM, for the customers who were there before ringbridge), and a
schedule every ``CRM_CONTACT_PULL_MINUTES`` that reads the contacts changed since the last
run. Both answer how many contacts were read and how many routing items changed; a run
that ran out of time says ``"done": false`` and the next one goes on where it stopped.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from ringbridge import wiring
from ringbridge.domain.errors import InvalidInput
from ringbridge.observability import lambda_entry, logger
from ringbridge.web import HttpResponse, admin_auth, json_body, json_response, new_resolver

wiring.init("crm_contacts")
app = new_resolver(auth=admin_auth)

# An HTTP API waits 30 s for an answer; a scheduled run has the function's whole timeout.
HTTP_BUDGET_SECONDS = 20.0
SCHEDULE_MARGIN_SECONDS = 30.0


def _pull(full: bool, budget_seconds: float) -> dict[str, Any]:
    deadline = time.monotonic() + budget_seconds
    outcome = wiring.pull_crm_contacts(full, owner=uuid.uuid4().hex, out_of_time=lambda: time.monotonic() > deadline)
    if outcome is None:
        return {"read": 0, "changed": 0, "pages": 0, "done": True, "truncated": False, "full": full, "crm": "builtin"}
    answer = {**outcome.answer(), "crm": wiring.settings().crm}
    logger.info("CRM contacts pulled", extra={"counts": answer})
    return answer


@app.post("/admin/crm/sync-contacts")
def sync_contacts() -> HttpResponse:
    body = json_body(app)
    full = body.get("full", False)
    if not isinstance(full, bool) or set(body) - {"full"}:
        raise InvalidInput('the body is {} or {"full": true}')
    return json_response(200, _pull(full, HTTP_BUDGET_SECONDS))


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("source") == "aws.events" or "detail-type" in event:
        remaining = context.get_remaining_time_in_millis() / 1000 if context is not None else 60.0
        return _pull(False, max(1.0, remaining - SCHEDULE_MARGIN_SECONDS))
    return app.resolve(event, context)
