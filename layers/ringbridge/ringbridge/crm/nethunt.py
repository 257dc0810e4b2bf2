"""NetHunt CRM adapter (Integration API, ``/api/v1/zapier``): everything is a record in a folder.

- contacts are records of the contacts folder, found by their phone field; NetHunt's search
  matches the number exactly as stored, so the E.164 form (P1) is what we search and write;
- the call history is NetHunt's call log on the contact record (L1, L2); a call log cannot
  be edited, so a recording link that arrives after the log was written (L4) becomes one
  comment on the record; both are found again by the call id before anything is written;
- deals (F1-F6) are records of a deals folder with a stage field; a deal is active while its
  stage is not one of the configured final stages;
- tasks (T1) are records of a tasks folder; without one, a call-back becomes a comment. A
  call-back closes the task: its done field is set and the closing call is added to its text;
- the deal and the task ringbridge last created for a number are looked up by their record id
  first (a deals folder usually has no phone field to search); the folder is searched by phone
  only when there is no such id or the record is gone.

Field names are the folder's own (they are what the API addresses), so all are configurable;
fields the folder does not have are left out rather than failing the whole write. User fields
(responsible, deal manager, task assignee) take a workspace user's e-mail.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ringbridge.crm.common import (
    ManagerDirectory,
    TtlCache,
    call_line,
    call_marker,
    employee_for_manager,
    parse_time,
    utc_now,
)
from ringbridge.crm.http import CrmHttpClient, CrmRejected
from ringbridge.crm.numbers import same_number
from ringbridge.domain.calls import CallRecord, Utm
from ringbridge.domain.crm import CardDraft, ContactDraft, ContactPage, CrmCard, CrmContact, CrmTask, SourcedContact, TaskDraft
from ringbridge.domain.employees import Employee
from ringbridge.domain.phones import mask_phone
from ringbridge.observability import logger

CRM = "nethunt"
SEARCH_LIMIT = 20
HISTORY_LIMIT = 100
PULL_LIMIT = 1000  # one public client names 1000 as the triggers' maximum (unconfirmed)
FIELDS_CACHE_SECONDS = 600.0
# How far before the call's start we look for what we already wrote about it.
HISTORY_MARGIN = timedelta(minutes=10)
HISTORY_FALLBACK = timedelta(days=2)

# Config field -> environment variable (an empty value switches a field off).
ENV_NAMES = {
    "base_url": "CRM_BASE_URL",
    "requests_per_minute": "NETHUNT_REQUESTS_PER_MINUTE",
    "email": "NETHUNT_EMAIL",
    "contacts_folder_id": "NETHUNT_CONTACTS_FOLDER_ID",
    "deals_folder_id": "NETHUNT_DEALS_FOLDER_ID",
    "tasks_folder_id": "NETHUNT_TASKS_FOLDER_ID",
    "time_zone": "NETHUNT_TIME_ZONE",
    "check_fields": "NETHUNT_CHECK_FIELDS",
    "name_field": "NETHUNT_FIELD_NAME",
    "phone_field": "NETHUNT_FIELD_PHONE",
    "origin_field": "NETHUNT_FIELD_ORIGIN",
    "utm_source_field": "NETHUNT_FIELD_UTM_SOURCE",
    "utm_medium_field": "NETHUNT_FIELD_UTM_MEDIUM",
    "utm_campaign_field": "NETHUNT_FIELD_UTM_CAMPAIGN",
    "keyword_field": "NETHUNT_FIELD_KEYWORD",
    "utm_term_field": "NETHUNT_FIELD_UTM_TERM",
    "utm_content_field": "NETHUNT_FIELD_UTM_CONTENT",
    "responsible_field": "NETHUNT_FIELD_RESPONSIBLE",
    "deal_stage_field": "NETHUNT_DEAL_STAGE_FIELD",
    "deal_new_stage": "NETHUNT_DEAL_NEW_STAGE",
    "deal_final_stages": "NETHUNT_DEAL_FINAL_STAGES",
    "deal_manager_field": "NETHUNT_DEAL_MANAGER_FIELD",
    "deal_contact_field": "NETHUNT_DEAL_CONTACT_FIELD",
    "deal_summary_field": "NETHUNT_DEAL_SUMMARY_FIELD",
    "task_due_field": "NETHUNT_TASK_DUE_FIELD",
    "task_assignee_field": "NETHUNT_TASK_ASSIGNEE_FIELD",
    "task_done_field": "NETHUNT_TASK_DONE_FIELD",
    "task_description_field": "NETHUNT_TASK_DESCRIPTION_FIELD",
}


class NetHuntConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    base_url: str = "https://nethunt.com/api/v1/zapier"
    # NetHunt publishes no rate limit: a conservative guess, the template's NethuntRequestsPerMinute.
    requests_per_minute: int = Field(default=60, ge=1, le=600)
    email: str = Field(min_length=3)
    contacts_folder_id: str = Field(min_length=1)
    deals_folder_id: str | None = None
    tasks_folder_id: str | None = None
    time_zone: str = "UTC"
    check_fields: bool = True
    name_field: str = "Name"
    phone_field: str = "Phone"
    origin_field: str = "Source"  # takes "Ringostat" (P2)
    # The UTM field names of NetHunt's Ringostat guide (P8).
    utm_source_field: str = "Źródło"
    utm_medium_field: str = "Kanał"
    utm_campaign_field: str = "Kampania"
    keyword_field: str = "Słowo kluczowe"
    utm_term_field: str = ""
    utm_content_field: str = ""
    responsible_field: str = ""  # a contact field holding the responsible manager's CRM id, if any
    deal_stage_field: str = "Stage"
    deal_new_stage: str = "New"
    deal_final_stages: tuple[str, ...] = ("Won", "Lost")
    deal_manager_field: str = "Owner"
    deal_contact_field: str = ""
    deal_summary_field: str = "Description"
    task_due_field: str = "Due date"
    task_assignee_field: str = "Assignee"
    task_done_field: str = "Completed"
    task_description_field: str = "Description"

    @field_validator("deal_final_stages", mode="before")
    @classmethod
    def _split_stages(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(stage.strip() for stage in value.split(",") if stage.strip())
        return value

    @field_validator("deals_folder_id", "tasks_folder_id", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return value or None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> NetHuntConfig:
        # An empty value (a template parameter left blank) means "use the default".
        return cls.model_validate({field: env[name] for field, name in ENV_NAMES.items() if env.get(name)})


def _values(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _first(value: Any) -> Any:
    values = _values(value)
    return values[0] if values else None


def _record_id(item: Mapping[str, Any]) -> str:
    # Sources disagree on the key (recordId / id): take whichever is there.
    return str(item.get("recordId") or item.get("id") or "")


def _user_email(employee: Employee | None) -> str | None:
    """NetHunt's user fields take a workspace user's e-mail; any other manager id is left out, not sent."""
    if employee is None or not employee.crm_manager_id:
        return None
    if "@" in employee.crm_manager_id:
        return employee.crm_manager_id
    logger.warning("CRM manager id is not a NetHunt user e-mail; user field left out", employee_id=employee.employee_id)
    return None


def _truthy(value: Any) -> bool:
    if isinstance(value, list):
        return any(_truthy(v) for v in value)
    if isinstance(value, str):
        return value.strip().lower() in {"true", "yes", "1", "done"}
    return bool(value)


class NetHuntAdapter:
    """``CrmPort`` over NetHunt's Integration API."""

    def __init__(
        self,
        client: CrmHttpClient,
        config: NetHuntConfig,
        managers: ManagerDirectory | None = None,
        now: Callable[[], datetime] = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = client
        self._config = config
        self._managers = managers
        self._now = now
        self._fields: TtlCache[frozenset[str]] = TtlCache(FIELDS_CACHE_SECONDS, monotonic)

    # Plumbing

    def _folder_fields(self, folder_id: str) -> frozenset[str] | None:
        if not self._config.check_fields:
            return None
        known = self._fields.get(folder_id)
        if known is None:
            listed = self._http.get(f"triggers/folder-field/{folder_id}") or []
            known = frozenset(str(item.get("name")) for item in listed if isinstance(item, dict))
            self._fields.put(folder_id, known)
        return known

    def _create_record(self, folder_id: str, fields: dict[str, Any]) -> str:
        wanted = {name: value for name, value in fields.items() if name and value not in (None, "")}
        known = self._folder_fields(folder_id)
        if known is not None:
            missing = sorted(set(wanted) - known)
            if missing:
                logger.warning("NetHunt folder lacks configured fields; left out", folder_id=folder_id, fields=missing)
            wanted = {name: value for name, value in wanted.items() if name in known}
        created = self._http.post(f"actions/create-record/{folder_id}", {"timeZone": self._config.time_zone, "fields": wanted})
        record_id = _record_id(created or {})
        if not record_id:
            raise CrmRejected(CRM, 200, "create-record answered without a record id")
        return record_id

    def _search(self, folder_id: str, phone: str) -> list[dict[str, Any]]:
        """Records of a folder whose phone field is ``phone`` (the search itself is full-text)."""
        found = self._http.get(f"searches/find-record/{folder_id}", {"query": phone, "limit": SEARCH_LIMIT}) or []
        return [
            record
            for record in found
            if any(same_number(stored, phone) for stored in _values((record.get("fields") or {}).get(self._config.phone_field)))
        ]

    def _known_record(self, folder_id: str, record_id: str | None) -> dict[str, Any] | None:
        """The record ``record_id`` of ``folder_id``, or None when there is none or it is gone.

        ``find-record`` by ``recordId`` (NetHunt's Integration API page; PipedreamHQ/pipedream's
        ``findRecordById``): a one-record array, empty when no record of the folder has that id.
        A 404 is taken as gone too (NetHunt does not say which it answers for a deleted record).
        """
        if not record_id or ":" in record_id:
            return None  # none known, or not a record (a call-back written as a comment)
        try:
            found = self._http.get(f"searches/find-record/{folder_id}", {"recordId": record_id, "limit": 1}) or []
        except CrmRejected as refusal:
            if refusal.status == 404:
                return None
            raise
        return next((dict(r) for r in found if isinstance(r, dict) and _record_id(r) == record_id), None)

    def _deal_active(self, record: Mapping[str, Any]) -> bool:
        final = {stage.lower() for stage in self._config.deal_final_stages}
        stages = [str(s).lower() for s in _values((record.get("fields") or {}).get(self._config.deal_stage_field)) if s]
        return not any(stage in final for stage in stages)

    def _task_open(self, record: Mapping[str, Any]) -> bool:
        return not _truthy((record.get("fields") or {}).get(self._config.task_done_field))

    def _since(self, call: CallRecord) -> str:
        start = parse_time(call.started_at) if call.started_at else self._now() - HISTORY_FALLBACK
        return (start - HISTORY_MARGIN).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def _history(self, kind: str, record_id: str, marker: str, since: str) -> list[str]:
        """Texts of call logs or comments already on ``record_id`` about one call."""
        folder = self._config.contacts_folder_id
        items = self._http.get(f"triggers/{kind}/{folder}", {"since": since, "limit": HISTORY_LIMIT}) or []
        # The marker holds the call id, so it alone finds the call's items when an item comes
        # without its record's id (one published schema makes `recordId` optional).
        return [
            str(item.get("text") or "")
            for item in items
            if _record_id_of_item(item) in ("", record_id) and str(item.get("text") or "").startswith(marker)
        ]

    # Read-only look-ups of the workspace's settings (``crm check``), through the same client and rate limit

    @property
    def config(self) -> NetHuntConfig:
        return self._config

    def writable_folders(self) -> list[dict[str, Any]]:
        """The folders the API user may create records in: ``GET /triggers/writable-folder`` (``[{id, name}]``)."""
        folders = self._http.get("triggers/writable-folder") or []
        return [dict(folder) for folder in folders if isinstance(folder, dict)]

    def folder_field_names(self, folder_id: str) -> set[str]:
        """A folder's field names, read now (not the sync's cache): ``GET /triggers/folder-field/{folderId}``."""
        listed = self._http.get(f"triggers/folder-field/{folder_id}") or []
        return {str(item.get("name")) for item in listed if isinstance(item, dict) and item.get("name")}

    # Contacts (P1-P3, P8)

    def find_contact(self, phone: str) -> CrmContact | None:
        for record in self._search(self._config.contacts_folder_id, phone):
            fields = record.get("fields") or {}
            name = _first(fields.get(self._config.name_field))
            responsible = _first(fields.get(self._config.responsible_field)) if self._config.responsible_field else None
            return CrmContact(
                crm_id=_record_id(record),
                phone=phone,
                name=str(name) if name else None,
                responsible_employee_id=employee_for_manager(self._managers, responsible),
                has_utm=any(_first(fields.get(name)) for name in self._utm_fields((None,) * 6)),
                manager_known=bool(self._config.responsible_field),
            )
        return None

    def _utm_fields(self, values: tuple[str | None, ...]) -> dict[str, str | None]:
        """The contact's UTM fields (P8, the guide's Źródło/Kanał/Kampania/Słowo kluczowe) and their new values."""
        c = self._config
        source, medium, campaign, keyword, term, content = values
        names = (
            c.utm_source_field,
            c.utm_medium_field,
            c.utm_campaign_field,
            c.keyword_field,
            c.utm_term_field,
            c.utm_content_field,
        )
        fields: dict[str, str | None] = {}
        for name, value in zip(names, (source, medium, campaign, keyword, term, content), strict=True):
            if name:
                fields[name] = value
        return fields

    def write_utm(self, contact: CrmContact, utm: Utm, keyword: str | None) -> None:
        """P8: ``update-record`` of the contact's UTM fields, as NetHunt's guide does on every incoming call."""
        values = self._utm_fields((utm.source, utm.medium, utm.campaign, keyword or utm.term, utm.term, utm.content))
        wanted = {name: value for name, value in values.items() if value}
        known = self._folder_fields(self._config.contacts_folder_id)
        if known is not None:
            wanted = {name: value for name, value in wanted.items() if name in known}
        if not wanted:
            return
        actions = {name: {"overwrite": True, "add": value} for name, value in wanted.items()}
        self._http.post(f"actions/update-record/{contact.crm_id}", {"fieldActions": actions})

    def create_contact(self, draft: ContactDraft) -> CrmContact:
        c = self._config
        fields: dict[str, Any] = {
            c.name_field: draft.name,
            c.phone_field: draft.phone,
            c.origin_field: draft.source,
            c.utm_source_field: draft.utm.source,
            c.utm_medium_field: draft.utm.medium,
            c.utm_campaign_field: draft.utm.campaign,
            c.keyword_field: draft.keyword or draft.utm.term,
            c.utm_term_field: draft.utm.term,
            c.utm_content_field: draft.utm.content,
        }
        if c.responsible_field:
            fields[c.responsible_field] = _user_email(draft.responsible)
        record_id = self._create_record(c.contacts_folder_id, fields)
        logger.info("NetHunt contact created", phone=mask_phone(draft.phone), call_id=draft.call_id)
        return CrmContact(
            crm_id=record_id,
            phone=draft.phone,
            name=draft.name,
            responsible_employee_id=draft.responsible.employee_id if draft.responsible else None,
            manager_known=bool(c.responsible_field),
        )

    # The contacts changed in a window (R2: the routing projection)

    def changed_since(self, since: datetime | None, until: datetime, page: str | None) -> ContactPage:
        """The contacts folder's ``updated-record`` trigger since ``since`` (the epoch for a full import).

        Unconfirmed (public clients only): that a new record is listed as updated too, and the
        answer's shape (that of find-record). The trigger has no paging and answers newest
        first: when it answers ``PULL_LIMIT`` records, older changes may be missing
        (``truncated``). Without ``responsible_field`` no manager can be read: the names and
        CRM ids are projected, routes are left alone.
        """
        c = self._config
        start = since or datetime(1970, 1, 1, tzinfo=UTC)
        params: dict[str, str | int] = {"since": start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"), "limit": PULL_LIMIT}
        records = self._http.get(f"triggers/updated-record/{c.contacts_folder_id}", params) or []
        contacts = []
        for record in records:
            fields = record.get("fields") or {}
            name = _first(fields.get(c.name_field))
            manager = _first(fields.get(c.responsible_field)) if c.responsible_field else None
            contacts.append(
                SourcedContact(
                    crm_id=_record_id(record),
                    phones=tuple(str(p) for p in _values(fields.get(c.phone_field)) if p),
                    name=str(name) if name else None,
                    manager_id=str(manager) if manager else None,
                    manager_known=bool(c.responsible_field),
                )
            )
        return ContactPage(contacts=contacts, truncated=len(records) >= PULL_LIMIT)

    # Deals (F1, F3, F6)

    def _deals_folder(self) -> str:
        if not self._config.deals_folder_id:
            raise CrmRejected(CRM, 400, "NETHUNT_DEALS_FOLDER_ID is not set: deals cannot be created")
        return self._config.deals_folder_id

    def find_active_card(self, phone: str, contact: CrmContact, known_id: str | None = None) -> CrmCard | None:
        """F3: the deal ringbridge opened last (by id), active while not in a final stage; else a phone search."""
        folder = self._config.deals_folder_id
        if not folder:
            return None
        known = self._known_record(folder, known_id)
        if known is not None:
            return CrmCard(crm_id=_record_id(known), phone=phone, active=True) if self._deal_active(known) else None
        for record in self._search(folder, phone):
            if self._deal_active(record):
                return CrmCard(crm_id=_record_id(record), phone=phone, active=True)
        return None

    def create_card(self, draft: CardDraft) -> CrmCard:
        c = self._config
        fields: dict[str, Any] = {
            c.name_field: draft.title,
            c.phone_field: draft.phone,
            c.deal_stage_field: c.deal_new_stage,
            c.deal_summary_field: draft.summary,
            c.utm_source_field: draft.utm.source,
            c.utm_medium_field: draft.utm.medium,
            c.utm_campaign_field: draft.utm.campaign,
        }
        fields[c.deal_manager_field] = _user_email(draft.manager)  # F6
        if c.deal_contact_field:
            fields[c.deal_contact_field] = draft.contact.crm_id
        record_id = self._create_record(self._deals_folder(), fields)
        logger.info("NetHunt deal created", phone=mask_phone(draft.phone), call_id=draft.call_id)
        return CrmCard(crm_id=record_id, phone=draft.phone, active=True)

    # Tasks (T1)

    def _open_task_record(self, phone: str, known_id: str | None) -> dict[str, Any] | None:
        """The number's open task: the one ringbridge created (by id), else the first open one a phone search finds."""
        folder = self._config.tasks_folder_id
        if not folder:
            return None  # comments cannot be closed; the pipeline's ledger keeps one per call
        known = self._known_record(folder, known_id)
        if known is not None:
            return known if self._task_open(known) else None
        return next((record for record in self._search(folder, phone) if self._task_open(record)), None)

    def find_open_task(self, phone: str, known_id: str | None = None) -> CrmTask | None:
        record = self._open_task_record(phone, known_id)
        return CrmTask(crm_id=_record_id(record), phone=phone, open=True) if record else None

    def close_callback(self, phone: str, call: CallRecord, known_id: str | None = None) -> str | None:
        """T1: ``update-record`` of the open task: its done field set, the closing call added to its description.

        Only when ringbridge created a task for the number (``known_id``): it is read by id, and the
        folder searched by phone only if it is gone, so an answered call with no call-back pending costs
        no request. Only a task created before ``call`` ended (its ``createdAt``) is closed; a done one
        is left as it is, so a repeat changes nothing. Without a tasks folder the call-back is a
        comment: nothing to close.
        """
        c = self._config
        record = self._open_task_record(phone, known_id) if known_id else None
        if record is None or not call.started_at:
            return None
        ended = parse_time(call.started_at) + timedelta(seconds=call.duration or 0)
        created = record.get("createdAt")
        if created and parse_time(str(created)) > ended:
            return None  # a task for a later missed call: this call cannot be its call-back
        record_id = _record_id(record)
        known_fields = self._folder_fields(str(c.tasks_folder_id))
        if known_fields is not None and c.task_done_field not in known_fields:
            logger.warning("NetHunt tasks folder has no done field: call-back left open", field=c.task_done_field)
            return None
        actions: dict[str, Any] = {c.task_done_field: {"overwrite": True, "add": True}}
        if c.task_description_field and (known_fields is None or c.task_description_field in known_fields):
            text = str(_first((record.get("fields") or {}).get(c.task_description_field)) or "")
            closing = f"{call_marker(call.call_id)} call-back done ({call.direction.value if call.direction else 'call'}"
            closing += f" at {call.started_at}, talk {call.talk_time or 0}s)"
            actions[c.task_description_field] = {"overwrite": True, "add": f"{text}\n{closing}".strip()}
        self._http.post(f"actions/update-record/{record_id}", {"fieldActions": actions})
        logger.info("NetHunt call-back task closed", phone=mask_phone(phone), call_id=call.call_id, task_id=record_id)
        return record_id

    def create_task(self, draft: TaskDraft) -> CrmTask:
        c = self._config
        if c.tasks_folder_id:
            fields: dict[str, Any] = {
                c.name_field: draft.text,
                c.phone_field: draft.phone,
                c.task_due_field: parse_time(draft.due_at).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                c.task_description_field: draft.text,
            }
            fields[c.task_assignee_field] = _user_email(draft.assignee)
            return CrmTask(crm_id=self._create_record(c.tasks_folder_id, fields), phone=draft.phone, open=True)
        if draft.contact is None:
            logger.warning("no NetHunt tasks folder and no contact: call-back not written", call_id=draft.call_id)
            return CrmTask(crm_id=f"none:{draft.call_id}", phone=draft.phone, open=False)
        assignee = f" (for {draft.assignee.name})" if draft.assignee else ""
        text = f"Call-back task{assignee}, due {draft.due_at}: {draft.text} [call {draft.call_id}]"
        created = self._http.post(f"actions/create-comment/{draft.contact.crm_id}", {"text": text}) or {}
        comment_id = created.get("commentId") or created.get("id") or draft.contact.crm_id
        return CrmTask(crm_id=f"comment:{comment_id}", phone=draft.phone)

    # Call history (L1, L2, L4)

    def log_call(self, call: CallRecord, contact: CrmContact | None, manager: Employee | None) -> None:
        if contact is None:
            # P5: a NetHunt call log hangs off a record; with none, ringbridge's call history holds the call.
            logger.info("call without a NetHunt contact: kept in ringbridge's call history only", call_id=call.call_id)
            return
        marker = call_marker(call.call_id)
        since = self._since(call)
        logged = self._history("new-call-log", contact.crm_id, marker, since)
        if not logged:
            body: dict[str, Any] = {"text": call_line(call, manager), "duration": round((call.duration or 0) / 60, 2)}
            if call.started_at:
                body["time"] = parse_time(call.started_at).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            self._http.post(f"actions/create-call-log/{contact.crm_id}", body)
            return
        if not call.recording_url or any(call.recording_url in text for text in logged):
            return  # already logged as it is now
        # L4: the log was written before the recording existed and cannot be edited: one comment.
        if any(call.recording_url in text for text in self._history("new-comment", contact.crm_id, marker, since)):
            return
        self._http.post(f"actions/create-comment/{contact.crm_id}", {"text": f"{marker} recording {call.recording_url}"})


def _record_id_of_item(item: Mapping[str, Any]) -> str:
    # A call log / comment names its record as recordId; its own id is callLogId / commentId / id.
    return str(item.get("recordId") or "")
