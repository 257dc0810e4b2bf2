"""The configured CRM checked against the settings (``crm check``): read requests only, one finding per check."""

from __future__ import annotations

from ringbridge import wiring
from ringbridge.observability import logger
from ringbridge.web import HttpResponse, json_response, new_router

router = new_router()


@router.get("/admin/crm/check")
def check_crm() -> HttpResponse:
    """200 with ``ok`` and the findings, whatever they say: a failed check is a finding, not an HTTP error."""
    report = wiring.crm_check().answer()
    logger.info("CRM checked", extra={"crm": report["crm"], "ok": report["ok"], "errors": report["errors"]})
    return json_response(200, report)
