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
