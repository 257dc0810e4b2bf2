"""Ringostat as the source of the employee mapping (C2): import the project's staff list."""

from __future__ import annotations

from ringbridge import wiring
from ringbridge.observability import logger
from ringbridge.usecases.ringostat_staff import import_staff
from ringbridge.web import HttpResponse, json_response, new_router

router = new_router()


@router.post("/admin/ringostat/import-employees")
def import_employees() -> HttpResponse:
    """Create or update one mapping per Ringostat employee; an existing mapping keeps its CRM manager."""
    report = import_staff(wiring.ringostat(), wiring.settings().default_country, wiring.employees(), wiring.contacts())
    logger.info(
        "ringostat staff imported",
        extra={"staff_read": report.read, "staff_created": len(report.created), "staff_updated": len(report.updated)},
    )
    return json_response(200, report.answer())
