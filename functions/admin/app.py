"""Admin routes: the employee mapping (C2), the contact seed used by routing, the CRM API's keys, the CRM check.

Every route takes the admin token (``Authorization: Bearer …``). The routes live in
``admin_routes/``, one Router per resource.
"""

from __future__ import annotations

from typing import Any

from admin_routes import api_clients, contacts, crm, employees, ringostat

from ringbridge import wiring
from ringbridge.observability import lambda_entry
from ringbridge.web import admin_auth, new_resolver

wiring.init("admin")
app = new_resolver(auth=admin_auth)
for routes in (employees, contacts, api_clients, ringostat, crm):
    app.include_router(routes.router)


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
