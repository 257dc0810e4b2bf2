"""CRM-facing API: call history (L1-L3), caller look-up (S1, X3), contacts and cards from the
call window (X3), click-to-call (X1, X2), its OpenAPI document and a small page.

Every route takes a per-client API key (``Authorization: Bearer …`` or ``X-Api-Key``).
The routes live in ``crm_routes/``, one Router per resource.
"""

from __future__ import annotations

from typing import Any

from crm_routes import assets, calls, cards, contacts, outgoing, stats, tasks

from ringbridge import wiring
from ringbridge.observability import lambda_entry
from ringbridge.web import new_resolver

wiring.init("crm_api")
app = new_resolver(auth=assets.page_or_api_key_auth)
for routes in (calls, contacts, cards, tasks, stats, outgoing, assets):
    app.include_router(routes.router)


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
