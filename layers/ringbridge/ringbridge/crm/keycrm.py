"""KeyCRM adapter (Open API v1): buyers are contacts, pipeline cards are the funnel.

KeyCRM's API cannot create a call, a comment or a task, so:

- the call history entry (L1, L2, L4) is one line per call in the buyer's note, keyed by
  the call id: a repeat replaces the line (a recording link arriving later updates it)
  instead of adding another;
- a call-back task (T1) is the "next contact" time (``communicate_at``) of the buyer's
  open card, or of a new card when there is none;
- cards cannot be filtered by buyer: the card ringbridge last opened for the number (and the
  one holding its last reminder) is read by id first (``GET /pipelines/cards/{id}``); only
  without one, or when it is gone, the open cards (status not final) of the funnel are listed
  one status at a time and matched on the buyer id, page by page up to a bound;
- KeyCRM's Open API has no tasks: a call-back that closes the reminder (T1) clears the card's
  ``communicate_at``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ringbridge.crm.common import ManagerDirectory, TtlCache, call_line, call_marker, employee_for_manager, parse_time
from ringbridge.crm.http import CrmHttpClient, CrmRejected
from ringbridge.crm.numbers import phone_variants, same_number
from ringbridge.domain.calls import CallRecord, Utm
from ringbridge.domain.crm import (
    CALL_NOTE_PREFIX,
    CardDraft,
    ContactDraft,
    ContactPage,
    CrmCard,
    CrmContact,
    CrmTask,
    SourcedContact,
    TaskDraft,
)
from ringbridge.domain.employees import Employee
from ringbridge.domain.phones import mask_phone
from ringbridge.observability import logger

CRM = "keycrm"
PAGE_SIZE = 50  # KeyCRM's maximum
STATUS_CACHE_SECONDS = 600.0
LOOKUP_PAGES = 20  # pages of 50 read by a settings look-up (funnels, statuses, sources, users)


class KeyCrmConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    base_url: str = "https://openapi.keycrm.app/v1"
    source_id: int | None = None  # KEYCRM_SOURCE_ID: the "Ringostat" source of cards
    pipeline_id: int | None = None  # KEYCRM_PIPELINE_ID: funnel searched for open cards (default: all)
    requests_per_minute: int = Field(default=60, ge=1, le=600)
    card_scan_pages: int = Field(default=5, ge=1, le=100)
    note_call_lines: int = Field(default=50, ge=1, le=500)  # call lines kept in a buyer's note
    # KEYCRM_NOTE_MAX_CHARS: the note's length our call lines may fill (oldest dropped first); a
    # long note slows every buyer read and KeyCRM's screens.
    note_max_chars: int = Field(default=8000, ge=500, le=65535)
    # Buyer custom fields (uuid, e.g. CT_1001) that take the call's source and UTM tags (P8).
    buyer_fields: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> KeyCrmConfig:
        values: dict[str, Any] = {}
        names = {
            "base_url": "CRM_BASE_URL",
            "source_id": "KEYCRM_SOURCE_ID",
            "pipeline_id": "KEYCRM_PIPELINE_ID",
            "requests_per_minute": "KEYCRM_REQUESTS_PER_MINUTE",
            "card_scan_pages": "KEYCRM_CARD_SCAN_PAGES",
            "note_call_lines": "KEYCRM_NOTE_CALL_LINES",
            "note_max_chars": "KEYCRM_NOTE_MAX_CHARS",
        }
        for field, name in names.items():
            if env.get(name):
                values[field] = env[name]
        fields = {}
        for key in ("source", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "keyword"):
            uuid = env.get(f"KEYCRM_BUYER_FIELD_{key.upper()}")
            if uuid:
                fields[key] = uuid
        values["buyer_fields"] = fields
        return cls.model_validate(values)


def keycrm_time(iso: str) -> str:
    """KeyCRM takes and gives UTC as ``YYYY-MM-DD HH:MM:SS``."""
    return parse_time(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _window_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _manager_id(employee: Employee | None) -> int | None:
    """KeyCRM's manager ids are integers; anything else in the mapping is ignored, not sent."""
    if employee is None or not employee.crm_manager_id:
        return None
    if employee.crm_manager_id.isdigit():
        return int(employee.crm_manager_id)
    logger.warning("CRM manager id is not a KeyCRM user id", employee_id=employee.employee_id)
    return None


