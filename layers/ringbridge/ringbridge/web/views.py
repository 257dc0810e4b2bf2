"""What the CRM-facing API shows of a call and a contact, and how it reads ``If-Match``."""

from __future__ import annotations

import re
from typing import Any

from ringbridge.domain.calls import CallRecord
from ringbridge.domain.contacts import Contact
from ringbridge.domain.crm_lists import card_status
from ringbridge.domain.errors import InvalidInput, PreconditionRequired


def call_view(record: CallRecord) -> dict[str, Any]:
    """One call as the CRM sees it (L2)."""
    return {
        "id": record.call_id,
        "direction": record.direction.value if record.direction else None,
        "other_party": record.other_party,
        "started_at": record.started_at,
        "duration": record.duration,
        "talk_time": record.talk_time,
        "status": record.status.value if record.status else None,
        "contact_id": record.contact_id,
        "contact_name": record.contact_name,
        "manager_employee_id": record.manager_employee_id,
        "manager_name": record.manager_name,
        "recording_url": record.recording_url,
        "utm": record.utm.model_dump(),
        "comment": record.comment,
        "version": record.version,
    }


def contact_view(contact: Contact) -> dict[str, Any]:
    return {
        "contact_id": contact.contact_id,
        "phone": contact.phone,
        "name": contact.name,
        "responsible_employee_id": contact.responsible_employee_id,
        "manager_name": contact.manager_name,
        "open_card_id": contact.open_card_id,
        "last_calls": contact.last_calls,
    }


def parse_if_match(header: str | None, source: str = "GET /calls/{id}") -> int | None:
    """``If-Match: "3"`` (or ``W/"3"``) -> 3; ``*`` -> None (any version); absent -> 428."""
    if not header:
        raise PreconditionRequired(f"If-Match is required: send the ETag of {source}")
    value = header.strip()
    if value == "*":
        return None
    match = re.fullmatch(r'(?:W/)?"?([0-9]{1,12})"?', value)
    if match is None:
        raise InvalidInput(f"invalid header 'If-Match': give the ETag of {source}, e.g. \"3\"")
    return int(match.group(1))


def card_view(card: dict[str, Any]) -> dict[str, Any]:
    """A funnel card of the built-in store as the CRM sees it (F1-F3)."""
    return {
        "card_id": card["card_id"],
        "phone": card.get("phone"),
        "contact_id": card.get("contact_id"),
        "funnel_id": card.get("funnel_id"),
        "title": card.get("title"),
        "status": card_status(card),
        "active": bool(card.get("active")),
        "manager_employee_id": card.get("manager_employee_id"),
        "manager_name": card.get("manager_name"),
        "call_id": card.get("call_id"),
        "summary": card.get("summary"),
        "created_at": card.get("created_at"),
        "closed_at": card.get("closed_at"),
        "version": int(card.get("version", 0)),
    }


def task_view(task: dict[str, Any]) -> dict[str, Any]:
    """A call-back task of the built-in store (T1)."""
    return {
        "task_id": task["task_id"],
        "phone": task.get("phone"),
        "contact_id": task.get("contact_id"),
        "assignee_employee_id": task.get("assignee_employee_id"),
        "assignee_name": task.get("assignee_name"),
        "text": task.get("text"),
        "status": task.get("status"),
        "due_at": task.get("due_at"),
        "call_id": task.get("call_id"),
        "created_at": task.get("created_at"),
        "closed_at": task.get("closed_at"),
        "closed_by_call_id": task.get("closed_by_call_id"),
        "version": int(task.get("version", 0)),
    }


def contact_list_view(item: dict[str, Any]) -> dict[str, Any]:
    """A contact in a listing (the ``by_name`` index's projection: no last calls)."""
    return {
        "contact_id": item.get("contact_id"),
        "phone": item["phone"],
        "name": item.get("name"),
        "responsible_employee_id": item.get("responsible_employee_id"),
        "manager_name": item.get("manager_name"),
        "open_card_id": item.get("open_card_id"),
        "open_task_id": item.get("open_task_id"),
        "created_at": item.get("created_at"),
    }
