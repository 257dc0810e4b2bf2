"""Declared in template.yaml; its behaviour is built by a later issue.

Until then it authenticates like its siblings and answers 501, so Ringostat (or a CRM)
sees plainly that the route is not live yet instead of a silent success.
"""

from __future__ import annotations

from typing import Any

from ringbridge.web import HttpResponse, error_response, new_resolver, webhook_auth

app = new_resolver(auth=webhook_auth)


@app.route(".+", method=["GET", "POST", "PATCH", "PUT", "DELETE"])
def not_built_yet() -> HttpResponse:
    return error_response(501, "not implemented yet")


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
