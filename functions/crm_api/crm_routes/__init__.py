"""The CRM-facing API's routes, one Powertools Router per resource; ``app.py`` includes them.

Shared here: how a route reads a phone number and a call id from the request.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from ringbridge import wiring
from ringbridge.domain.calls import CALL_ID_PATTERN
from ringbridge.domain.errors import InvalidInput
from ringbridge.domain.phones import normalize_phone


def phone_field(field: str, raw: str) -> str:
    try:
        return normalize_phone(raw, wiring.settings().default_country)
    except InvalidInput as error:
        raise InvalidInput(f"invalid field '{field}': {error.reason}") from None


def call_id_of(raw: str) -> str:
    call_id = unquote(raw)
    if not re.match(CALL_ID_PATTERN, call_id):
        raise InvalidInput("invalid field 'call_id': letters, digits and _.:- only, at most 128")
    return call_id


def record_id_of(field: str, raw: str) -> str:
    """A card's or task's id from the path (``card-<call id>``, ``task-<call id>``)."""
    record_id = unquote(raw)
    if not re.fullmatch(r"[A-Za-z0-9_.:\-]{1,160}", record_id):
        raise InvalidInput(f"invalid field '{field}': letters, digits and _.:- only, at most 160")
    return record_id
