"""Admin use cases of the employee mapping and the contact seed, against two ports."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from ringbridge.domain.contacts import Contact, ContactUpsert
from ringbridge.domain.employees import Employee, EmployeeKeyKind, EmployeeMapping, validate_employee_id
from ringbridge.domain.errors import NotFound, UnknownEmployee
from ringbridge.domain.phones import normalize_phone


class EmployeeStore(Protocol):
    def get(self, employee_id: str) -> Employee | None: ...

    def find(self, kind: EmployeeKeyKind, value: str) -> Employee | None: ...

    def save(self, employee: Employee) -> None:
        """Write the employee and every identifier; raise Conflict if one is another's."""

    def delete(self, employee_id: str) -> bool: ...

    def list(self) -> Iterable[Employee]: ...


class ContactStore(Protocol):
    def get(self, phone: str) -> Contact | None: ...

    def upsert(self, phone: str, name: str | None, responsible_employee_id: str | None, route_to: str | None) -> Contact: ...

    def reroute_employee(self, employee_id: str, route_to: str | None) -> int:
        """Set ``route_to`` on every contact of this responsible employee; return how many."""


def save_employee(
    employee_id: str,
    mapping: EmployeeMapping,
    default_country: str,
    employees: EmployeeStore,
    contacts: ContactStore,
) -> Employee:
    employee = Employee.from_mapping(validate_employee_id(employee_id), mapping, default_country)
    employees.save(employee)
    contacts.reroute_employee(employee.employee_id, employee.routing_target)
    return employee


def delete_employee(employee_id: str, employees: EmployeeStore, contacts: ContactStore) -> None:
    if not employees.delete(employee_id):
        raise NotFound(f"employee {employee_id} is not mapped")
    contacts.reroute_employee(employee_id, None)


def seed_contact(
    raw_phone: str,
    upsert: ContactUpsert,
    default_country: str,
    employees: EmployeeStore,
    contacts: ContactStore,
) -> Contact:
    phone = normalize_phone(raw_phone, default_country)
    route_to: str | None = None
    if upsert.responsible_employee_id:
        manager = employees.get(upsert.responsible_employee_id)
        if manager is None:
            raise UnknownEmployee(f"employee {upsert.responsible_employee_id} is not mapped")
        route_to = manager.routing_target
    return contacts.upsert(phone, upsert.name, upsert.responsible_employee_id, route_to)
