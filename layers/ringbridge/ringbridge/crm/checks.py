"""``crm check`` for KeyCRM and NetHunt: the settings against what the account really holds.

Each check reads through the adapter's own read methods, so the same HTTP client, retries and
rate limit as the sync apply; nothing is written. A request the CRM refuses or cannot answer
becomes a failed finding of its check; a refused key or an unreachable CRM is one finding
and ends the check (every other request would fail the same way).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ringbridge.crm.http import CrmError, CrmRejected, CrmUnavailable
from ringbridge.crm.keycrm import KeyCrmAdapter
from ringbridge.crm.nethunt import ENV_NAMES, NetHuntAdapter
from ringbridge.domain.crm import CrmPort
from ringbridge.domain.crm_check import CheckFinding, Severity
from ringbridge.domain.employees import Employee
from ringbridge.domain.ports import CrmConfigurationCheck
from ringbridge.domain.rules import SyncRules

# Where a setting comes from: the template parameter when there is one, else the variable.
ENVIRONMENT = "(an environment variable of CrmSyncFunction and AdminFunction in template.yaml)"
MAPPING_FIX = "PUT /admin/employees/{employee_id} with crm_manager_id"
LISTED = 15  # items of a list quoted in a finding


def _listing(items: Iterable[tuple[Any, Any]]) -> str:
    pairs = [f"{key} ({name})" if name else str(key) for key, name in items]
    more = f" and {len(pairs) - LISTED} more" if len(pairs) > LISTED else ""
    return ", ".join(pairs[:LISTED]) + more if pairs else "none"


def _access_finding(crm: str, error: CrmError, key_parameter: str) -> CheckFinding:
    if isinstance(error, CrmRejected) and error.status in (401, 403):
        return CheckFinding(
            check="api key",
            ok=False,
            found=str(error),
            fix=f"put a valid {crm} API key in the SSM parameter named by CrmApiKeyParameter{key_parameter}",
        )
    return CheckFinding(
        check="api key",
        ok=False,
        found=str(error),
        fix="CrmBaseUrl must be the API's base URL (empty for the public one); retry when the CRM answers again",
    )


def _guarded(check: str, read: Callable[[], list[CheckFinding]]) -> list[CheckFinding]:
    """The findings of one check, or one failed finding when the CRM could not answer it."""
    try:
        return read()
    except CrmError as error:
        retry = "retry later" if isinstance(error, CrmUnavailable) else "the CRM refused the request: see found"
        return [CheckFinding(check=check, ok=False, found=str(error), fix=retry)]


class KeyCrmCheck:
    """KeyCRM: the funnel and its statuses, the cards' source, the managers, the buyer fields (P8)."""

    def __init__(self, crm: KeyCrmAdapter, rules: SyncRules) -> None:
        self._crm = crm
        self._rules = rules

    def findings(self, employees: Sequence[Employee]) -> list[CheckFinding]:
        try:
            pipelines = self._crm.pipelines()
        except CrmError as error:
            return [_access_finding("KeyCRM", error, "")]
        found = [CheckFinding(check="api key", ok=True, found=f"KeyCRM answers: {len(pipelines)} funnel(s)")]
        found += self._funnel(pipelines)
        found += _guarded("source", self._source)
        found += _guarded("managers", lambda: self._managers(employees))
        found += _guarded("buyer fields", self._buyer_fields)
        return found

    def _funnel_id(self) -> str | None:
        configured = self._crm.config.pipeline_id
        if configured is not None:
            return str(configured)
        return self._rules.funnel_id if self._rules.funnel_enabled else None

    def _funnel(self, pipelines: list[dict[str, Any]]) -> list[CheckFinding]:
        funnel_id = self._funnel_id()
        if funnel_id is None:
            return []
        names = {str(p.get("id")): p.get("name") for p in pipelines}
        listing = _listing(names.items())
        if funnel_id not in names:
            return [
                CheckFinding(
                    check="funnel",
                    ok=False,
                    found={"FunnelId": funnel_id, "funnels": listing},
                    fix=f"set the template parameter FunnelId to one of KeyCRM's funnels: {listing}",
                )
            ]
        funnel = CheckFinding(check="funnel", ok=True, found={"FunnelId": funnel_id, "name": names[funnel_id]})
        return [funnel, *_guarded("funnel statuses", lambda: self._statuses(int(funnel_id)))]

    def _statuses(self, funnel_id: int) -> list[CheckFinding]:
        statuses = self._crm.pipeline_statuses(funnel_id)
        listing = _listing((s.get("id"), s.get("title")) for s in statuses)
        open_ids = [s.get("id") for s in statuses if not s.get("is_final")]
        wrong_status = f"to a status of funnel {funnel_id}: {listing}"
        findings = [
            CheckFinding(
                check="funnel statuses",
                ok=bool(open_ids),
                found={"statuses": listing, "open": open_ids},
                fix="" if open_ids else f"give funnel {funnel_id} a status that is not final in KeyCRM (new cards start there)",
            )
        ]
        # Status ids the settings name (``*_status_id`` of the adapter's configuration), each in this funnel.
        known = {s.get("id") for s in statuses}
        for name, value in sorted(self._crm.config.model_dump().items()):
            if name.endswith("status_id") and value is not None:
                variable = f"KEYCRM_{name.upper()}"
                findings.append(
                    CheckFinding(
                        check=f"status {variable}",
                        ok=value in known,
                        found=value,
                        fix="" if value in known else f"set {variable} {ENVIRONMENT} {wrong_status}",
                    )
                )
        return findings

    def _source(self) -> list[CheckFinding]:
        source_id = self._crm.config.source_id
        sources = self._crm.sources()
        listing = _listing((s.get("id"), s.get("name")) for s in sources)
        if source_id is None:
            return [
                CheckFinding(
                    check="source",
                    ok=False,
                    severity="warning",
                    found={"KeycrmSourceId": None, "sources": listing},
                    fix=f"set the template parameter KeycrmSourceId to the source cards should carry: {listing}",
                )
            ]
        ok = any(s.get("id") == source_id for s in sources)
        return [
            CheckFinding(
                check="source",
                ok=ok,
                found={"KeycrmSourceId": source_id} if ok else {"KeycrmSourceId": source_id, "sources": listing},
                fix="" if ok else f"set the template parameter KeycrmSourceId to one of KeyCRM's sources: {listing}",
            )
        ]

    def _managers(self, employees: Sequence[Employee]) -> list[CheckFinding]:
        users = {str(u.get("id")): u for u in self._crm.users()}
        listing = _listing((user_id, u.get("full_name")) for user_id, u in users.items())
        findings = []
        for employee in employees:
            check = f"manager of {employee.employee_id}"
            fix = MAPPING_FIX.format(employee_id=employee.employee_id)
            manager_id = employee.crm_manager_id
            if not manager_id:
                findings.append(
                    CheckFinding(
                        check=check,
                        ok=False,
                        severity="warning",
                        found=None,
                        fix=f"{fix} set to the KeyCRM user id (cards and buyers get no manager until then): {listing}",
                    )
                )
                continue
            user = users.get(manager_id)
            if user is None:
                findings.append(
                    CheckFinding(check=check, ok=False, found=manager_id, fix=f"{fix} one of KeyCRM's user ids: {listing}")
                )
                continue
            active = user.get("status") in (None, "active")
            findings.append(
                CheckFinding(
                    check=check,
                    ok=active,
                    severity="error" if active else "warning",
                    found={"crm_manager_id": manager_id, "user": user.get("full_name"), "status": user.get("status")},
                    fix="" if active else f"the KeyCRM user is {user.get('status')}: unblock them or {fix} another user id",
                )
            )
        return findings

    def _buyer_fields(self) -> list[CheckFinding]:
        configured = self._crm.config.buyer_fields
        if not configured:
            return []
        fields = {str(f.get("uuid")): f for f in self._crm.buyer_custom_fields()}
        listing = _listing((uuid, f.get("name")) for uuid, f in fields.items())
        findings = []
        for key, uuid in sorted(configured.items()):
            variable = f"KEYCRM_BUYER_FIELD_{key.upper()}"
            ok = uuid in fields
            findings.append(
                CheckFinding(
                    check=f"buyer field {variable}",
                    ok=ok,
                    found={"uuid": uuid, "name": fields[uuid].get("name")} if ok else {"uuid": uuid},
                    fix="" if ok else f"set {variable} {ENVIRONMENT} to a buyer custom field's uuid, or empty: {listing}",
                )
            )
        return findings


