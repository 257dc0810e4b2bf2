"""The employee mapping (C2): one employee, their identifiers, the contacts routed to them."""

from __future__ import annotations

from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response

from ringbridge import wiring
from ringbridge.domain.employees import EmployeeKeyKind, EmployeeMapping
from ringbridge.domain.errors import InvalidInput, NotFound
from ringbridge.domain.phones import normalize_phone
from ringbridge.observability import logger
from ringbridge.usecases import directory
from ringbridge.web import HttpResponse, json_body, json_response, new_router

router = new_router()


@router.put("/admin/employees/<employee_id>")
def put_employee(employee_id: str) -> HttpResponse:
    mapping = EmployeeMapping.model_validate(json_body(router))
    employee = directory.save_employee(
        unquote(employee_id), mapping, wiring.settings().default_country, wiring.employees(), wiring.contacts()
    )
    logger.info("employee mapped", extra={"employee_id": employee.employee_id})
    return json_response(200, employee.model_dump())


@router.get("/admin/employees/<employee_id>")
def get_employee(employee_id: str) -> HttpResponse:
    employee = wiring.employees().get(unquote(employee_id))
    if employee is None:
        raise NotFound(f"employee {unquote(employee_id)} is not mapped")
    return json_response(200, employee.model_dump())


@router.delete("/admin/employees/<employee_id>")
def delete_employee(employee_id: str) -> HttpResponse:
    directory.delete_employee(unquote(employee_id), wiring.employees(), wiring.contacts())
    return Response(status_code=204)


@router.get("/admin/employees")
def list_or_find_employees() -> HttpResponse:
    """All employees, or the one holding an identifier: ``?sip=101``, ``?fmc=…``, ``?ringostat=…``, ``?crm=…``."""
    query = router.current_event.query_string_parameters or {}
    for kind in (EmployeeKeyKind.SIP, EmployeeKeyKind.FMC, EmployeeKeyKind.RINGOSTAT, EmployeeKeyKind.CRM_MANAGER):
        if kind.value in query:
            value = query[kind.value]
            if kind is EmployeeKeyKind.FMC:
                value = normalize_phone(value, wiring.settings().default_country)
            employee = wiring.employees().find(kind, value)
            return json_response(200, {"employees": [employee.model_dump()] if employee else []})
    if query:
        raise InvalidInput("filter by one of: sip, fmc, ringostat, crm")
    return json_response(200, {"employees": [employee.model_dump() for employee in wiring.employees().list()]})
