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
