"""C2: employees from Ringostat's staff list, mapped without typing them twice.

Each staff member becomes (or updates) one employee mapping: the Ringostat employee id,
the name, the SIP accounts and the first mobile (FMC) number. A mapping found by its
Ringostat id - or, the first time, by one of its SIP accounts or its FMC number (an admin
mapped the employee by hand before) - keeps its employee id and its ``crm_manager_id``;
anyone else gets ``ringostat-<staff id>``. Whatever Ringostat does not say (no SIP account,
no number) the existing mapping keeps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import ValidationError

from ringbridge.domain.employees import Employee, EmployeeKeyKind, EmployeeMapping, StaffMember
from ringbridge.domain.errors import DomainError
from ringbridge.domain.phones import looks_like_sip_login, normalize_phone
from ringbridge.domain.ports import ContactStore, EmployeeStore, StaffSource
from ringbridge.usecases.directory import save_employee

NEW_EMPLOYEE_PREFIX = "ringostat-"


@dataclass
class StaffImport:
    read: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def answer(self) -> dict[str, object]:
        return {
            "read": self.read,
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "refused": len(self.refused),
            "employees": {"created": self.created, "updated": self.updated, "unchanged": self.unchanged},
            "errors": self.refused,
        }


def _mobile(member: StaffMember, default_country: str) -> str | None:
    for raw in member.numbers:
        try:
            return normalize_phone(raw, default_country)
        except DomainError:
            continue
    return None


def _existing(member: StaffMember, fmc: str | None, employees: EmployeeStore) -> Employee | None:
    found = employees.find(EmployeeKeyKind.RINGOSTAT, member.staff_id)
    for account in member.sip_accounts:
        found = found or employees.find(EmployeeKeyKind.SIP, account)
    if found is None and fmc:
        found = employees.find(EmployeeKeyKind.FMC, fmc)
    return found


def import_staff(source: StaffSource, default_country: str, employees: EmployeeStore, contacts: ContactStore) -> StaffImport:
    report = StaffImport()
    for member in source.staff_list():
        report.read += 1
        fmc = _mobile(member, default_country)
        sip = [account for account in member.sip_accounts if looks_like_sip_login(account)]
        current = _existing(member, fmc, employees)
        employee_id = current.employee_id if current else f"{NEW_EMPLOYEE_PREFIX}{member.staff_id}"
        try:
            mapping = EmployeeMapping(
                name=member.name,
                crm_manager_id=current.crm_manager_id if current else None,
                ringostat_employee_id=member.staff_id,
                sip_accounts=sip or (current.sip_accounts if current else []),
                fmc_number=fmc or (current.fmc_number if current else None),
            )
            wanted = Employee.from_mapping(employee_id, mapping, default_country)
            if current is not None and wanted.model_dump() == current.model_dump():
                report.unchanged.append(employee_id)
                continue
            save_employee(employee_id, mapping, default_country, employees, contacts)
        except ValidationError as error:
            first = error.errors()[0]
            report.refused.append(f"staff {member.staff_id}: {'.'.join(map(str, first['loc']))}: {first['msg']}")
            continue
        except DomainError as error:
            report.refused.append(f"staff {member.staff_id}: {error.reason}")
            continue
        (report.updated if current else report.created).append(employee_id)
    return report
