"""Contacts: a client known by one E.164 number (P1), possibly with a responsible manager."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Contact(BaseModel):
    """A contact of the built-in store.

    ``route_to`` is the responsible manager's SIP account, copied here so that the routing
    ping answers from this one item (one read on the hot path). It is kept in step by the
    employee mapping: changing or deleting an employee rewrites it on their contacts.
    """

    model_config = ConfigDict(extra="ignore")

    phone: str
    contact_id: str
    name: str | None = None
    responsible_employee_id: str | None = None
    route_to: str | None = None
    manager_name: str | None = None
    source: str | None = None
    utm: dict[str, str] = Field(default_factory=dict)
    keyword: str | None = None
    open_card_id: str | None = None
    # With KeyCRM or NetHunt: the CRM's id of this contact (the item is a projection of it, R2).
    crm_contact_id: str | None = None
    # The last few calls, newest first (call_id, started_at, direction, status): caller look-up reads one item.
    last_calls: list[dict[str, str]] = Field(default_factory=list)
    created_by_call: str | None = None
    created_at: str
    updated_at: str


class ContactUpsert(BaseModel):
    """An admin's contact seed (``PUT /admin/contacts/{phone}``)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, max_length=200)
    responsible_employee_id: str | None = Field(default=None, max_length=64)
