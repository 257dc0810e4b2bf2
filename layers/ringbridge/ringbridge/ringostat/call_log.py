"""Ringostat's call log (``GET /calls/list``) read as call events, for reconciliation (L1).

A call-log row says what an after-call webhook would have said, under the call log's
names (``uniqueid``, ``calldate``, ``caller``, ``dst``, ``call_type``, ``disposition``,
``billsec``, ``waittime``, ``connected_with``, ``employee_number``, ``recording``; §3.3 of
the reference, the official sample). Each row becomes the :class:`CallEvent` the webhook
parser makes of it, as the call's end (``after_call`` / ``after_outgoing``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ringbridge.domain.calls import CallEvent, Moment
from ringbridge.domain.errors import InvalidInput
from ringbridge.ringostat.client import RingostatClient
from ringbridge.ringostat.webhook import parse_call_event

# Rows of calls still going on: the next run (its window overlaps) reads them finished.
_NOT_OVER = {"in progress", "calling", "connected"}
_TRANSIT = {"transitin": "in", "transitout": "out"}
_NONE = ("", "-1", "0", "None", "null")


@dataclass
class CallLogPage:
    events: list[CallEvent] = field(default_factory=list)
    rows: int = 0
    in_progress: int = 0
    invalid: int = 0


def row_to_event(row: dict[str, Any], default_country: str, timezone: str) -> CallEvent | None:
    """One call-log row as a call event; None while the call is still going on. Raises InvalidInput."""
    status = str(row.get("disposition") or "").strip().lower()
    if status in _NOT_OVER:
        return None
    direction = str(row.get("call_type") or "").strip().lower()
    payload: dict[str, Any] = {
        key: value
        for key, value in row.items()
        if key not in ("recording", "recording_wav", "employee_number", "call_type", "has_recording", "call_card")
        and value not in (None, "")
    }
    payload["call_type"] = _TRANSIT.get(direction, direction)
    if str(row.get("employee_number", "")).strip() not in _NONE:
        payload["employee_id"] = str(row["employee_number"]).strip()
    recording = str(row.get("recording") or "").strip()
    if recording and str(row.get("has_recording", "1")).strip() not in ("0", "false"):
        payload["recording_url"] = recording
    moment = Moment.AFTER_OUTGOING if payload["call_type"] == "out" else Moment.AFTER_CALL
    return parse_call_event(payload, default_country, timezone, moment=moment)


@dataclass
class RingostatCallLog:
    """The ``CallLog`` port on Ringostat's REST API."""

    client: RingostatClient
    default_country: str
    timezone: str

    @property
    def requests_made(self) -> int:
        return self.client.requests_made

    def pages(self, start: datetime, end: datetime) -> Iterator[CallLogPage]:
        for rows in self.client.calls_between(start, end):
            page = CallLogPage(rows=len(rows))
            for row in rows:
                try:
                    event = row_to_event(row, self.default_country, self.timezone)
                except InvalidInput:
                    page.invalid += 1
                    continue
                if event is None:
                    page.in_progress += 1
                else:
                    page.events.append(event)
            yield page
