"""Calls (SPEC L1-L4): Ringostat's events about one call, merged into one call record.

Ringostat's webhooks carry whatever parameters the admin configured, under names the
admin typed. ringbridge publishes its own parameter names (README) and also accepts
the names Ringostat's call log and public receivers use, so an existing setup works.
Events about one call arrive in any order and more than once: ``merge`` folds each
into the record so that a later event never erases what an earlier one set, and a
replay changes nothing.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from ringbridge.domain.errors import InvalidInput
from ringbridge.domain.phones import Party, normalize_phone, parse_party

MAX_FIELD_LENGTH = 2048
MAX_EXTRA_FIELDS = 50


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

_MOMENT_WORDS = {
    "before_call": Moment.BEFORE_CALL,
    "before": Moment.BEFORE_CALL,
    "prior_to_call": Moment.BEFORE_CALL,
    "call_start": Moment.BEFORE_CALL,
    "call_taken": Moment.CALL_TAKEN,
    "taken": Moment.CALL_TAKEN,
    "answer": Moment.CALL_TAKEN,
    "pickup": Moment.CALL_TAKEN,
    "forwarding": Moment.FORWARDING,
    "forward_location": Moment.FORWARDING,
    "after_call": Moment.AFTER_CALL,
    "after": Moment.AFTER_CALL,
    "call_end": Moment.AFTER_CALL,
    "after_rating": Moment.AFTER_RATING,
    "after_call_rating": Moment.AFTER_RATING,
    "before_outgoing": Moment.BEFORE_OUTGOING,
    "before_outgoing_call": Moment.BEFORE_OUTGOING,
    "after_outgoing": Moment.AFTER_OUTGOING,
    "after_outgoing_call": Moment.AFTER_OUTGOING,
    "recording": Moment.RECORDING,
}

_DIRECTION_WORDS = {
    "in": Direction.INCOMING,
    "incoming": Direction.INCOMING,
    "inbound": Direction.INCOMING,
    "callback": Direction.INCOMING,  # Ringostat counts callbacks as incoming
    "out": Direction.OUTGOING,
    "outgoing": Direction.OUTGOING,
    "outbound": Direction.OUTGOING,
}

_STATUS_WORDS = {
    "answered": CallStatus.ANSWERED,
    "proper": CallStatus.ANSWERED,
    "repeated": CallStatus.ANSWERED,
    "repeat call": CallStatus.ANSWERED,
    "no answer": CallStatus.MISSED,
    "noanswer": CallStatus.MISSED,
    "no_answer": CallStatus.MISSED,
    "missed": CallStatus.MISSED,
    "no forward": CallStatus.MISSED,
    "client no answer": CallStatus.MISSED,
    "busy": CallStatus.BUSY,
    "failed": CallStatus.FAILED,
    "no extension": CallStatus.FAILED,
    "wrong extension": CallStatus.FAILED,
    "forbidden destination": CallStatus.FAILED,
    "voicemail": CallStatus.VOICEMAIL,
    "in progress": CallStatus.IN_PROGRESS,
    "calling": CallStatus.IN_PROGRESS,
    "connected": CallStatus.IN_PROGRESS,
}

# ringbridge's parameter name -> other names accepted for it (first match wins).
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "call_id": ("call_id", "uniqueid", "cdr_id"),
    "event": ("event", "moment"),
    "direction": ("direction", "call_type", "type"),
    "caller": ("caller", "caller_number", "from", "callerId", "number_e164"),
    "callee": ("callee", "dst", "destination", "to"),
    "employee_id": ("employee_id", "staffid", "ringostat_employee_id"),
    "sip_account": ("sip_account", "employee_sip", "extension", "employee_estension", "employee_extension"),
    "fmc_number": ("fmc_number", "employee_fmc"),
    "connected_with": ("connected_with",),
    "status": ("status", "disposition", "call_status"),
    "started_at": ("started_at", "calldate", "call_date", "date", "call_timestamp"),
    "duration": ("duration", "call_duration", "duration_call"),
    "talk_time": ("talk_time", "billsec", "dialog", "duration_conversation"),
    "wait_time": ("wait_time", "waittime", "waiting", "duration_waiting"),
    "recording_url": ("recording_url", "recording", "recording_wav", "record_url"),
    "utm_source": ("utm_source", "source"),
    "utm_medium": ("utm_medium", "medium"),
    "utm_campaign": ("utm_campaign", "campaign"),
    "utm_term": ("utm_term", "term"),
    "utm_content": ("utm_content", "content"),
    "keyword": ("keyword",),
    "landing_page": ("landing_page", "landing"),
    "project_id": ("project_id",),
}
_KNOWN_NAMES = {name.lower() for names in FIELD_ALIASES.values() for name in names} | {"token"}
_IDENTIFIER = re.compile(r"^[A-Za-z0-9_.:\-]{1,128}$")


class Utm(BaseModel):
    model_config = ConfigDict(frozen=True)

    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    term: str | None = None
    content: str | None = None


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


def _pick(payload: dict[str, Any], field: str) -> str | None:
    lowered = {key.lower(): key for key in payload}
    for alias in FIELD_ALIASES[field]:
        key = lowered.get(alias.lower())
        if key is None:
            continue
        value = payload[key]
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise InvalidInput(f"invalid field '{key}': expected a string or a number")
        text = str(value).strip()
        if len(text) > MAX_FIELD_LENGTH:
            raise InvalidInput(f"invalid field '{key}': longer than {MAX_FIELD_LENGTH} characters")
        if text:
            return text
    return None


def parse_direction(value: str) -> Direction:
    try:
        return _DIRECTION_WORDS[value.strip().lower()]
    except KeyError:
        raise InvalidInput(f"invalid field 'direction': {value[:40]!r} is not one of in, out, callback") from None


def parse_status(value: str) -> CallStatus:
    """Ringostat's disposition words, case-blind; an unknown word is ``other``, not an error."""
    return _STATUS_WORDS.get(" ".join(value.replace("_", " ").lower().split()), CallStatus.OTHER)


