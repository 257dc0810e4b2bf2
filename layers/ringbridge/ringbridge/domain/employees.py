"""Employee mapping (SPEC C2): one CRM manager, one Ringostat employee, their lines.

A call names its employee by whichever identifier Ringostat had at hand: the Ringostat
employee id, a SIP account or an FMC number (a mobile used as the employee's line).
Each identifier is an :class:`EmployeeKey`, so any of them finds the employee in one read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ringbridge.domain.phones import looks_like_sip_login, normalize_phone

_EMPLOYEE_ID = r"^[A-Za-z0-9_.@:-]{1,64}$"
_SIP_ACCOUNT = re.compile(r"^[^\s\"<>]{1,128}$")


class EmployeeKeyKind(StrEnum):
    """The identifiers by which a call or an admin can name an employee."""

    EMPLOYEE = "employee"
    CRM_MANAGER = "crm"
    RINGOSTAT = "ringostat"
    SIP = "sip"
    FMC = "fmc"


def employee_key(kind: EmployeeKeyKind, value: str) -> str:
    """The storage key of one identifier, e.g. ``sip#101``. SIP logins are case-blind."""
    normalized = value.strip().lower() if kind is EmployeeKeyKind.SIP else value.strip()
    return f"{kind.value}#{normalized}"


def normalize_sip_account(raw: str) -> str:
    value = raw.strip()
    if value.lower().startswith("sip:"):
        value = value[4:]
    return value


class EmployeeMapping(BaseModel):
    """What an admin enters for one employee (the body of ``PUT /admin/employees/{id}``)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    crm_manager_id: str | None = Field(default=None, max_length=64)
    ringostat_employee_id: str | None = Field(default=None, max_length=64)
    sip_accounts: list[str] = Field(default_factory=list, max_length=20)
    fmc_number: str | None = Field(default=None, max_length=64)

    @field_validator("sip_accounts")
    @classmethod
    def _sip_accounts_are_logins(cls, accounts: list[str]) -> list[str]:
        cleaned: list[str] = []
        for raw in accounts:
            account = normalize_sip_account(raw)
            if not _SIP_ACCOUNT.match(account) or not account.isprintable():
                raise ValueError(f"SIP account {account!r} is not a valid login")
            if not looks_like_sip_login(account):
                raise ValueError("a SIP account must be a login or an extension; put a mobile number in fmc_number")
            if account.lower() not in {a.lower() for a in cleaned}:
                cleaned.append(account)
        return cleaned

    @field_validator("crm_manager_id", "ringostat_employee_id", "fmc_number")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None


class Employee(BaseModel):
    """A mapped employee as stored: the admin's mapping with normalised numbers."""

    model_config = ConfigDict(extra="ignore")

    employee_id: str = Field(pattern=_EMPLOYEE_ID)
    name: str
    crm_manager_id: str | None = None
    ringostat_employee_id: str | None = None
    sip_accounts: list[str] = Field(default_factory=list)
    fmc_number: str | None = None

    @classmethod
    def from_mapping(cls, employee_id: str, mapping: EmployeeMapping, default_country: str) -> Employee:
        fmc = normalize_phone(mapping.fmc_number, default_country) if mapping.fmc_number else None
        return cls(
            employee_id=employee_id,
            name=mapping.name,
            crm_manager_id=mapping.crm_manager_id,
            ringostat_employee_id=mapping.ringostat_employee_id,
            sip_accounts=mapping.sip_accounts,
            fmc_number=fmc,
        )

    @property
    def routing_target(self) -> str | None:
        """Where smart forwarding sends a call (R2): the first SIP account.

        An FMC number is never a target (R4): Ringostat's smart forwarding only works
        with SIP accounts.
        """
        return self.sip_accounts[0] if self.sip_accounts else None

    def identifier_keys(self) -> list[str]:
        """Every identifier of this employee, as storage keys (the first is the canonical one)."""
        keys = [employee_key(EmployeeKeyKind.EMPLOYEE, self.employee_id)]
        if self.crm_manager_id:
            keys.append(employee_key(EmployeeKeyKind.CRM_MANAGER, self.crm_manager_id))
        if self.ringostat_employee_id:
            keys.append(employee_key(EmployeeKeyKind.RINGOSTAT, self.ringostat_employee_id))
        keys.extend(employee_key(EmployeeKeyKind.SIP, account) for account in self.sip_accounts)
        if self.fmc_number:
            keys.append(employee_key(EmployeeKeyKind.FMC, self.fmc_number))
        return keys


def validate_employee_id(employee_id: str) -> str:
    if not re.match(_EMPLOYEE_ID, employee_id or ""):
        from ringbridge.domain.errors import InvalidInput

        raise InvalidInput("employee_id must be 1-64 letters, digits or _.@:-")
    return employee_id


@dataclass(frozen=True)
class StaffMember:
    """One employee of the Ringostat project, as the staff list gives it (C2)."""

    staff_id: str
    name: str
    emails: tuple[str, ...] = ()
    sip_accounts: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()  # phone directions (FMC / mobile), as Ringostat wrote them
    extension: str | None = None
