"""SPEC C2 (employee mapping) and R4 (FMC numbers are never routing targets)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ringbridge.domain.employees import Employee, EmployeeKeyKind, EmployeeMapping, employee_key
from ringbridge.domain.phones import InvalidPhoneNumber


def mapping(**overrides: object) -> EmployeeMapping:
    values: dict[str, object] = {
        "name": "Anna Nowak",
        "crm_manager_id": "17",
        "ringostat_employee_id": "111111",
        "sip_accounts": ["company_anna", "sip:101"],
        "fmc_number": "601 234 567",
    }
    values.update(overrides)
    return EmployeeMapping.model_validate(values)


def test_c2_every_identifier_is_a_key() -> None:
    employee = Employee.from_mapping("anna", mapping(), "PL")
    assert employee.fmc_number == "+48601234567"
    assert employee.identifier_keys() == [
        "employee#anna",
        "crm#17",
        "ringostat#111111",
        "sip#company_anna",
        "sip#101",
        "fmc#+48601234567",
    ]
    assert employee_key(EmployeeKeyKind.SIP, "Company_Anna") == "sip#company_anna"


def test_r2_routing_target_is_the_first_sip_account() -> None:
    assert Employee.from_mapping("anna", mapping(), "PL").routing_target == "company_anna"


def test_r4_fmc_only_manager_is_not_a_target() -> None:
    employee = Employee.from_mapping("piotr", mapping(sip_accounts=[]), "PL")
    assert employee.fmc_number == "+48601234567"
    assert employee.routing_target is None


def test_c2_mobile_number_is_refused_as_sip_account() -> None:
    with pytest.raises(ValidationError, match="fmc_number"):
        mapping(sip_accounts=["+48601234567"])


def test_c2_impossible_fmc_number_is_refused() -> None:
    with pytest.raises(InvalidPhoneNumber):
        Employee.from_mapping("anna", mapping(fmc_number="+48 000"), "PL")


def test_c2_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError, match="extra"):
        mapping(password="x")


def test_duplicate_sip_accounts_collapse() -> None:
    assert mapping(sip_accounts=["101", "sip:101", " 101 "]).sip_accounts == ["101"]


class CountingDirectory:
    """An employee directory that counts how often it is asked."""

    def __init__(self, employee: Employee) -> None:
        self.employee, self.asked = employee, 0

    def get(self, employee_id: str) -> Employee | None:
        self.asked += 1
        return self.employee if employee_id == self.employee.employee_id else None

    def find(self, kind: EmployeeKeyKind, value: str) -> Employee | None:
        self.asked += 1
        return self.employee if employee_key(kind, value) in self.employee.identifier_keys() else None


def test_c2_the_worker_remembers_a_look_up_for_its_ttl_then_asks_again() -> None:
    from ringbridge.storage.employees import RecentEmployees

    now = [0.0]
    directory = CountingDirectory(Employee.from_mapping("anna", mapping(), "PL"))
    recent = RecentEmployees(directory, ttl_seconds=60, clock=lambda: now[0], limit=3)
    assert recent.find(EmployeeKeyKind.SIP, "company_anna") is not None
    assert recent.find(EmployeeKeyKind.SIP, "company_anna") is not None
    assert recent.find(EmployeeKeyKind.SIP, "nobody") is None
    assert recent.find(EmployeeKeyKind.SIP, "nobody") is None  # nobody found is remembered too
    assert directory.asked == 2
    now[0] = 60.0  # the TTL is over: a remapped SIP account is seen now
    assert recent.find(EmployeeKeyKind.SIP, "company_anna") is not None
    assert directory.asked == 3
    assert recent.get("anna") is not None and recent.get("piotr") is None  # the bound (3) drops the memory whole
    assert recent.find(EmployeeKeyKind.SIP, "company_anna") is not None
    assert directory.asked == 6
