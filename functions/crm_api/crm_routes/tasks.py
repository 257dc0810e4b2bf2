"""Call-back tasks of the built-in store (T1): listed by number, manager, status or due date, and marked done."""

from __future__ import annotations

from crm_routes import record_id_of
from ringbridge import wiring
from ringbridge.domain.crm_lists import TaskChange, parse_task_query
from ringbridge.observability import logger
from ringbridge.usecases import lifecycle
from ringbridge.web import HttpResponse, json_body, json_response, new_router, with_etag
from ringbridge.web.views import parse_if_match, task_view

router = new_router()


@router.get("/tasks")
def list_tasks() -> HttpResponse:
    """By number (newest first), else by status, soonest due first; Queries only (see storage/builtin_records.py)."""
    query = parse_task_query(router.current_event.query_string_parameters or {}, wiring.settings().default_country)
    tasks, cursor = wiring.builtin_store().list_tasks(query)
    return json_response(200, {"tasks": [task_view(task) for task in tasks], "next_cursor": cursor})


@router.patch("/tasks/<task_id>")
def patch_task(task_id: str) -> HttpResponse:
    """``{"status": "done"}`` over the version read (``If-Match``): the number's open-task pointer is released."""
    identifier = record_id_of("task_id", task_id)
    expected = parse_if_match(router.current_event.headers.get("if-match"), "the task (its version)")
    TaskChange.model_validate(json_body(router))
    task = lifecycle.finish_task(identifier, expected, wiring.builtin_store())
    logger.info("task changed", extra={"task_id": identifier, "status": task.get("status")})
    return with_etag(json_response(200, task_view(task)), int(task.get("version", 0)))