# NetHunt: (config field, severity when the folder lacks it). An error: the sync cannot find or
# close what it wrote (the phone searched, the stage or done field read); a warning: the value
# is left out of every record written.
CONTACT_FIELDS: tuple[tuple[str, Severity], ...] = (
    ("name_field", "warning"),
    ("phone_field", "error"),
    ("origin_field", "warning"),
    ("utm_source_field", "warning"),
    ("utm_medium_field", "warning"),
    ("utm_campaign_field", "warning"),
    ("keyword_field", "warning"),
    ("utm_term_field", "warning"),
    ("utm_content_field", "warning"),
    ("responsible_field", "error"),  # routing (R2) reads it
)
DEAL_FIELDS: tuple[tuple[str, Severity], ...] = (
    ("name_field", "warning"),
    ("phone_field", "error"),
    ("deal_stage_field", "error"),
    ("deal_manager_field", "warning"),
    ("deal_summary_field", "warning"),
    ("deal_contact_field", "warning"),
    ("utm_source_field", "warning"),
    ("utm_medium_field", "warning"),
    ("utm_campaign_field", "warning"),
)
TASK_FIELDS: tuple[tuple[str, Severity], ...] = (
    ("name_field", "warning"),
    ("phone_field", "error"),
    ("task_due_field", "warning"),
    ("task_assignee_field", "warning"),
    ("task_done_field", "error"),
    ("task_description_field", "warning"),
)
FOLDER_PARAMETERS = {
    "contacts": "NethuntContactsFolderId",
    "deals": "NethuntDealsFolderId",
    "tasks": "NethuntTasksFolderId",
}
FIELD_PARAMETERS = {"responsible_field": "the template parameter NethuntResponsibleField"}


