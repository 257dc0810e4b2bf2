"""CRM-facing API (issue 4): call history (L1-L3), caller look-up (S1, X3), contacts and cards
from the call window (X3), click-to-call (X1, X2), its OpenAPI document and a small page.

Every route takes a per-client API key (``Authorization: Bearer …`` or ``X-Api-Key``).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response, content_types
from pydantic import BaseModel, ConfigDict, Field

from ringbridge import call_window
from ringbridge.config import settings, sync_rules
from ringbridge.domain.call_history import (
    CommentChange,
    call_view,
    parse_call_query,
    parse_if_match,
)
from ringbridge.domain.contacts import Contact
from ringbridge.domain.errors import (
    InvalidInput,
    NotFound,
    PreconditionRequired,
    Unavailable,
)
from ringbridge.domain.phones import mask_phone, normalize_phone
from ringbridge.observability import logger
from ringbridge.secrets import get_secret
from ringbridge.storage.aws import client
from ringbridge.storage.builtin_crm import BuiltinCrm
from ringbridge.storage.call_history import DynamoCallHistory
from ringbridge.storage.calls import DynamoCalls
from ringbridge.storage.contacts import DynamoContacts
from ringbridge.storage.employees import DynamoEmployees
from ringbridge.web import HttpResponse, api_key_auth, error_response, json_body, json_response, new_resolver

if TYPE_CHECKING:
    from ringbridge.ringostat import RingostatClient

HERE = Path(__file__).resolve().parent
CALL_ID_PATTERN = r"^[A-Za-z0-9_.:\-]{1,128}$"
CLICK_TO_CALL_MEMORY_SECONDS = 24 * 3600

app = new_resolver(auth=api_key_auth)


# ---------------------------------------------------------------- payloads
class ContactCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    phone: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    responsible_employee_id: str | None = Field(default=None, min_length=1, max_length=64)


class CardCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    phone: str = Field(min_length=1, max_length=64)
    title: str | None = Field(default=None, min_length=1, max_length=200)
    funnel_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")
    call_id: str | None = Field(default=None, pattern=CALL_ID_PATTERN)


class OutgoingCall(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    phone: str = Field(min_length=1, max_length=64)
    employee_id: str = Field(min_length=1, max_length=64)


# ---------------------------------------------------------------- dependencies
def _calls() -> DynamoCalls:
    return DynamoCalls(settings().calls_table)


def _contacts() -> DynamoContacts:
    return DynamoContacts(settings().contacts_table)


def _employees() -> DynamoEmployees:
    return DynamoEmployees(settings().sip_mappings_table)


def _crm() -> BuiltinCrm:
    config = settings()
    return BuiltinCrm(config.contacts_table, config.cards_table, config.tasks_table, config.calls_table)


def _phone(field: str, raw: str) -> str:
    try:
        return normalize_phone(raw, settings().default_country)
    except InvalidInput as error:
        raise InvalidInput(f"invalid field '{field}': {error.reason}") from None


def _call_id(raw: str) -> str:
    call_id = unquote(raw)
    if not re.match(CALL_ID_PATTERN, call_id):
        raise InvalidInput("invalid field 'call_id': letters, digits and _.:- only, at most 128")
    return call_id


def _with_etag(response: HttpResponse, version: int) -> HttpResponse:
    response.headers["ETag"] = f'"{version}"'
    return response


def contact_view(contact: Contact) -> dict[str, Any]:
    return {
        "contact_id": contact.contact_id,
        "phone": contact.phone,
        "name": contact.name,
        "responsible_employee_id": contact.responsible_employee_id,
        "manager_name": contact.manager_name,
        "open_card_id": contact.open_card_id,
        "last_calls": contact.last_calls,
    }


# ---------------------------------------------------------------- call history (L1-L3)
@app.get("/calls")
def list_calls() -> HttpResponse:
    query = parse_call_query(app.current_event.query_string_parameters or {}, settings().default_country)
    records, cursor = DynamoCallHistory(settings().calls_table).page(query)
    return json_response(
        200, {"calls": [call_view(record) for record in records], "next_cursor": cursor.encode() if cursor else None}
    )


@app.get("/calls/<call_id>")
def get_call(call_id: str) -> HttpResponse:
    record = _calls().get(_call_id(call_id))
    if record is None:
        raise NotFound("no call with this id")
    return _with_etag(json_response(200, call_view(record)), record.version)


@app.patch("/calls/<call_id>")
def comment_call(call_id: str) -> HttpResponse:
    """L3 with optimistic concurrency: ``If-Match`` must carry the ETag the caller read."""
    identifier = _call_id(call_id)
    if_match = app.current_event.headers.get("if-match")
    if not if_match:
        raise PreconditionRequired("If-Match is required: send the ETag of GET /calls/{id}")
    expected = parse_if_match(if_match)
    change = CommentChange.model_validate(json_body(app))
    calls = _calls()
    record = calls.get(identifier)
    if record is None:
        raise NotFound("no call with this id")
    if expected is not None and expected != record.version:
        return _with_etag(error_response(412, "the call changed since you read it; read it again"), record.version)
    updated = record.model_copy(update={"comment": change.comment})
    if not calls.save(updated, record.version):
        current = calls.get(identifier)
        return _with_etag(
            error_response(412, "the call changed since you read it; read it again"), current.version if current else 0
        )
    saved = updated.model_copy(update={"version": record.version + 1})
    logger.info("call commented", extra={"call_id": identifier})
    return _with_etag(json_response(200, call_view(saved)), saved.version)


# ---------------------------------------------------------------- caller look-up (S1, X3)
@app.get("/contacts")
def find_contact() -> HttpResponse:
    """Who is this number: one GetItem (the contact item carries its open card and last calls)."""
    query = app.current_event.query_string_parameters or {}
    if "phone" not in query:
        raise InvalidInput("missing field 'phone'")
    contact = _contacts().get(_phone("phone", query["phone"]))
    if contact is None:
        raise NotFound("no contact with this number")
    return json_response(200, contact_view(contact))


@app.post("/contacts")
def create_contact() -> HttpResponse:
    """X3: create a contact from the call window; the same number again returns the existing one (200)."""
    body = ContactCreate.model_validate(json_body(app))
    phone = _phone("phone", body.phone)
    contact, created = call_window.create_contact(
        phone, body.name, body.responsible_employee_id, _contacts(), _employees(), _crm()
    )
    if created:
        logger.info("contact created", extra={"phone": mask_phone(phone)})
    return json_response(201 if created else 200, contact_view(contact))


@app.post("/cards")
def create_card() -> HttpResponse:
    """X3: open a funnel card for the number, unless it has an active one (409 with that card)."""
    body = CardCreate.model_validate(json_body(app))
    phone = _phone("phone", body.phone)
    funnel_id = body.funnel_id or sync_rules().funnel_id  # the pipeline's funnel (F1) unless named
    try:
        card = call_window.open_card(phone, body.title, funnel_id, body.call_id, _crm(), _employees())
    except call_window.ActiveCardExists as exists:
        return error_response(409, "this number already has an active card", card={"card_id": exists.card.crm_id, "active": True})
    card_id = f"card-{card.call_id}"
    logger.info("card created", extra={"phone": mask_phone(phone), "card_id": card_id})
    body_out = {
        "card_id": card_id,
        "contact_id": card.contact.crm_id,
        "title": card.title,
        "funnel_id": card.funnel_id,
        "active": True,
    }
    return json_response(201, body_out)


# ---------------------------------------------------------------- click-to-call (X1, X2)
def _ringostat() -> RingostatClient:
    from ringbridge.ringostat import RingostatClient  # requests is loaded by click-to-call only (cold start)

    config = settings()
    try:
        auth_key = get_secret(config.ringostat_auth_key_param)
        project_id = get_secret(config.ringostat_project_id_param) if config.ringostat_project_id_param else None
    except Exception as error:
        logger.exception("ringostat secrets unavailable")
        raise Unavailable("Ringostat credentials are unavailable; retry") from error
    return RingostatClient(config.ringostat_api_url, auth_key, project_id, config.ringostat_timeout_ms / 1000)


def _remember(item: dict[str, Any]) -> None:
    client("dynamodb").put_item(TableName=settings().dedup_table, Item=item)


@app.post("/calls/outgoing")
def start_outgoing_call() -> HttpResponse:
    body = OutgoingCall.model_validate(json_body(app))
    phone = _phone("phone", body.phone)
    start = call_window.start_call(
        phone,
        body.employee_id,
        settings().deep_link,
        _employees(),
        ring_manager_then_client=lambda extension, destination: _ringostat().outward_call(
            extension=extension, destination=destination
        ),
        remember=_remember,
    )
    logger.info("click-to-call", extra={"phone": mask_phone(phone), "employee_id": start.employee_id, "mode": start.mode})
    if start.mode == "deep_link":
        return json_response(
            200,
            {
                "mode": "deep_link",
                "phone": phone,
                "tel_uri": f"tel:{phone}",
                "sip_uri": f"sip:{phone.lstrip('+')}",
                "sip_account": start.sip_account,
            },
        )
    return json_response(202, {"mode": "callback", "phone": phone, "sip_account": start.sip_account, "status": "ringing_manager"})


# ---------------------------------------------------------------- the document and the page
@cache
def _asset(name: str) -> str:
    return (HERE / name).read_text(encoding="utf-8")


@app.get("/openapi.json")
def openapi_document() -> HttpResponse:
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=_asset("openapi.json"))


@app.get("/")
def page() -> HttpResponse:
    return Response(
        status_code=200,
        content_type="text/html; charset=utf-8",
        body=_asset("page.html"),
        headers={
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": (
                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                "connect-src 'self'; media-src https:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
            ),
        },
    )


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
