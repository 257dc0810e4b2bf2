"""What the CRM-facing API shows of a call and a contact, and how it reads ``If-Match``."""

from __future__ import annotations

import re
from typing import Any

from ringbridge.domain.calls import CallRecord
from ringbridge.domain.contacts import Contact
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


def parse_if_match(header: str | None) -> int | None:
    """``If-Match: "3"`` (or ``W/"3"``) -> 3; ``*`` -> None (any version); absent -> 428."""
    if not header:
        raise PreconditionRequired("If-Match is required: send the ETag of GET /calls/{id}")
    value = header.strip()
    if value == "*":
        return None
    match = re.fullmatch(r'(?:W/)?"?([0-9]{1,12})"?', value)
    if match is None:
        raise InvalidInput("invalid header 'If-Match': give the ETag of GET /calls/{id}, e.g. \"3\"")
    return int(match.group(1))