class NetHuntCheck:
    """NetHunt: the folders, the fields written in each, the managers' e-mails."""

    def __init__(self, crm: NetHuntAdapter, rules: SyncRules) -> None:
        self._crm = crm
        self._rules = rules

    def findings(self, employees: Sequence[Employee]) -> list[CheckFinding]:
        try:
            folders = {str(f.get("id")): f.get("name") for f in self._crm.writable_folders()}
        except CrmError as error:
            return [_access_finding("NetHunt", error, " (and NethuntEmail to its user's e-mail)")]
        found = [CheckFinding(check="api key", ok=True, found=f"NetHunt answers: {len(folders)} writable folder(s)")]
        config = self._crm.config
        for kind, folder_id, fields in (
            ("contacts", config.contacts_folder_id, CONTACT_FIELDS),
            ("deals", config.deals_folder_id, DEAL_FIELDS),
            ("tasks", config.tasks_folder_id, TASK_FIELDS),
        ):
            if folder_id:
                found += self._folder(kind, folder_id, fields, folders)
            elif kind == "deals" and self._rules.funnel_enabled:
                found.append(
                    CheckFinding(
                        check="deals folder",
                        ok=False,
                        found=None,
                        fix="set the template parameter NethuntDealsFolderId (or FunnelEnabled=false): "
                        + _listing(folders.items()),
                    )
                )
        found += self._managers(employees)
        return found

    def _folder(
        self, kind: str, folder_id: str, fields: tuple[tuple[str, Severity], ...], folders: dict[str, Any]
    ) -> list[CheckFinding]:
        parameter = FOLDER_PARAMETERS[kind]
        if folder_id not in folders:
            listing = _listing(folders.items())
            return [
                CheckFinding(
                    check=f"{kind} folder",
                    ok=False,
                    found={parameter: folder_id},
                    fix=f"set the template parameter {parameter} to a folder the API user can write to: {listing}",
                )
            ]
        folder = CheckFinding(check=f"{kind} folder", ok=True, found={parameter: folder_id, "name": folders[folder_id]})
        return [folder, *_guarded(f"{kind} fields", lambda: self._fields(kind, folder_id, fields))]

    def _fields(self, kind: str, folder_id: str, fields: tuple[tuple[str, Severity], ...]) -> list[CheckFinding]:
        names = self._crm.folder_field_names(folder_id)
        config = self._crm.config.model_dump()
        wanted = [(attribute, str(config[attribute]), severity) for attribute, severity in fields if config[attribute]]
        missing = [(attribute, name, severity) for attribute, name, severity in wanted if name not in names]
        if not missing:
            return [CheckFinding(check=f"{kind} fields", ok=True, found=sorted({name for _, name, _ in wanted}))]
        listing = _listing((name, None) for name in sorted(names))
        findings = []
        for attribute, name, severity in missing:
            setting = FIELD_PARAMETERS.get(attribute, f"{ENV_NAMES[attribute]} {ENVIRONMENT}")
            findings.append(
                CheckFinding(
                    check=f"{kind} field {name}",
                    ok=False,
                    severity=severity,
                    found={"folder": folder_id, "field": name},
                    fix=f"add a field '{name}' to the {kind} folder in NetHunt, or set {setting} to one of its fields: {listing}",
                )
            )
        return findings

    def _managers(self, employees: Sequence[Employee]) -> list[CheckFinding]:
        findings, emails = [], []
        for employee in employees:
            manager = employee.crm_manager_id
            if manager and "@" in manager:
                emails.append(manager)
                continue
            fix = MAPPING_FIX.format(employee_id=employee.employee_id)
            findings.append(
                CheckFinding(
                    check=f"manager of {employee.employee_id}",
                    ok=False,
                    severity="error" if manager else "warning",
                    found=manager,
                    fix=f"{fix} set to the NetHunt user's e-mail (user fields take a workspace user's e-mail)",
                )
            )
        if emails:
            # NetHunt's Integration API has no route listing a workspace's users (none is published,
            # none is used by the public clients): the e-mails' form is all that can be checked.
            findings.append(
                CheckFinding(
                    check="managers' e-mails",
                    ok=False,
                    severity="warning",
                    found=sorted(emails),
                    fix="cannot be checked: NetHunt's API lists no users; compare these with Settings > Users in NetHunt",
                )
            )
        return findings


class CrmNotBuilt:
    """The adapter could not be built (no key in SSM, one the function may not read, settings it refuses)."""

    def __init__(self, error: Exception) -> None:
        self._error = error

    def findings(self, employees: Sequence[Employee]) -> list[CheckFinding]:
        return [
            CheckFinding(
                check="api key",
                ok=False,
                found=type(self._error).__name__,
                fix="CrmApiKeyParameter must name an SSM SecureString holding the CRM's API key, readable by the function;"
                " the settings' findings above name anything else to change",
            )
        ]


def build_check(crm: CrmPort, rules: SyncRules) -> CrmConfigurationCheck | None:
    """The check for the configured CRM; None for the built-in store (nothing outside to check)."""
    if isinstance(crm, KeyCrmAdapter):
        return KeyCrmCheck(crm, rules)
    if isinstance(crm, NetHuntAdapter):
        return NetHuntCheck(crm, rules)
    return None
