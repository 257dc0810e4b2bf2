"""Ringostat's webhooks, read into ringbridge's :class:`~ringbridge.domain.calls.CallEvent`.

Ringostat's webhooks carry whatever parameters the admin configured, under names the
admin typed. ringbridge publishes its own parameter names (docs/operating.md) and also
accepts the names Ringostat's call log and public receivers use, so an existing setup
works. A new webhook field is added here: its aliases in ``FIELD_ALIASES``, its reading
in ``parse_call_event``, its place on ``CallFacts`` (domain/calls.py).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from ringbridge.domain.calls import CALL_ID_PATTERN, CallEvent, CallStatus, Direction, Moment, Utm, check_extra
from ringbridge.domain.errors import InvalidInput
from ringbridge.domain.phones import Party, normalize_phone, parse_party

MAX_FIELD_LENGTH = 2048

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
    # userfield: the caller under Webhooks 2.0's additional_call_data (public receivers read it there).
    "caller": ("caller", "caller_number", "from", "callerId", "number_e164", "userfield"),
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
_CALL_ID = re.compile(CALL_ID_PATTERN)


NESTED = "additional_call_data"


def flatten_nested(payload: dict[str, Any]) -> dict[str, Any]:
    """Fields nested under ``additional_call_data`` (an object, or an object written as JSON text) read
    as if they were at the root; a root field of the same name wins (public Webhooks 2.0 receivers
    read "from root or from additional_call_data")."""
    nested = payload.get(NESTED)
    if isinstance(nested, str) and nested.strip().startswith("{") and len(nested) <= MAX_FIELD_LENGTH * 8:
        try:
            nested = json.loads(nested)
        except ValueError:
            nested = None
    root = {key: value for key, value in payload.items() if key != NESTED}
    if not isinstance(nested, dict):
        return root
    lowered = {key.lower() for key in root}
    inner = {
        key: value
        for key, value in nested.items()
        if isinstance(key, str) and key.lower() not in lowered and (value is None or isinstance(value, (str, int, float)))
    }
    return {**inner, **root}


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
        if field == "call_id" and isinstance(value, float):
            raise InvalidInput(f"invalid field '{key}': send an id as a string, not a fractional number")
        text = str(value).strip()
        if len(text) > MAX_FIELD_LENGTH:
            raise InvalidInput(f"invalid field '{key}': longer than {MAX_FIELD_LENGTH} characters")
        if not text.isprintable():
            raise InvalidInput(f"invalid field '{key}': control characters are not allowed")
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
    if text.isascii() and text.isdigit():  # "²".isdigit() is True, int("²") is not
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
    try:
        parsed = urlparse(value)
        parsed.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise InvalidInput("invalid field 'recording_url': must be an https URL") from None
    if parsed.scheme != "https" or not parsed.hostname or any(ch.isspace() for ch in value):
        raise InvalidInput("invalid field 'recording_url': must be an https URL")
    if "@" in parsed.netloc:
        raise InvalidInput("invalid field 'recording_url': credentials (user:password@) are not allowed in the URL")
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


def _fields(payload: dict[str, Any]) -> dict[str, str | None]:
    """Every field of ``FIELD_ALIASES``, read under whichever name the admin used."""
    return {field: _pick(payload, field) for field in FIELD_ALIASES}


def _call_id(get: dict[str, str | None]) -> str:
    call_id = get["call_id"]
    if call_id is None:
        raise InvalidInput("missing field 'call_id'")
    if not _CALL_ID.match(call_id):
        raise InvalidInput("invalid field 'call_id': letters, digits and _.:- only, at most 128")
    return call_id


def _moment(get: dict[str, str | None], moment: Moment | None) -> Moment:
    if moment is not None:
        return moment
    if get["event"] is None:
        raise InvalidInput("missing field 'event'")
    return parse_moment(get["event"])


class _Parties:
    """Who is who in a call: the client, the company's tracking number, the employee's SIP account or FMC number."""

    def __init__(self, get: dict[str, str | None], direction: Direction | None, moment: Moment, country: str) -> None:
        caller = _party_field("caller", get["caller"], country)
        _party_field("callee", get["callee"], country)
        client_raw, tracking_raw, employee_party = None, None, None
        if direction is Direction.INCOMING:
            client_raw, tracking_raw = get["caller"], get["callee"]
        elif direction is Direction.OUTGOING:
            client_raw, employee_party = get["callee"], caller
            if caller is not None and caller.is_phone and not get["sip_account"]:
                tracking_raw = get["caller"]  # an outgoing call shown from a company number
                employee_party = None
        client_field = "caller" if direction is Direction.INCOMING else "callee"
        self.client_phone = _phone_field(client_field, client_raw, country)
        if self.client_phone is None and direction is not None and moment is not Moment.RECORDING:
            raise InvalidInput(f"missing field '{client_field}'")
        tracking_party = _party_field("callee" if direction is Direction.INCOMING else "caller", tracking_raw, country)
        self.tracking_number = tracking_party.phone if tracking_party else None

        self.sip_account = get["sip_account"]
        self.fmc_number = _phone_field("fmc_number", get["fmc_number"], country)
        for party in (employee_party, _party_field("connected_with", get["connected_with"], country)):
            if party is None:
                continue
            if party.sip_login and not self.sip_account:
                self.sip_account = party.sip_login
            elif party.phone and not self.fmc_number and party.phone != self.client_phone:
                self.fmc_number = party.phone


def _extra(payload: dict[str, Any]) -> dict[str, str]:
    """Parameters ringbridge does not know, kept on the call as they came (bounded)."""
    extra = {
        key: str(value)[:MAX_FIELD_LENGTH]
        for key, value in payload.items()
        if key.lower() not in _KNOWN_NAMES and isinstance(value, (str, int, float)) and not isinstance(value, bool)
    }
    check_extra(extra)
    return extra


def _seconds(get: dict[str, str | None], field: str) -> int | None:
    value = get[field]
    return parse_seconds(field, value) if value else None


def parse_call_event(payload: dict[str, Any], default_country: str, timezone: str, moment: Moment | None = None) -> CallEvent:
    """Turn one webhook's parameters into a :class:`CallEvent` or raise ``InvalidInput`` naming the field."""
    payload = flatten_nested(payload)
    get = _fields(payload)
    call_id = _call_id(get)
    moment = _moment(get, moment)
    direction = parse_direction(get["direction"]) if get["direction"] else None
    if direction is None and moment is not Moment.RECORDING:
        raise InvalidInput("missing field 'direction'")
    parties = _Parties(get, direction, moment, default_country)
    recording = validate_recording_url(get["recording_url"]) if get["recording_url"] else None
    if moment is Moment.RECORDING and recording is None:
        raise InvalidInput("missing field 'recording_url'")
    return CallEvent(
        call_id=call_id,
        moment=moment,
        direction=direction,
        client_phone=parties.client_phone,
        tracking_number=parties.tracking_number,
        employee_id=get["employee_id"],
        sip_account=parties.sip_account,
        fmc_number=parties.fmc_number,
        status=parse_status(get["status"]) if get["status"] else None,
        raw_status=get["status"],
        started_at=parse_timestamp(get["started_at"], timezone) if get["started_at"] else None,
        duration=_seconds(get, "duration"),
        talk_time=_seconds(get, "talk_time"),
        wait_time=_seconds(get, "wait_time"),
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
        extra=_extra(payload),
    )
