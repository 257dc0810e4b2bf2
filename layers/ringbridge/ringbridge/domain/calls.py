"""Calls (L1-L4) in ringbridge's own words: one record per call, merged from its events.

Events about one call arrive in any order and more than once: ``merge`` folds each into
the record so that a later event never erases what an earlier one set, and a replay
changes nothing. What Ringostat calls these things (parameter names, status words,
date formats) is translated in ``ringbridge.ringostat.webhook``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ringbridge.domain.errors import PayloadTooLarge

# A call id: Ringostat's ``uniqueid`` (digits and dots) or an id of ours; the one pattern for every route.
CALL_ID_PATTERN = r"^[A-Za-z0-9_.:\-]{1,128}$"
# The unknown parameters kept on one call, all its events together (L2): a record stays far below 400 KB.
MAX_EXTRA_FIELDS = 50
MAX_EXTRA_BYTES = 16_384


def check_extra(extra: dict[str, str]) -> None:
    """L2: what a call keeps of unknown parameters is bounded in count and size (413 with the reason)."""
    if len(extra) > MAX_EXTRA_FIELDS:
        raise PayloadTooLarge(f"too many unknown fields on this call (more than {MAX_EXTRA_FIELDS})")
    size = sum(len(key.encode()) + len(value.encode()) for key, value in extra.items())
    if size > MAX_EXTRA_BYTES:
        raise PayloadTooLarge(f"unknown fields on this call take more than {MAX_EXTRA_BYTES} bytes")


class Direction(StrEnum):
    INCOMING = "incoming"
    OUTGOING = "outgoing"


class CallStatus(StrEnum):
    ANSWERED = "answered"
    MISSED = "missed"
    BUSY = "busy"
    FAILED = "failed"
    VOICEMAIL = "voicemail"
    IN_PROGRESS = "in_progress"
    OTHER = "other"


class Moment(StrEnum):
    """When Ringostat sent the event (the admin's choice per webhook), in call order."""

    BEFORE_CALL = "before_call"
    CALL_TAKEN = "call_taken"
    FORWARDING = "forwarding"
    AFTER_CALL = "after_call"
    AFTER_RATING = "after_rating"
    BEFORE_OUTGOING = "before_outgoing"
    AFTER_OUTGOING = "after_outgoing"
    RECORDING = "recording"

    @property
    def rank(self) -> int:
        return _MOMENT_RANK[self]

    @property
    def ends_call(self) -> bool:
        return self in (Moment.AFTER_CALL, Moment.AFTER_RATING, Moment.AFTER_OUTGOING)


_MOMENT_RANK = {
    Moment.BEFORE_CALL: 1,
    Moment.BEFORE_OUTGOING: 1,
    Moment.CALL_TAKEN: 2,
    Moment.FORWARDING: 2,
    Moment.AFTER_CALL: 3,
    Moment.AFTER_OUTGOING: 3,
    Moment.AFTER_RATING: 4,
    Moment.RECORDING: 0,  # carries only the recording link
}


class Utm(BaseModel):
    model_config = ConfigDict(frozen=True)

    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    term: str | None = None
    content: str | None = None


class SyncFailure(BaseModel):
    """One CRM step the CRM refused for good (a 4xx): kept on the call, the rest of the call went through."""

    step: str
    reason: str
    at: str


class CallFacts(BaseModel):
    """What Ringostat tells about a call: carried by each event, merged on the record."""

    call_id: str
    direction: Direction | None = None
    tracking_number: str | None = None
    employee_id: str | None = None
    sip_account: str | None = None
    fmc_number: str | None = None
    status: CallStatus | None = None
    raw_status: str | None = None
    started_at: str | None = None
    duration: int | None = None
    talk_time: int | None = None
    wait_time: int | None = None
    recording_url: str | None = None
    utm: Utm = Field(default_factory=Utm)
    keyword: str | None = None
    landing_page: str | None = None
    project_id: str | None = None
    extra: dict[str, str] = Field(default_factory=dict)


class CallEvent(CallFacts):
    """One webhook delivery, parsed and normalised (numbers in E.164, words in enums)."""

    model_config = ConfigDict(frozen=True)

    moment: Moment
    client_phone: str | None = None
    # Read from Ringostat's call log (reconciliation, L1) rather than sent by a webhook.
    imported: bool = False


class CallRecord(CallFacts):
    """The one record of a call (L2), merged from every event about it."""

    model_config = ConfigDict(extra="ignore")

    other_party: str | None = None
    call_day: str | None = None
    # True while started_at is only when ringbridge first heard of the call (no event carried it yet).
    started_at_estimated: bool = False
    moments: list[str] = Field(default_factory=list)
    moment_rank: int = 0
    # The call was first heard of from Ringostat's call log, not a webhook: its CRM work is the
    # installation's choice (call_rules.imported_call_work). Set when the record is created, never after.
    imported: bool = False
    # Set by the CRM sync (the call's place in the CRM):
    contact_id: str | None = None
    contact_name: str | None = None
    manager_employee_id: str | None = None
    manager_name: str | None = None
    comment: str | None = None
    # CRM steps refused for good (one entry per step, the latest refusal).
    sync_failures: list[SyncFailure] = Field(default_factory=list)
    # The CRM steps done for this call (step -> what it made, e.g. the card's id), and when the
    # whole sync finished: a retry or replay reads them with the call and redoes only what is missing.
    sync_steps: dict[str, str] = Field(default_factory=dict)
    synced_at: str | None = None
    version: int = 0

    @property
    def answered(self) -> bool:
        """Answered by status word, or by talk time as Ringostat's own integrations judge it."""
        return self.status is CallStatus.ANSWERED or bool(self.talk_time)

    @property
    def ended(self) -> bool:
        return any(Moment(moment).ends_call for moment in self.moments)


# Fields whose value depends on when in the call it was read: the latest moment wins.
_PROGRESSING = ("status", "raw_status", "duration", "talk_time", "wait_time", "employee_id", "sip_account", "fmc_number")
# Fields that describe the call itself: the first value stays.
_FIXED = ("direction", "other_party", "tracking_number", "started_at", "keyword", "landing_page", "project_id")


def merge(record: CallRecord | None, event: CallEvent, received_at: str) -> CallRecord:
    """Fold ``event`` into ``record``: nothing set is ever erased, a replay changes nothing.

    A field that describes the call (direction, number, start) keeps its first value; a
    field that progresses (status, durations, who took the call) takes the value of the
    latest moment, so a late "call taken" cannot overwrite the final status.
    """
    current = record or CallRecord(call_id=event.call_id)
    values = current.model_dump()
    incoming: dict[str, Any] = {
        "direction": event.direction,
        "other_party": event.client_phone,
        "tracking_number": event.tracking_number,
        "started_at": event.started_at,
        "keyword": event.keyword,
        "landing_page": event.landing_page,
        "project_id": event.project_id,
        "status": event.status,
        "raw_status": event.raw_status,
        "duration": event.duration,
        "talk_time": event.talk_time,
        "wait_time": event.wait_time,
        "employee_id": event.employee_id,
        "sip_account": event.sip_account,
        "fmc_number": event.fmc_number,
    }
    latest = event.moment.rank >= current.moment_rank
    if current.started_at_estimated and event.started_at:
        values["started_at"], values["started_at_estimated"] = None, False
    for field in _FIXED:
        if values[field] is None and incoming[field] is not None:
            values[field] = incoming[field]
    for field in _PROGRESSING:
        if incoming[field] is not None and (values[field] is None or latest):
            values[field] = incoming[field]
    if event.recording_url:
        values["recording_url"] = event.recording_url
    utm = current.utm.model_dump()
    for key, value in event.utm.model_dump().items():
        if utm[key] is None and value is not None:
            utm[key] = value
    values["utm"] = utm
    values["extra"] = {**event.extra, **current.extra}
    if values["extra"] != current.extra:  # a record stored before the bound still takes events that add nothing
        check_extra(values["extra"])
    if event.moment.value not in values["moments"]:
        values["moments"] = sorted([*values["moments"], event.moment.value])
    values["moment_rank"] = max(current.moment_rank, event.moment.rank)
    values["imported"] = current.imported if record is not None else event.imported
    if values["started_at"] is None and event.moment is not Moment.RECORDING:
        # Every call needs a time to be listed (L2): until Ringostat sends one, the arrival time.
        values["started_at"], values["started_at_estimated"] = received_at, True
    if values["started_at"]:
        values["call_day"] = values["started_at"][:10]
    return CallRecord.model_validate(values)