def parse_moment(value: str) -> Moment:
    try:
        return _MOMENT_WORDS[value.strip().lower().replace("-", "_").replace(" ", "_")]
    except KeyError:
        choices = ", ".join(sorted({m.value for m in Moment}))
        raise InvalidInput(f"invalid field 'event': {value[:40]!r} is not one of {choices}") from None


def parse_seconds(field: str, value: str) -> int:
    try:
        seconds = float(value)
    except ValueError:
        raise InvalidInput(f"invalid field '{field}': {value[:40]!r} is not a number of seconds") from None
    if not 0 <= seconds < 7 * 24 * 3600:
        raise InvalidInput(f"invalid field '{field}': out of range")
    return round(seconds)


def parse_timestamp(value: str, timezone: str) -> str:
    """ISO 8601 (with or without offset), ``YYYY-MM-DD HH:MM:SS`` or epoch s/ms/µs -> UTC ISO."""
    text = value.strip()
    moment: datetime
    if text.isdigit():
        number = int(text)
        for divisor in (1, 1_000, 1_000_000):
            if number / divisor < 10_000_000_000:
                moment = datetime.fromtimestamp(number / divisor, UTC)
                break
        else:
            raise InvalidInput("invalid field 'started_at': epoch out of range")
    else:
        candidate = text.replace("Z", "+00:00")
        if re.match(r".*[+-]\d{4}$", candidate):  # +0300 -> +03:00
            candidate = candidate[:-2] + ":" + candidate[-2:]
        try:
            moment = datetime.fromisoformat(candidate)
        except ValueError:
            raise InvalidInput(f"invalid field 'started_at': {text[:40]!r} is not a date and time") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(timezone))
    if not datetime(2000, 1, 1, tzinfo=UTC) <= moment <= datetime.now(UTC) + timedelta(days=2):
        raise InvalidInput("invalid field 'started_at': out of range")
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def validate_recording_url(value: str) -> str:
    """L4: a recording link must be an https URL (it carries Ringostat's token)."""
    parsed = urlparse(value)
    if parsed.scheme != "https" or not parsed.netloc or any(ch.isspace() for ch in value):
        raise InvalidInput("invalid field 'recording_url': must be an https URL")
    return value


def _party_field(field: str, value: str | None, country: str) -> Party | None:
    if value is None:
        return None
    try:
        return parse_party(value, country)
    except InvalidInput as error:
        raise InvalidInput(f"invalid field '{field}': {error.reason}") from None


def _phone_field(field: str, value: str | None, country: str) -> str | None:
    if value is None:
        return None
    try:
        return normalize_phone(value, country)
    except InvalidInput as error:
        raise InvalidInput(f"invalid field '{field}': {error.reason}") from None


