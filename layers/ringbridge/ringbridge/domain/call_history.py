"""The call history as the CRM reads it (L1, L2): filters, time range, pages, and the call's public view.

A listing is one DynamoDB Query per index partition: by the other party's number, by
contact, by manager, or day by day over a bounded range. ``parse_call_query`` turns the
query string into a :class:`CallQuery` (or ``InvalidInput`` naming the field); the
storage walks it and hands back a :class:`Cursor` for the next page.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ringbridge.domain.calls import CallRecord, CallStatus, Direction
from ringbridge.domain.errors import InvalidInput
from ringbridge.domain.phones import normalize_phone

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
DEFAULT_RANGE_DAYS = 7
MAX_RANGE_DAYS = 31
MAX_CURSOR_LENGTH = 2048
MAX_COMMENT_LENGTH = 2000
_IDENTIFIER = re.compile(r"^[A-Za-z0-9_.:@\-]{1,128}$")
_FILTERS = ("phone", "contact_id", "manager", "direction", "status", "from", "to", "limit", "cursor")
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

# index name -> the attribute it is partitioned by (all are sorted by ``started_at``)
INDEX_KEYS = {
    "by_other_party": "other_party",
    "by_contact": "contact_id",
    "by_manager": "manager_employee_id",
    "by_day": "call_day",
}


class Cursor(BaseModel):
    """Where the next page starts: a partition (``day`` for by-day listings) and DynamoDB's last key."""

    model_config = ConfigDict(frozen=True)

    day: str | None = None
    last_key: dict[str, str] | None = None

    def encode(self) -> str:
        compact: dict[str, Any] = {"k": self.last_key}
        if self.day is not None:
            compact["d"] = self.day
        raw = json.dumps(compact, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class CallQuery(BaseModel):
    model_config = ConfigDict(frozen=True)

    index: str
    key_value: str | None = None  # the partition for keyed indexes
    days: list[str] = Field(default_factory=list)  # by_day: newest first
    start: str | None = None
    end: str | None = None
    filters: dict[str, str] = Field(default_factory=dict)  # attribute -> required value
    limit: int = DEFAULT_PAGE_SIZE
    cursor: Cursor | None = None

    @property
    def key_attribute(self) -> str:
        return INDEX_KEYS[self.index]


def _time(field: str, value: str, end_of_day: bool) -> datetime:
    text = value.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
            if end_of_day:
                moment += timedelta(days=1, seconds=-1)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"invalid field '{field}': {text[:40]!r} is not an ISO 8601 date or date-time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    if not 2000 <= moment.year <= 2100:
        raise InvalidInput(f"invalid field '{field}': out of range (years 2000-2100)")
    return moment


def _one_value(params: dict[str, str], field: str) -> str | None:
    value = params.get(field)
    if value is None:
        return None
    if "," in value and field not in ("from", "to"):
        raise InvalidInput(f"invalid field '{field}': give it once")
    return value


def decode_cursor(raw: str) -> Cursor:
    if len(raw) > MAX_CURSOR_LENGTH:
        raise InvalidInput("invalid field 'cursor': too long")
    try:
        data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError):
        raise InvalidInput("invalid field 'cursor': not a cursor from this API") from None
    if not isinstance(data, dict) or set(data) - {"k", "d"}:
        raise InvalidInput("invalid field 'cursor': not a cursor from this API")
    last_key, day = data.get("k"), data.get("d")
    valid_key = last_key is None or (
        isinstance(last_key, dict)
        and all(isinstance(k, str) and isinstance(v, str) and 0 < len(v) <= 256 for k, v in last_key.items())
    )
    if not valid_key or not (day is None or isinstance(day, str)):
        raise InvalidInput("invalid field 'cursor': not a cursor from this API")
    return Cursor(day=day, last_key=last_key)


