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
    source: str | None = None
    created_at: str
    updated_at: str


class ContactUpsert(BaseModel):
    """An admin's contact seed (``PUT /admin/contacts/{phone}``)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, max_length=200)
    responsible_employee_id: str | None = Field(default=None, max_length=64)
