"""The contact seed used by routing (R2), and what the built-in store holds about a number and a call."""

from __future__ import annotations

from urllib.parse import unquote

from ringbridge import wiring
from ringbridge.domain.contacts import ContactUpsert
from ringbridge.domain.errors import NotFound
from ringbridge.domain.phones import normalize_phone
from ringbridge.usecases import directory
from ringbridge.web import HttpResponse, json_body, json_response, new_router

router = new_router()


@router.put("/admin/contacts/<phone>")
def put_contact(phone: str) -> HttpResponse:
    upsert = ContactUpsert.model_validate(json_body(router))
    contact = directory.seed_contact(
        unquote(phone), upsert, wiring.settings().default_country, wiring.employees(), wiring.contacts()
    )
    wiring.queue_contact_push([wiring.contact_change(contact)])  # S1: caller ID in Ringostat
    return json_response(200, contact.model_dump())


@router.get("/admin/contacts/<phone>")
def get_contact(phone: str) -> HttpResponse:
    contact = wiring.contacts().get(_contact_phone(phone))
    if contact is None:
        raise NotFound("no contact with this number")
    return json_response(200, contact.model_dump())


def _contact_phone(phone: str) -> str:
    return normalize_phone(unquote(phone), wiring.settings().default_country)


@router.get("/admin/contacts/<phone>/cards")
def get_contact_cards(phone: str) -> HttpResponse:
    return json_response(200, {"cards": wiring.builtin_store().cards_of(_contact_phone(phone))})


@router.get("/admin/contacts/<phone>/tasks")
def get_contact_tasks(phone: str) -> HttpResponse:
    return json_response(200, {"tasks": wiring.builtin_store().tasks_of(_contact_phone(phone))})


@router.get("/admin/calls/<call_id>")
def get_call(call_id: str) -> HttpResponse:
    record = wiring.calls().get(unquote(call_id))
    if record is None:
        raise NotFound(f"no call {unquote(call_id)}")
    return json_response(200, record.model_dump(mode="json"))