def parse_call_event(payload: dict[str, Any], default_country: str, timezone: str, moment: Moment | None = None) -> CallEvent:
    """Turn one webhook's parameters into a :class:`CallEvent` or raise ``InvalidInput``."""
    get = {field: _pick(payload, field) for field in FIELD_ALIASES}
    call_id = get["call_id"]
    if call_id is None:
        raise InvalidInput("missing field 'call_id'")
    if not _IDENTIFIER.match(call_id):
        raise InvalidInput("invalid field 'call_id': letters, digits and _.:- only, at most 128")
    if moment is None:
        if get["event"] is None:
            raise InvalidInput("missing field 'event'")
        moment = parse_moment(get["event"])
    direction = parse_direction(get["direction"]) if get["direction"] else None
    if direction is None and moment is not Moment.RECORDING:
        raise InvalidInput("missing field 'direction'")

    caller = _party_field("caller", get["caller"], default_country)
    _party_field("callee", get["callee"], default_country)
    client_raw, tracking_raw, employee_party = None, None, None
    if direction is Direction.INCOMING:
        client_raw, tracking_raw = get["caller"], get["callee"]
    elif direction is Direction.OUTGOING:
        client_raw, employee_party = get["callee"], caller
        if caller is not None and caller.is_phone and not get["sip_account"]:
            tracking_raw = get["caller"]  # an outgoing call shown from a company number
            employee_party = None
    client_phone = _phone_field("caller" if direction is Direction.INCOMING else "callee", client_raw, default_country)
    if client_phone is None and direction is not None and moment is not Moment.RECORDING:
        raise InvalidInput(f"missing field '{'caller' if direction is Direction.INCOMING else 'callee'}'")
    tracking_party = _party_field("callee" if direction is Direction.INCOMING else "caller", tracking_raw, default_country)
    tracking = tracking_party.phone if tracking_party else None

    sip_account = get["sip_account"]
    fmc_number = _phone_field("fmc_number", get["fmc_number"], default_country)
    for party in (employee_party, _party_field("connected_with", get["connected_with"], default_country)):
        if party is None:
            continue
        if party.sip_login and not sip_account:
            sip_account = party.sip_login
        elif party.phone and not fmc_number and party.phone != client_phone:
            fmc_number = party.phone

    recording = validate_recording_url(get["recording_url"]) if get["recording_url"] else None
    if moment is Moment.RECORDING and recording is None:
        raise InvalidInput("missing field 'recording_url'")

    extra = {
        key: str(value)[:MAX_FIELD_LENGTH]
        for key, value in payload.items()
        if key.lower() not in _KNOWN_NAMES and isinstance(value, (str, int, float)) and not isinstance(value, bool)
    }
    if len(extra) > MAX_EXTRA_FIELDS:
        raise InvalidInput(f"too many unknown fields (more than {MAX_EXTRA_FIELDS})")
    return CallEvent(
        call_id=call_id,
        moment=moment,
        direction=direction,
        client_phone=client_phone,
        tracking_number=tracking,
        employee_id=get["employee_id"],
        sip_account=sip_account,
        fmc_number=fmc_number,
        status=parse_status(get["status"]) if get["status"] else None,
        raw_status=get["status"],
        started_at=parse_timestamp(get["started_at"], timezone) if get["started_at"] else None,
        duration=parse_seconds("duration", get["duration"]) if get["duration"] else None,
        talk_time=parse_seconds("talk_time", get["talk_time"]) if get["talk_time"] else None,
        wait_time=parse_seconds("wait_time", get["wait_time"]) if get["wait_time"] else None,
        recording_url=recording,
        utm=Utm(
            source=get["utm_source"],
            medium=get["utm_medium"],
            campaign=get["utm_campaign"],
            term=get["utm_term"],
            content=get["utm_content"],
        ),
        keyword=get["keyword"],
        landing_page=get["landing_page"],
        project_id=get["project_id"],
        extra=extra,
    )


class CallRecord(CallFacts):
    """The one record of a call (L2), merged from every event about it."""

    model_config = ConfigDict(extra="ignore")

    other_party: str | None = None
    call_day: str | None = None
    # True while started_at is only when ringbridge first heard of the call (no event carried it yet).
    started_at_estimated: bool = False
    moments: list[str] = Field(default_factory=list)
    moment_rank: int = 0
    # Set by the CRM sync (the call's place in the CRM):
    contact_id: str | None = None
    contact_name: str | None = None
    manager_employee_id: str | None = None
    manager_name: str | None = None
    comment: str | None = None
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
    if event.moment.value not in values["moments"]:
        values["moments"] = sorted([*values["moments"], event.moment.value])
    values["moment_rank"] = max(current.moment_rank, event.moment.rank)
    if values["started_at"] is None and event.moment is not Moment.RECORDING:
        # Every call needs a time to be listed (L2): until Ringostat sends one, the arrival time.
        values["started_at"], values["started_at_estimated"] = received_at, True
    if values["started_at"]:
        values["call_day"] = values["started_at"][:10]
    return CallRecord.model_validate(values)