def _client_id(card: dict[str, Any]) -> str | None:
    contact = card.get("contact") or {}
    client_id = contact.get("client_id") or (contact.get("client") or {}).get("id")
    return str(client_id) if client_id is not None else None


def _int_id(crm_id: str) -> int:
    if not crm_id.isdigit():
        raise CrmRejected(CRM, 400, f"not a KeyCRM id: {crm_id[:20]!r}")
    return int(crm_id)


class KeyCrmAdapter:
    """``CrmPort`` over KeyCRM's Open API."""

    def __init__(
        self,
        client: CrmHttpClient,
        config: KeyCrmConfig,
        managers: ManagerDirectory | None = None,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        self._http = client
        self._config = config
        self._managers = managers
        self._statuses: TtlCache[list[int]] = TtlCache(STATUS_CACHE_SECONDS, monotonic or time.monotonic)

    # Read-only look-ups of the account's settings (``crm check``), through the same client and rate limit

    @property
    def config(self) -> KeyCrmConfig:
        return self._config

    def _every_page(self, path: str, params: Mapping[str, str | int] | None = None) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for page_number in range(1, LOOKUP_PAGES + 1):
            page = self._http.get(path, {**(params or {}), "limit": PAGE_SIZE, "page": page_number}) or {}
            data = page.get("data") or []
            items += [dict(item) for item in data if isinstance(item, dict)]
            if not page.get("next_page_url") or len(data) < PAGE_SIZE:
                break
        return items

    def pipelines(self) -> list[dict[str, Any]]:
        """Every funnel: ``GET /pipelines``."""
        return self._every_page("pipelines")

    def pipeline_statuses(self, pipeline_id: int) -> list[dict[str, Any]]:
        """A funnel's statuses (``is_final`` marks won/lost ones): ``GET /pipelines/{id}/statuses``."""
        return self._every_page(f"pipelines/{pipeline_id}/statuses")

    def sources(self) -> list[dict[str, Any]]:
        """The account's sources: ``GET /order/source`` (the document's one list of sources)."""
        return self._every_page("order/source")

    def users(self) -> list[dict[str, Any]]:
        """The account's users (managers): ``GET /users``."""
        return self._every_page("users")

    def buyer_custom_fields(self) -> list[dict[str, Any]]:
        """The buyers' custom fields: ``GET /custom-fields?filter[model]=client`` (a plain array, no pages)."""
        fields = self._http.get("custom-fields", {"filter[model]": "client"}) or []
        return [dict(field) for field in fields if isinstance(field, dict)]

    # Contacts (P1-P3, P8)

    def _buyer(self, phone: str) -> dict[str, Any] | None:
        variants = ",".join(phone_variants(phone))
        include = "manager,customFields" if self._utm_uuids() else "manager"
        page = self._http.get("buyer", {"filter[buyer_phone]": variants, "include": include, "limit": 10})
        for buyer in (page or {}).get("data") or []:
            # The filter matches exact strings; check the match is really this number.
            if any(same_number(stored, phone) for stored in buyer.get("phone") or []):
                return dict(buyer)
        return None

    def find_contact(self, phone: str) -> CrmContact | None:
        buyer = self._buyer(phone)
        if buyer is None:
            return None
        manager = buyer.get("manager") or {}
        return CrmContact(
            crm_id=str(buyer["id"]),
            phone=phone,
            name=buyer.get("full_name"),
            responsible_employee_id=employee_for_manager(self._managers, manager.get("id")),
            has_utm=self._has_utm(buyer),
        )

    def _utm_uuids(self) -> set[str]:
        return {uuid for key, uuid in self._config.buyer_fields.items() if key != "source"}

    def _has_utm(self, buyer: Mapping[str, Any]) -> bool | None:
        """P8: whether the buyer's UTM custom fields hold a value (None: none are configured)."""
        uuids = self._utm_uuids()
        if not uuids:
            return None
        return any(field.get("uuid") in uuids and field.get("value") for field in buyer.get("custom_fields") or [])

    def write_utm(self, contact: CrmContact, utm: Utm, keyword: str | None) -> None:
        """P8: the buyer's UTM custom fields (``KEYCRM_BUYER_FIELD_*``) take the call's tags."""
        tags = {
            "utm_source": utm.source,
            "utm_medium": utm.medium,
            "utm_campaign": utm.campaign,
            "utm_term": utm.term,
            "utm_content": utm.content,
            "keyword": keyword,
        }
        custom = [{"uuid": uuid, "value": str(tags[key])} for key, uuid in self._config.buyer_fields.items() if tags.get(key)]
        if not custom:
            return  # no UTM field configured: the buyer's note has the tags of the first call only
        buyer_id = _int_id(contact.crm_id)
        buyer = self._http.get(f"buyer/{buyer_id}", {"include": "customFields"}) or {}
        written = {field["uuid"] for field in custom}
        kept = [
            {"uuid": field["uuid"], "value": field.get("value")}
            for field in buyer.get("custom_fields") or []
            if field.get("uuid") and field["uuid"] not in written
        ]
        full_name = buyer.get("full_name") or contact.name or contact.phone
        self._http.put(f"buyer/{buyer_id}", {"full_name": full_name, "custom_fields": [*kept, *custom]})

    def create_contact(self, draft: ContactDraft) -> CrmContact:
        tags = {
            "source": draft.source,
            "utm_source": draft.utm.source,
            "utm_medium": draft.utm.medium,
            "utm_campaign": draft.utm.campaign,
            "utm_term": draft.utm.term,
            "utm_content": draft.utm.content,
            "keyword": draft.keyword,
        }
        written = ", ".join(f"{key}={value}" for key, value in tags.items() if value and key != "source")
        body: dict[str, Any] = {
            "full_name": draft.name,
            "phone": [draft.phone],
            # Buyers have no source or UTM fields: the note always carries them (P2, P8).
            "note": f"Source: {draft.source} (call {draft.call_id})" + (f"; UTM: {written}" if written else ""),
        }
        manager_id = _manager_id(draft.responsible)
        if manager_id is not None:
            body["manager_id"] = manager_id
        custom = [{"uuid": uuid, "value": str(tags[key])} for key, uuid in self._config.buyer_fields.items() if tags.get(key)]
        if custom:
            body["custom_fields"] = custom
        buyer = self._http.post("buyer", body)
        logger.info("KeyCRM buyer created", phone=mask_phone(draft.phone), call_id=draft.call_id)
        return CrmContact(
            crm_id=str(buyer["id"]),
            phone=draft.phone,
            name=buyer.get("full_name") or draft.name,
            responsible_employee_id=draft.responsible.employee_id if draft.responsible else None,
        )

    # The contacts changed in a window (R2: the routing projection)

    def changed_since(self, since: datetime | None, until: datetime, page: str | None) -> ContactPage:
        """``GET /buyer`` with ``include=manager``, 50 a page; ``filter[updated_between]`` unless a full import.

        Unconfirmed: that KeyCRM moves a buyer's ``updated_at`` when only its manager changes
        (the fake does; if KeyCRM does not, a reassignment reaches routing with the next call
        from that number or the next full import).
        """
        number = int(page) if page and page.isdigit() else 1
        params: dict[str, str | int] = {"include": "manager", "limit": PAGE_SIZE, "page": number}
        if since is not None:
            params["filter[updated_between]"] = f"{_window_time(since)},{_window_time(until)}"
        answer = self._http.get("buyer", params) or {}
        buyers = answer.get("data") or []
        contacts = [
            SourcedContact(
                crm_id=str(buyer["id"]),
                phones=tuple(str(p) for p in buyer.get("phone") or [] if p),
                name=buyer.get("full_name"),
                manager_id=str((buyer.get("manager") or {}).get("id") or "") or None,
            )
            for buyer in buyers
        ]
        more = bool(answer.get("next_page_url")) and len(buyers) >= PAGE_SIZE
        return ContactPage(contacts=contacts, next_page=str(number + 1) if more else None)

    # Cards (F1, F3, F6)

    def _pipeline_ids(self) -> list[int]:
        if self._config.pipeline_id is not None:
            return [self._config.pipeline_id]
        cached = self._statuses.get("pipelines")
        if cached is None:
            page = self._http.get("pipelines", {"limit": PAGE_SIZE})
            cached = [int(item["id"]) for item in (page or {}).get("data") or []]
            self._statuses.put("pipelines", cached)
        return list(cached)

    def _open_status_ids(self) -> list[int]:
        """Statuses that are not final in the searched funnels (F3), cached per container."""
        cached = self._statuses.get("open")
        if cached is not None:
            return list(cached)
        open_ids: list[int] = []
        for pipeline_id in self._pipeline_ids():
            page = self._http.get(f"pipelines/{pipeline_id}/statuses", {"limit": PAGE_SIZE})
            open_ids += [int(s["id"]) for s in (page or {}).get("data") or [] if not s.get("is_final")]
        self._statuses.put("open", open_ids)
        return open_ids

    def _open_cards(self) -> Iterator[dict[str, Any]]:
        # KeyCRM documents one value per card filter (`filter[status_id]=N`): each open status
        # is listed on its own, up to the page bound.
        for status_id in self._open_status_ids():
            yield from self._cards_in_status(status_id)

    def _cards_in_status(self, status_id: int) -> Iterator[dict[str, Any]]:
        params: dict[str, str | int] = {"filter[status_id]": status_id, "include": "contact.client", "limit": PAGE_SIZE}
        if self._config.pipeline_id is not None:
            params["filter[pipeline_id]"] = self._config.pipeline_id
        for page_number in range(1, self._config.card_scan_pages + 1):
            page = self._http.get("pipelines/cards", {**params, "page": page_number}) or {}
            cards = page.get("data") or []
            yield from cards
            if not page.get("next_page_url") or len(cards) < PAGE_SIZE:
                return
        logger.warning("KeyCRM open-card scan stopped at its page bound", pages=self._config.card_scan_pages, status_id=status_id)

    def _active_card(self, contact: CrmContact) -> dict[str, Any] | None:
        open_ids = set(self._open_status_ids())
        for card in self._open_cards():
            if _client_id(card) == contact.crm_id and card.get("status_id") in open_ids:
                return card
        return None

    def _known_card(self, card_id: str | None) -> dict[str, Any] | None:
        """``GET /pipelines/cards/{id}`` with its buyer; None when no id is known or the card is gone (404).

        KeyCRM's document answers a one-item page; a bare card (as some public clients read it) is taken too.
        """
        if not card_id or not card_id.isdigit():
            return None
        try:
            answer = self._http.get(f"pipelines/cards/{int(card_id)}", {"include": "contact.client"}) or {}
        except CrmRejected as refusal:
            if refusal.status == 404:
                return None
            raise
        data = answer.get("data")
        card = (data[0] if data else None) if isinstance(data, list) else (answer if answer.get("id") else None)
        return dict(card) if isinstance(card, dict) else None

    def _card_open(self, card: Mapping[str, Any]) -> bool:
        """F3: in a status that is not final, in a searched funnel."""
        return card.get("status_id") in set(self._open_status_ids())

    def find_active_card(self, phone: str, contact: CrmContact, known_id: str | None = None) -> CrmCard | None:
        known = self._known_card(known_id)
        if known is not None and _client_id(known) in (None, contact.crm_id):
            return CrmCard(crm_id=str(known["id"]), phone=phone, active=True) if self._card_open(known) else None
        card = self._active_card(contact)
        return CrmCard(crm_id=str(card["id"]), phone=phone, active=True) if card else None

    def create_card(self, draft: CardDraft) -> CrmCard:
        body: dict[str, Any] = {
            "title": draft.title,
            "contact": {"client_id": _int_id(draft.contact.crm_id)},
            "manager_comment": draft.summary,  # the call summary, with the recording link when known
        }
        if draft.funnel_id.isdigit():
            body["pipeline_id"] = int(draft.funnel_id)
        if self._config.source_id is not None:
            body["source_id"] = self._config.source_id
        manager_id = _manager_id(draft.manager)
        if manager_id is not None:
            body["manager_id"] = manager_id
        for key, value in draft.utm.model_dump().items():
            if value:
                body[f"utm_{key}"] = value
        card = self._http.post("pipelines/cards", body)
        logger.info("KeyCRM card created", phone=mask_phone(draft.phone), call_id=draft.call_id, card_id=card.get("id"))
        return CrmCard(crm_id=str(card["id"]), phone=draft.phone, active=True)

    # Tasks (T1): the "next contact" reminder of a card

    def _reminder_card(self, phone: str, known_id: str | None) -> dict[str, Any] | None:
        """The card whose "next contact" is the number's call-back: the one ringbridge set (by id), else the open one."""
        if known_id and known_id.startswith("card:"):
            known = self._known_card(known_id.removeprefix("card:"))
            if known is not None:
                return known
        contact = self.find_contact(phone)
        return self._active_card(contact) if contact else None

    def find_open_task(self, phone: str, known_id: str | None = None) -> CrmTask | None:
        card = self._reminder_card(phone, known_id)
        if card is None or not card.get("communicate_at") or not self._card_open(card):
            return None
        return CrmTask(crm_id=f"card:{card['id']}", phone=phone, open=True)

    def close_callback(self, phone: str, call: CallRecord, known_id: str | None = None) -> str | None:
        """T1: the reminder is cleared: ``PUT /pipelines/cards/{id}`` with ``communicate_at`` null.

        KeyCRM's Open API has no tasks (nor a status for a reminder): the card's "next contact"
        time is the reminder, and the update schema takes ``communicate_at`` as nullable. The card
        keeps no trace of the closing call; the buyer's note has that call's line (L1). Only the
        card ringbridge put the reminder on (``known_id``) is read: scanning the funnel on every
        answered call would spend KeyCRM's 60 requests a minute, and a reminder people set on
        another card is theirs. A reminder in the buyer's note (one-time mode without a card)
        stays for a person to strike.
        """
        if not known_id or not known_id.startswith("card:"):
            return None
        card = self._known_card(known_id.removeprefix("card:"))
        if card is None or not card.get("communicate_at"):
            return None  # none set, or cleared already: a repeat changes nothing
        self._http.put(f"pipelines/cards/{int(card['id'])}", {"communicate_at": None})
        logger.info("KeyCRM call-back reminder cleared", phone=mask_phone(phone), call_id=call.call_id, card_id=card["id"])
        return f"card:{card['id']}"

    def create_task(self, draft: TaskDraft) -> CrmTask:
        when = keycrm_time(draft.due_at)
        manager_id = _manager_id(draft.assignee)
        if draft.card_id and draft.card_id.isdigit():
            # The card ringbridge opened for this number, by id (even if closed): no scan (F2, T1).
            self._http.put(f"pipelines/cards/{int(draft.card_id)}", {"communicate_at": when})
            return CrmTask(crm_id=f"card:{draft.card_id}", phone=draft.phone, open=True)
        contact = draft.contact or self.find_contact(draft.phone)
        card = self._active_card(contact) if contact else None
        if card is not None:
            update: dict[str, Any] = {"communicate_at": when}
            if manager_id is not None and not card.get("manager_id"):
                update["manager_id"] = manager_id
            self._http.put(f"pipelines/cards/{card['id']}", update)
            return CrmTask(crm_id=f"card:{card['id']}", phone=draft.phone, open=True)
        if not draft.new_card_allowed and contact is not None:
            # One-time mode: a call-back never opens a second card; the reminder goes in the buyer's note.
            self._note_reminder(contact, draft)
            return CrmTask(crm_id=f"note:{contact.crm_id}", phone=draft.phone, open=False)
        # No open card: a new one carries the reminder. Without a buyer the card's own contact
        # (name = number) is the only way KeyCRM can hold a call-back.
        body: dict[str, Any] = {
            "title": draft.text[:250],
            "contact": {"client_id": _int_id(contact.crm_id)} if contact else {"full_name": draft.phone, "phone": draft.phone},
            "manager_comment": draft.text,
            "communicate_at": when,
        }
        if self._config.pipeline_id is not None:
            body["pipeline_id"] = self._config.pipeline_id
        if self._config.source_id is not None:
            body["source_id"] = self._config.source_id
        if manager_id is not None:
            body["manager_id"] = manager_id
        created = self._http.post("pipelines/cards", body)
        return CrmTask(crm_id=f"card:{created['id']}", phone=draft.phone, open=True)

    # Call history (L1, L2, L4)

    def log_call(self, call: CallRecord, contact: CrmContact | None, manager: Employee | None) -> None:
        if contact is None:
            # P5: KeyCRM has nowhere to hold a call without a buyer; ringbridge's call history has it.
            logger.info("call without a KeyCRM buyer: kept in ringbridge's call history only", call_id=call.call_id)
            return
        buyer_id = _int_id(contact.crm_id)
        buyer = self._http.get(f"buyer/{buyer_id}")
        note = str(buyer.get("note") or "")
        new_note = self._note_with_call(note, call_line(call, manager), call_marker(call.call_id))
        if new_note == note:
            return  # this call is already written exactly so: a repeat changes nothing
        # full_name is required by the schema; the other fields are left as they are.
        full_name = buyer.get("full_name") or contact.name or contact.phone
        self._http.put(f"buyer/{buyer_id}", {"full_name": full_name, "note": new_note})

    def _note_reminder(self, contact: CrmContact, draft: TaskDraft) -> None:
        """T1 without a card to carry it (one-time mode): one line in the buyer's note, keyed by the call."""
        buyer_id = _int_id(contact.crm_id)
        buyer = self._http.get(f"buyer/{buyer_id}") or {}
        note = str(buyer.get("note") or "")
        marker = call_marker(draft.call_id)
        new_note = self._note_with_call(note, f"{marker} call back by {keycrm_time(draft.due_at)}: {draft.text}", marker)
        if new_note != note:
            full_name = buyer.get("full_name") or contact.name or contact.phone
            self._http.put(f"buyer/{buyer_id}", {"full_name": full_name, "note": new_note})

    def _note_with_call(self, note: str, line: str, marker: str) -> str:
        lines = note.splitlines()
        for index, existing in enumerate(lines):
            if existing.startswith(marker):
                lines[index] = line  # L4: the same call, now with more detail (the recording)
                break
        else:
            lines.append(line)
        ours = [i for i, text in enumerate(lines) if text.startswith(CALL_NOTE_PREFIX)]
        excess = len(ours) - self._config.note_call_lines
        if excess > 0:
            # Keep the note bounded: drop our oldest call lines, never the people's own text.
            dropped = set(ours[:excess])
            lines = [text for i, text in enumerate(lines) if i not in dropped]
        # And bounded in characters: drop our oldest call lines (never this call's, never the people's text).
        while len("\n".join(lines)) > self._config.note_max_chars:
            oldest = next(
                (i for i, text in enumerate(lines) if text.startswith(CALL_NOTE_PREFIX) and not text.startswith(marker)), None
            )
            if oldest is None:
                logger.warning("KeyCRM buyer note over its length bound with no older call line to drop")
                break
            del lines[oldest]
        return "\n".join(lines)
