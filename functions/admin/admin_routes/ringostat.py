"""Ringostat as the source of the employee mapping (C2): import the project's staff list."""

from __future__ import annotations

from ringbridge import wiring
from ringbridge.domain.errors import Conflict, InvalidInput
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


# Contacts read per Query page of the full push; each page becomes one queue message.
PUSH_PAGE = 100
# Stop reading pages this long before the function's deadline and answer where to go on.
PUSH_RESERVE_MS = 3000


@router.post("/admin/ringostat/push-contacts")
def push_contacts() -> HttpResponse:
    """S1: queue every contact for Ringostat's contact book (an existing base), a Query page at a time.

    A base too big for one request is answered with ``next``: call again with ``?after=<next>``.
    """
    if not wiring.settings().contact_push:
        raise Conflict("the contact push is switched off (template parameter RingostatContactPush=false)")
    query = router.current_event.query_string_parameters or {}
    after = query.get("after") or None
    if after is not None and len(after) > 512:
        raise InvalidInput("after: the 'next' of the previous answer")
    context = router.lambda_context
    contacts, queued, messages = wiring.contacts(), 0, 0
    while True:
        page, after = contacts.page(after, PUSH_PAGE)
        if page:
            messages += wiring.contact_push_queue().push([wiring.contact_change(contact) for contact in page])
            queued += len(page)
        if after is None or (context is not None and context.get_remaining_time_in_millis() < PUSH_RESERVE_MS):
            break
    logger.info("contacts queued for Ringostat", extra={"contacts": queued, "messages": messages, "more": after is not None})
    return json_response(202, {"queued": queued, "messages": messages, "next": after})
