"""Admin routes: the employee mapping (C2), the contact seed used by routing, the CRM API's keys."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response

from ringbridge.config import settings
from ringbridge.domain import directory
from ringbridge.domain.contacts import ContactUpsert
from ringbridge.domain.employees import EmployeeKeyKind, EmployeeMapping
from ringbridge.domain.errors import InvalidInput, NotFound
from ringbridge.domain.phones import normalize_phone
from ringbridge.observability import logger
from ringbridge.storage.api_clients import ApiClientCreate, DynamoApiClients
from ringbridge.storage.builtin_crm import BuiltinCrm
from ringbridge.storage.calls import DynamoCalls
from ringbridge.storage.contacts import DynamoContacts
from ringbridge.storage.employees import DynamoEmployees
from ringbridge.web import HttpResponse, admin_auth, forget_api_keys, json_body, json_response, new_resolver

app = new_resolver(auth=admin_auth)


def _employees() -> DynamoEmployees:
    return DynamoEmployees(settings().sip_mappings_table)


def _contacts() -> DynamoContacts:
    return DynamoContacts(settings().contacts_table)


@app.put("/admin/employees/<employee_id>")
def put_employee(employee_id: str) -> HttpResponse:
    mapping = EmployeeMapping.model_validate(json_body(app))
    employee = directory.save_employee(unquote(employee_id), mapping, settings().default_country, _employees(), _contacts())
    logger.info("employee mapped", extra={"employee_id": employee.employee_id})
    return json_response(200, employee.model_dump())


@app.get("/admin/employees/<employee_id>")
def get_employee(employee_id: str) -> HttpResponse:
    employee = _employees().get(unquote(employee_id))
    if employee is None:
        raise NotFound(f"employee {unquote(employee_id)} is not mapped")
    return json_response(200, employee.model_dump())


@app.delete("/admin/employees/<employee_id>")
def delete_employee(employee_id: str) -> HttpResponse:
    directory.delete_employee(unquote(employee_id), _employees(), _contacts())
    return Response(status_code=204)


@app.get("/admin/employees")
def list_or_find_employees() -> HttpResponse:
    """All employees, or the one holding an identifier: ``?sip=101``, ``?fmc=…``, ``?ringostat=…``, ``?crm=…``."""
    query = app.current_event.query_string_parameters or {}
    for kind in (EmployeeKeyKind.SIP, EmployeeKeyKind.FMC, EmployeeKeyKind.RINGOSTAT, EmployeeKeyKind.CRM_MANAGER):
        if kind.value in query:
            value = query[kind.value]
            if kind is EmployeeKeyKind.FMC:
                value = normalize_phone(value, settings().default_country)
            employee = _employees().find(kind, value)
            return json_response(200, {"employees": [employee.model_dump()] if employee else []})
    if query:
        raise InvalidInput("filter by one of: sip, fmc, ringostat, crm")
    return json_response(200, {"employees": [employee.model_dump() for employee in _employees().list()]})


@app.put("/admin/contacts/<phone>")
def put_contact(phone: str) -> HttpResponse:
    upsert = ContactUpsert.model_validate(json_body(app))
    contact = directory.seed_contact(unquote(phone), upsert, settings().default_country, _employees(), _contacts())
    return json_response(200, contact.model_dump())


@app.get("/admin/contacts/<phone>")
def get_contact(phone: str) -> HttpResponse:
    contact = _contacts().get(_contact_phone(phone))
    if contact is None:
        raise NotFound("no contact with this number")
    return json_response(200, contact.model_dump())


def _contact_phone(phone: str) -> str:
    return normalize_phone(unquote(phone), settings().default_country)


def _builtin_crm() -> BuiltinCrm:
    config = settings()
    return BuiltinCrm(config.contacts_table, config.cards_table, config.tasks_table, config.calls_table)


@app.get("/admin/contacts/<phone>/cards")
def get_contact_cards(phone: str) -> HttpResponse:
    return json_response(200, {"cards": _builtin_crm().cards_of(_contact_phone(phone))})


@app.get("/admin/contacts/<phone>/tasks")
def get_contact_tasks(phone: str) -> HttpResponse:
    return json_response(200, {"tasks": _builtin_crm().tasks_of(_contact_phone(phone))})


@app.get("/admin/calls/<call_id>")
def get_call(call_id: str) -> HttpResponse:
    record = DynamoCalls(settings().calls_table).get(unquote(call_id))
    if record is None:
        raise NotFound(f"no call {unquote(call_id)}")
    return json_response(200, record.model_dump(mode="json"))


@app.post("/admin/api-clients")
def create_api_client() -> HttpResponse:
    """A new key for a CRM-facing API client: shown once here, only its sha256 is stored."""
    request = ApiClientCreate.model_validate(json_body(app))
    created = DynamoApiClients(settings().api_clients_table).create(request.name)
    logger.info("api client created", extra={"api_client": created.name, "key_id": created.key_id[:12]})
    return json_response(201, created.model_dump())


@app.delete("/admin/api-clients/<key_id>")
def delete_api_client(key_id: str) -> HttpResponse:
    """Revoke a key (warm containers may accept it for up to API_KEY_CACHE_SECONDS more)."""
    if not re.fullmatch(r"[0-9a-f]{64}", key_id):
        raise InvalidInput("invalid field 'key_id': the 64 hex digits returned when the key was created")
    if not DynamoApiClients(settings().api_clients_table).delete(key_id):
        raise NotFound("no API client with this key id")
    forget_api_keys()
    return Response(status_code=204)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
