"""The call history as the CRM reads it (L1, L2): which calls, in which time range, how many per page.

``parse_call_query`` turns the query string of ``GET /calls`` into a :class:`CallQuery` (or
``InvalidInput`` naming the field). How a query is answered (indexes, pages, cursors) is
storage's business: ``ringbridge.storage.call_history``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict

from ringbridge.domain.calls import CallStatus, Direction
from ringbridge.domain.errors import InvalidInput
from ringbridge.domain.phones import normalize_phone

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
DEFAULT_RANGE_DAYS = 7
MAX_RANGE_DAYS = 31
MAX_CURSOR_LENGTH = 2048
_IDENTIFIER = re.compile(r"^[A-Za-z0-9_.:@\-]{1,128}$")
_FILTERS = ("phone", "contact_id", "manager", "direction", "status", "from", "to", "limit", "cursor")
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def _time(field: str, value: str, end_of_day: bool) -> datetime:
    text = value.strip()
    try:
        if not text.isascii():
            raise ValueError(text)
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
            if end_of_day:
                moment += timedelta(days=1, seconds=-1)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"invalid field '{field}': {text[:40]!r} is not an ISO 8601 date or date-time") from None
    # The year is checked before any shift of zone: 9999-12-31T23:00-05:00 would overflow it.
    if not 2000 <= moment.year <= 2100:
        raise InvalidInput(f"invalid field '{field}': out of range (years 2000-2100)")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _one_value(params: dict[str, str], field: str) -> str | None:
    value = params.get(field)
    if value is None:
        return None
    if "," in value and field not in ("from", "to"):
        raise InvalidInput(f"invalid field '{field}': give it once")
    return value


class CallQuery(BaseModel):
    """Which calls: by number, contact or manager (the first given leads), narrowed by the others.

    Without a number, contact or manager the listing covers a bounded time range. ``cursor``
    is the opaque token of a previous page; the range of its listing is carried in it.
    """

    model_config = ConfigDict(frozen=True)

    phone: str | None = None
    contact_id: str | None = None
    manager: str | None = None
    direction: Direction | None = None
    status: CallStatus | None = None
    start: str | None = None  # UTC, ``YYYY-MM-DDTHH:MM:SSZ``
    end: str | None = None
    limit: int = DEFAULT_PAGE_SIZE
    cursor: str | None = None

    @property
    def keyed(self) -> bool:
        return any((self.phone, self.contact_id, self.manager))


def _identifier(field: str, value: str | None) -> str | None:
    if value is not None and not _IDENTIFIER.match(value):
        raise InvalidInput(f"invalid field '{field}': letters, digits and _.:@- only, at most 128")
    return value


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_PAGE_SIZE
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise InvalidInput(f"invalid field 'limit': a whole number from 1 to {MAX_PAGE_SIZE}")
    return int(raw)


def parse_call_query(params: dict[str, str], default_country: str, now: datetime | None = None) -> CallQuery:
    """The query string of ``GET /calls`` as a :class:`CallQuery`; ``InvalidInput`` names the bad field."""
    unknown = sorted(set(params) - set(_FILTERS))
    if unknown:
        raise InvalidInput(f"invalid field '{unknown[0][:40]}': unknown filter; use {', '.join(_FILTERS)}")
    values = {field: _one_value(params, field) for field in _FILTERS}
    phone = None
    if values["phone"] is not None:
        try:
            phone = normalize_phone(values["phone"], default_country)
        except InvalidInput as error:
            raise InvalidInput(f"invalid field 'phone': {error.reason}") from None
    direction = status = None
    if values["direction"] is not None:
        try:
            direction = Direction(values["direction"])
        except ValueError:
            raise InvalidInput("invalid field 'direction': one of incoming, outgoing") from None
    if values["status"] is not None:
        try:
            status = CallStatus(values["status"])
        except ValueError:
            choices = ", ".join(status.value for status in CallStatus)
            raise InvalidInput(f"invalid field 'status': one of {choices}") from None
    cursor = values["cursor"]
    if cursor is not None and len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidInput("invalid field 'cursor': too long")
    start = _time("from", values["from"], end_of_day=False) if values["from"] is not None else None
    end = _time("to", values["to"], end_of_day=True) if values["to"] is not None else None
    if start and end and start > end:
        raise InvalidInput("invalid field 'from': later than 'to'")
    query = CallQuery(
        phone=phone,
        contact_id=_identifier("contact_id", values["contact_id"]),
        manager=_identifier("manager", values["manager"]),
        direction=direction,
        status=status,
        limit=_limit(values["limit"]),
        cursor=cursor,
    )
    if not query.keyed and cursor is None:
        # A listing of every call covers a bounded range: by default the last week.
        end = end or (now or datetime.now(UTC)).replace(microsecond=0)
        start = start or end - timedelta(days=DEFAULT_RANGE_DAYS)
    if not query.keyed and start and end and end - start > timedelta(days=MAX_RANGE_DAYS):
        raise InvalidInput(
            f"invalid field 'from': a range longer than {MAX_RANGE_DAYS} days needs a phone, contact_id or manager"
        )
    return query.model_copy(
        update={"start": start.strftime(_TIME_FORMAT) if start else None, "end": end.strftime(_TIME_FORMAT) if end else None}
    )
