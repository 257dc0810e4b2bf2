"""``crm check``'s use case on a fake port: the findings, the overall ok, the settings' own problems (C3)."""

from __future__ import annotations

from collections.abc import Sequence

from ringbridge.domain.crm_check import CheckFinding
from ringbridge.domain.employees import Employee
from ringbridge.usecases.crm_check import NOTHING_TO_CHECK, check_crm

ANNA = Employee(employee_id="anna", name="Anna", crm_manager_id="1")
PIOTR = Employee(employee_id="piotr", name="Piotr", crm_manager_id="2")


class FakeCheck:
    """A CRM that answers the findings it was given and remembers whom it was asked about."""

    def __init__(self, *findings: CheckFinding) -> None:
        self._findings = list(findings)
        self.asked: list[list[str]] = []

    def findings(self, employees: Sequence[Employee]) -> list[CheckFinding]:
        self.asked.append([employee.employee_id for employee in employees])
        return list(self._findings)


def test_c3_the_builtin_store_has_nothing_to_check_and_is_ok() -> None:
    answer = check_crm("builtin", None, [ANNA]).answer()
    assert answer == {"crm": "builtin", "ok": True, "errors": 0, "warnings": 0, "findings": [], "message": NOTHING_TO_CHECK}


def test_c3_all_checks_holding_is_ok_and_every_mapped_employee_is_asked_about_in_order() -> None:
    check = FakeCheck(CheckFinding(check="funnel", ok=True, found={"FunnelId": "1"}))
    report = check_crm("keycrm", check, [PIOTR, ANNA])
    assert report.ok
    assert check.asked == [["anna", "piotr"]]
    expected = {"check": "funnel", "ok": True, "severity": "error", "found": {"FunnelId": "1"}, "fix": ""}
    assert report.answer()["findings"] == [expected]


def test_c3_a_failed_error_makes_the_check_fail_a_failed_warning_does_not() -> None:
    warning = CheckFinding(check="source", ok=False, severity="warning", fix="set the template parameter KeycrmSourceId")
    assert check_crm("keycrm", FakeCheck(warning), []).ok
    error = CheckFinding(check="funnel", ok=False, found={"FunnelId": "9"}, fix="set the template parameter FunnelId")
    answer = check_crm("keycrm", FakeCheck(warning, error), []).answer()
    assert (answer["ok"], answer["errors"], answer["warnings"]) == (False, 1, 1)
    assert answer["findings"][1]["fix"] == "set the template parameter FunnelId"


def test_c3_the_settings_own_problems_come_first_as_errors_naming_what_to_change() -> None:
    problem = "Crm=nethunt needs NethuntContactsFolderId"
    answer = check_crm("nethunt", FakeCheck(), [], problems=[problem]).answer()
    assert answer["ok"] is False
    assert answer["findings"] == [{"check": "settings", "ok": False, "severity": "error", "found": problem, "fix": problem}]
