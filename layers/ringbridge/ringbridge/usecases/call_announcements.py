"""Call events for automations (A1): every moment of a call, published once to the stack's event bus.

The detail-type names the moment (``ringbridge.call.after_call``); the detail carries what an
automation filters on and copies: direction, status, numbers in E.164, manager, contact, UTM,
recording. An EventBridge rule (``NotifyOn``) can forward them to a webhook.
"""

from __future__ import annotations

from typing import Any, Protocol

from ringbridge.domain.calls import CallRecord
from ringbridge.domain.employees import Employee

SOURCE = "ringbridge"
DETAIL_TYPE_PREFIX = "ringbridge.call."
# How long "this moment of this call was published" is remembered (a replay within it publishes nothing).
ANNOUNCED_SECONDS = 14 * 24 * 3600


class CallEventBus(Protocol):
    def publish(self, detail_type: str, detail: dict[str, Any]) -> None: ...


def announcement_key(call_id: str, moment: str) -> str:
    return f"announced#{call_id}#{moment}"


def call_event(call: CallRecord, moment: str, manager: Employee | None) -> tuple[str, dict[str, Any]]:
    """The detail-type and detail of one moment of ``call``."""
    detail: dict[str, Any] = {
        "call_id": call.call_id,
        "moment": moment,
        "direction": call.direction.value if call.direction else None,
        "status": call.status.value if call.status else None,
        "answered": call.answered,
        "other_party": call.other_party,
        "tracking_number": call.tracking_number,
        "started_at": call.started_at,
        "duration": call.duration,
        "talk_time": call.talk_time,
        "manager": (
            {"employee_id": manager.employee_id, "name": manager.name, "ringostat_employee_id": manager.ringostat_employee_id}
            if manager
            else None
        ),
        "contact": {"contact_id": call.contact_id, "name": call.contact_name} if call.contact_id else None,
        "utm": call.utm.model_dump(exclude_none=True),
        "keyword": call.keyword,
        "recording_url": call.recording_url,
    }
    return DETAIL_TYPE_PREFIX + moment, detail
