"""Admin use cases of the employee mapping and the contact seed, against two ports."""

from __future__ import annotations

from ringbridge.domain.contacts import Contact, ContactUpsert
from ringbridge.domain.employees import Employee, EmployeeMapping, validate_employee_id
from ringbridge.domain.errors import NotFound, UnknownEmployee
from ringbridge.domain.phones import normalize_phone
from ringbridge.domain.ports import ContactStore, EmployeeStore


def save_employee(
    employee_id: str,
    mapping: EmployeeMapping,
    default_country: str,
    employees: EmployeeStore,
    contacts: ContactStore,
) -> Employee:
    employee = Employee.from_mapping(validate_employee_id(employee_id), mapping, default_country)
    employees.save(employee)
    contacts.reroute_employee(employee.employee_id, employee.routing_target, employee.name)
    return employee


def delete_employee(employee_id: str, employees: EmployeeStore, contacts: ContactStore) -> None:
    if not employees.delete(employee_id):
        raise NotFound(f"employee {employee_id} is not mapped")
    contacts.reroute_employee(employee_id, None, None)


def seed_contact(
    raw_phone: str,
    upsert: ContactUpsert,
    default_country: str,
    employees: EmployeeStore,
    contacts: ContactStore,
) -> Contact:
    phone = normalize_phone(raw_phone, default_country)
    given = upsert.model_fields_set
    # A field left out keeps its value; an explicit null clears it (an empty body changes nothing).
    current = contacts.get(phone, consistent=True) if not {"name", "responsible_employee_id"} <= given else None
    name = upsert.name if "name" in given else (current.name if current else None)
    route_to: str | None = None
    manager_name: str | None = None
    responsible = upsert.responsible_employee_id
    if "responsible_employee_id" not in given:
        responsible = current.responsible_employee_id if current else None
        route_to = current.route_to if current else None
        manager_name = current.manager_name if current else None
    elif responsible:
        manager = employees.get(responsible)
        if manager is None:
            raise UnknownEmployee(f"employee {responsible} is not mapped")
        route_to, manager_name = manager.routing_target, manager.name
    return contacts.upsert(phone, name, responsible, manager_name, route_to)
