"""Caller look-up (S1, X3), contacts created from the call window (X3), listed, renamed or handed over."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from crm_routes import phone_field, record_id_of
from ringbridge import wiring
from ringbridge.domain.contacts import ContactUpsert
from ringbridge.domain.crm_lists import parse_contact_query
from ringbridge.domain.errors import InvalidInput, NotFound
from ringbridge.domain.phones import mask_phone
from ringbridge.observability import logger
from ringbridge.usecases import call_window, directory
from ringbridge.web import HttpResponse, json_body, json_response, new_router
from ringbridge.web.views import contact_list_view, contact_view

router = new_router()


class ContactCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    phone: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    responsible_employee_id: str | None = Field(default=None, min_length=1, max_length=64)


@router.get("/contacts")
def find_contact() -> HttpResponse:
    """Who is this number: one GetItem (the contact item carries its open card and last calls).

    Without ``phone``: a page of contacts by name (``q``: a name or number prefix; ``manager``).
    """
    query = router.current_event.query_string_parameters or {}
    if "phone" not in query:
        items, cursor = wiring.builtin_store().list_contacts(parse_contact_query(query))
        return json_response(200, {"contacts": [contact_list_view(item) for item in items], "next_cursor": cursor})
    if set(query) != {"phone"}:
        raise InvalidInput(f"invalid field '{sorted(set(query) - {'phone'})[0][:40]}': with 'phone' nothing else")
    contact = wiring.contacts().get(phone_field("phone", query["phone"]))
    if contact is None:
        raise NotFound("no contact with this number")
    return json_response(200, contact_view(contact))


@router.post("/contacts")
def create_contact() -> HttpResponse:
    """X3: create a contact from the call window; the same number again returns the existing one (200)."""
    body = ContactCreate.model_validate(json_body(router))
    phone = phone_field("phone", body.phone)
    contact, created = call_window.create_contact(
        phone,
        body.name,
        body.responsible_employee_id,
        wiring.contacts(),
        wiring.employees(),
        wiring.builtin_store(),
        wiring.ledger(),
    )
    if created:
        logger.info("contact created", extra={"phone": mask_phone(phone)})
        wiring.queue_contact_push([wiring.contact_change(contact)])  # S1: caller ID in Ringostat
    return json_response(201 if created else 200, contact_view(contact))


@router.patch("/contacts/<contact_id>")
def change_contact(contact_id: str) -> HttpResponse:
    """A new name and/or responsible manager; the routing (``route_to``, ``manager_name``) follows at once (R2)."""
    identifier = record_id_of("contact_id", contact_id)
    change = ContactUpsert.model_validate(json_body(router))
    phone = wiring.builtin_store().phone_of_contact(identifier)
    if phone is None:
        raise NotFound("no contact with this id")
    settings = wiring.settings()
    contact = directory.seed_contact(phone, change, settings.default_country, wiring.employees(), wiring.contacts())
    logger.info("contact changed", extra={"phone": mask_phone(phone), "fields": sorted(change.model_fields_set)})
    return json_response(200, contact_view(contact))