def _keys_and_filters(values: dict[str, str | None], default_country: str) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """The partition keys given (index, value) and the equality filters on other attributes."""
    filters: dict[str, str] = {}
    keyed: list[tuple[str, str]] = []
    if values["phone"] is not None:
        try:
            keyed.append(("by_other_party", normalize_phone(values["phone"], default_country)))
        except InvalidInput as error:
            raise InvalidInput(f"invalid field 'phone': {error.reason}") from None
    for field, index in (("contact_id", "by_contact"), ("manager", "by_manager")):
        value = values[field]
        if value is not None:
            if not _IDENTIFIER.match(value):
                raise InvalidInput(f"invalid field '{field}': letters, digits and _.:@- only, at most 128")
            keyed.append((index, value))
    # The first given key picks the index; the others narrow it as filters.
    for index, value in keyed[1:]:
        filters[INDEX_KEYS[index]] = value
    if values["direction"] is not None:
        try:
            filters["direction"] = Direction(values["direction"]).value
        except ValueError:
            raise InvalidInput("invalid field 'direction': one of incoming, outgoing") from None
    if values["status"] is not None:
        try:
            filters["status"] = CallStatus(values["status"]).value
        except ValueError:
            choices = ", ".join(status.value for status in CallStatus)
            raise InvalidInput(f"invalid field 'status': one of {choices}") from None
    return keyed, filters


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_PAGE_SIZE
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise InvalidInput(f"invalid field 'limit': a whole number from 1 to {MAX_PAGE_SIZE}")
    return int(raw)


def parse_call_query(params: dict[str, str], default_country: str, now: datetime | None = None) -> CallQuery:
    """The query string of ``GET /calls`` as a :class:`CallQuery`; ``InvalidInput`` names the bad field."""
    unknown = sorted(set(params) - set(_FILTERS))
    if unknown:
        raise InvalidInput(f"invalid field '{unknown[0][:40]}': unknown filter; use {', '.join(_FILTERS)}")
    values = {field: _one_value(params, field) for field in _FILTERS}
    keyed, filters = _keys_and_filters(values, default_country)
    limit = _limit(values["limit"])
    start = _time("from", values["from"], end_of_day=False) if values["from"] is not None else None
    end = _time("to", values["to"], end_of_day=True) if values["to"] is not None else None
    if start and end and start > end:
        raise InvalidInput("invalid field 'from': later than 'to'")

    cursor = decode_cursor(values["cursor"]) if values["cursor"] is not None else None
    if keyed:
        index, key_value = keyed[0]
        query = CallQuery(
            index=index,
            key_value=key_value,
            start=start.strftime(_TIME_FORMAT) if start else None,
            end=end.strftime(_TIME_FORMAT) if end else None,
            filters=filters,
            limit=limit,
            cursor=cursor,
        )
    else:
        end = end or (now or datetime.now(UTC)).replace(microsecond=0)
        start = start or end - timedelta(days=DEFAULT_RANGE_DAYS)
        if end - start > timedelta(days=MAX_RANGE_DAYS):
            raise InvalidInput(
                f"invalid field 'from': a range longer than {MAX_RANGE_DAYS} days needs a phone, contact_id or manager"
            )
        days = []
        day = end.date()
        while day >= start.date():
            days.append(day.isoformat())
            day -= timedelta(days=1)
        query = CallQuery(
            index="by_day",
            days=days,
            start=start.strftime(_TIME_FORMAT),
            end=end.strftime(_TIME_FORMAT),
            filters=filters,
            limit=limit,
            cursor=cursor,
        )
    if cursor is not None:
        _check_cursor(query, cursor)
    return query


def _check_cursor(query: CallQuery, cursor: Cursor) -> None:
    """A cursor must belong to the same listing: DynamoDB rejects a start key from another partition."""
    bad = InvalidInput("invalid field 'cursor': it belongs to another listing; start again without it")
    partition = query.key_attribute
    expected_partition: str | None
    if query.index == "by_day":
        if cursor.day not in query.days:
            raise bad
        expected_partition = cursor.day
    else:
        if cursor.day is not None:
            raise bad
        expected_partition = query.key_value
    if cursor.last_key is None:
        if query.index != "by_day":
            raise bad
        return
    if set(cursor.last_key) != {"call_id", "started_at", partition} or cursor.last_key[partition] != expected_partition:
        raise bad


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


class CommentChange(BaseModel):
    """The body of ``PATCH /calls/{id}`` (L3): the comment, or null to clear it."""

    model_config = ConfigDict(extra="forbid")

    comment: str | None = Field(max_length=MAX_COMMENT_LENGTH)


def parse_if_match(header: str | None) -> int | None:
    """``If-Match: "3"`` (or ``W/"3"``) -> 3; ``*`` -> None (any version); absent -> InvalidInput."""
    value = (header or "").strip()
    if value == "*":
        return None
    match = re.fullmatch(r'(?:W/)?"?(\d{1,12})"?', value)
    if match is None:
        raise InvalidInput("invalid header 'If-Match': give the ETag of GET /calls/{id}, e.g. \"3\"")
    return int(match.group(1))
