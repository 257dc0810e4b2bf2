"""``crm check`` (``GET /admin/crm/check``, ``python -m ringbridge.cli crm check``): the settings against the live CRM.

The configured CRM is asked, with read requests only (through the same HTTP client and rate
limit as the sync), whether what the settings name exists there: KeyCRM's funnel, its
statuses, the cards' source, the managers and the buyer fields; NetHunt's folders and their
fields, the managers' e-mails. The answer lists every finding and an overall ``ok``: no
failed finding of severity ``error``. The built-in store has nothing outside to check.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ringbridge.domain.crm_check import CheckFinding
from ringbridge.domain.employees import Employee
from ringbridge.domain.ports import CrmConfigurationCheck

NOTHING_TO_CHECK = "the built-in store keeps everything in the stack's own tables: nothing to check"


class CrmCheckReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    crm: str
    findings: list[CheckFinding] = Field(default_factory=list)
    message: str | None = None

    @property
    def ok(self) -> bool:
        return not any(not finding.ok and finding.severity == "error" for finding in self.findings)

    @property
    def failed(self) -> list[CheckFinding]:
        return [finding for finding in self.findings if not finding.ok]

    def answer(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "crm": self.crm,
            "ok": self.ok,
            "errors": sum(1 for f in self.failed if f.severity == "error"),
            "warnings": sum(1 for f in self.failed if f.severity == "warning"),
            "findings": [finding.model_dump(mode="json") for finding in self.findings],
        }
        if self.message:
            answer["message"] = self.message
        return answer


def check_crm(
    crm: str, check: CrmConfigurationCheck | None, employees: Iterable[Employee], problems: Sequence[str] = ()
) -> CrmCheckReport:
    """Every finding of ``check`` for the mapped ``employees``, after the settings' own ``problems``
    (combinations the CRM would refuse on every call, each naming what to change).

    ``check`` None: the built-in store, ok with nothing to check.
    """
    if check is None:
        return CrmCheckReport(crm=crm, message=NOTHING_TO_CHECK)
    findings = [CheckFinding(check="settings", ok=False, found=problem, fix=problem) for problem in problems]
    mapped = sorted(employees, key=lambda employee: employee.employee_id)
    return CrmCheckReport(crm=crm, findings=[*findings, *check.findings(mapped)])
