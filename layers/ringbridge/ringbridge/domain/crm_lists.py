"""The built-in store's cards, tasks and contacts as people work them: listing filters and changes.

``parse_*_query`` turn a query string into a query (or ``InvalidInput`` naming the field); how a
query is answered (which index, which cursor) is storage's business (``storage/builtin_records.py``).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ringbridge.domain.call_history import (
    _TIME_FORMAT,
    DEFAULT_RANGE_DAYS,
    MAX_CURSOR_LENGTH,
    MAX_RANGE_DAYS,
    _identifier,
    _limit,
    _one_value,
    _time,
)
from ringbridge.domain.errors import InvalidInput
from ringbridge.domain.phones import normalize_phone

MAX_SEARCH_LENGTH = 64
CONTACTS_LIST_KEY = "contact"  # every contact's partition in the contacts' ``by_name`` index


class CardStatus(StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


class CardQuery(BaseModel):
    model_config = ConfigDict(frozen=True)

    phone: str | None = None
    contact_id: str | None = None
    manager: str | None = None
    status: CardStatus | None = None
    limit: int
    cursor: str | None = None


class TaskQuery(BaseModel):
    model_config = ConfigDict(frozen=True)

    phone: str | None = None
    manager: str | None = None
    status: TaskStatus | None = None
    due_before: str | None = None  # UTC, ``YYYY-MM-DDTHH:MM:SS``
    limit: int
    cursor: str | None = None


class ContactQuery(BaseModel):
    model_config = ConfigDict(frozen=True)

    q: str | None = None  # a name prefix (normalised) or a number prefix (digits)
    manager: str | None = None
    limit: int
    cursor: str | None = None


class CardChange(BaseModel):
    """The body of ``PATCH /cards/{id}``: a new status, a new manager, or both."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    status: CardStatus | None = None
    manager_employee_id: str | None = Field(default=None, min_length=1, max_length=64)


class TaskChange(BaseModel):
    """The body of ``PATCH /tasks/{id}``: a task is marked done (T1)."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["done"]


class ContactChange(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=1, max_length=200)
    responsible_employee_id: str | None = Field(default=None, min_length=1, max_length=64)


def card_status(card: dict[str, object]) -> str:
    """A card's status; cards written before statuses existed: active is open, inactive was won."""
    return str(card.get("status") or ("open" if card.get("active") else "won"))


def name_key(name: str) -> str:
    """A name as the contact search compares it: case-blind, accents dropped, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(plain.split())[:200]


def _check(params: dict[str, str], allowed: tuple[str, ...]) -> dict[str, str | None]:
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise InvalidInput(f"invalid field '{unknown[0][:40]}': unknown filter; use {', '.join(allowed)}")
    values = {field: _one_value(params, field) for field in allowed}
    cursor = values.get("cursor")
    if cursor is not None and (len(cursor) > MAX_CURSOR_LENGTH or not cursor.isascii()):
        raise InvalidInput("invalid field 'cursor': not a cursor from this API")
    _identifier("manager", values.get("manager"))
    _identifier("contact_id", values.get("contact_id"))
    return values


def _phone(raw: str | None, country: str) -> str | None:
    if raw is None:
        return None
    try:
        return normalize_phone(raw, country)
    except InvalidInput as error:
        raise InvalidInput(f"invalid field 'phone': {error.reason}") from None


def _choice(kind: type[StrEnum], field: str, raw: str | None) -> StrEnum | None:
    if raw is None:
        return None
    try:
        return kind(raw)
    except ValueError:
        raise InvalidInput(f"invalid field '{field}': one of {', '.join(item.value for item in kind)}") from None


def parse_card_query(params: dict[str, str], country: str) -> CardQuery:
    values = _check(params, ("phone", "contact_id", "manager", "status", "limit", "cursor"))
    return CardQuery(
        phone=_phone(values["phone"], country),
        contact_id=values["contact_id"],
        manager=values["manager"],
        status=_choice(CardStatus, "status", values["status"]),
        limit=_limit(values["limit"]),
        cursor=values["cursor"],
    )


def parse_task_query(params: dict[str, str], country: str) -> TaskQuery:
    values = _check(params, ("phone", "manager", "status", "due_before", "limit", "cursor"))
    due = values["due_before"]
    due_before = _time("due_before", due, end_of_day=True).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") if due else None
    return TaskQuery(
        phone=_phone(values["phone"], country),
        manager=values["manager"],
        status=_choice(TaskStatus, "status", values["status"]),
        due_before=due_before,
        limit=_limit(values["limit"]),
        cursor=values["cursor"],
    )


def parse_contact_query(params: dict[str, str]) -> ContactQuery:
    values = _check(params, ("q", "manager", "limit", "cursor"))
    q = values["q"]
    if q is not None:
        q = q.strip()
        if not 1 <= len(q) <= MAX_SEARCH_LENGTH or not q.isprintable():
            raise InvalidInput(f"invalid field 'q': 1 to {MAX_SEARCH_LENGTH} printable characters")
    return ContactQuery(q=q, manager=values["manager"], limit=_limit(values["limit"]), cursor=values["cursor"])


def number_prefixes(q: str, country_code: str) -> list[str] | None:
    """The E.164 prefixes a number-like search means (``0 22 12`` -> ``+4822 12``), or None for a name."""
    if not re.fullmatch(r"[+0-9][0-9 ()\-]*", q) or not re.search(r"[0-9]{2}", q):
        return None
    digits = re.sub(r"[^0-9]", "", q)
    if q.startswith("+"):
        return ["+" + digits]
    if digits.startswith("00"):
        return ["+" + digits[2:]]
    national = "+" + country_code + digits.lstrip("0")
    return sorted({"+" + digits, national})


def parse_stats_range(params: dict[str, str], now: datetime | None = None) -> tuple[str, str]:
    """``from``/``to`` of ``GET /stats`` as UTC stamps: by default the last 7 days, at most 31 days."""
    values = _check(params, ("from", "to"))
    end = _time("to", values["to"], end_of_day=True) if values["to"] else (now or datetime.now(UTC)).replace(microsecond=0)
    start = _time("from", values["from"], end_of_day=False) if values["from"] else end - timedelta(days=DEFAULT_RANGE_DAYS)
    if start > end:
        raise InvalidInput("invalid field 'from': later than 'to'")
    if end - start > timedelta(days=MAX_RANGE_DAYS):
        raise InvalidInput(f"invalid field 'from': at most {MAX_RANGE_DAYS} days")
    return start.strftime(_TIME_FORMAT), end.strftime(_TIME_FORMAT)
