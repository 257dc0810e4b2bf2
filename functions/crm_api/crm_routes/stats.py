"""Call statistics (``GET /stats``) and what the page needs to know of the installation (``GET /config``)."""

from __future__ import annotations

from ringbridge import wiring
from ringbridge.domain.crm_lists import parse_stats_range
from ringbridge.usecases.stats import call_stats
from ringbridge.web import HttpResponse, json_response, new_router

router = new_router()


@router.get("/stats")
def stats() -> HttpResponse:
    """Per manager and in total over ``from``..``to`` (at most 31 days): one Query per day on ``by_day``."""
    start, end = parse_stats_range(router.current_event.query_string_parameters or {})
    settings = wiring.settings()
    return json_response(200, call_stats(start, end, wiring.call_history(), settings.rules.callback_close_min_talk_seconds))


@router.get("/config")
def config() -> HttpResponse:
    """The time zone the page shows times in (``ProjectTimezone``) and which CRM receives the writes."""
    settings = wiring.settings()
    return json_response(200, {"timezone": settings.project_timezone, "crm": settings.crm})
