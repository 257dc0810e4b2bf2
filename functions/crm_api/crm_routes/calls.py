"""The call history (L1-L3): listings, one call, a manager's comment."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from crm_routes import call_id_of
from ringbridge import wiring
from ringbridge.domain.call_history import parse_call_query
from ringbridge.domain.errors import NotFound
from ringbridge.observability import logger
from ringbridge.usecases.comments import comment_call
from ringbridge.web import HttpResponse, json_body, json_response, new_router, with_etag
from ringbridge.web.views import call_view, parse_if_match

MAX_COMMENT_LENGTH = 2000

router = new_router()


class CommentChange(BaseModel):
    """The body of ``PATCH /calls/{id}`` (L3): the comment, or null to clear it."""

    model_config = ConfigDict(extra="forbid")

    comment: str | None = Field(max_length=MAX_COMMENT_LENGTH)


@router.get("/calls")
def list_calls() -> HttpResponse:
    query = parse_call_query(router.current_event.query_string_parameters or {}, wiring.settings().default_country)
    records, cursor = wiring.call_history().page(query)
    return json_response(200, {"calls": [call_view(record) for record in records], "next_cursor": cursor})


@router.get("/calls/<call_id>")
def get_call(call_id: str) -> HttpResponse:
    record = wiring.calls().get(call_id_of(call_id))
    if record is None:
        raise NotFound("no call with this id")
    return with_etag(json_response(200, call_view(record)), record.version)


@router.patch("/calls/<call_id>")
def patch_call(call_id: str) -> HttpResponse:
    """L3 with optimistic concurrency: ``If-Match`` must carry the ETag the caller read."""
    identifier = call_id_of(call_id)
    expected = parse_if_match(router.current_event.headers.get("if-match"))
    change = CommentChange.model_validate(json_body(router))
    saved = comment_call(identifier, change.comment, expected, wiring.calls())
    logger.info("call commented", extra={"call_id": identifier})
    return with_etag(json_response(200, call_view(saved)), saved.version)
