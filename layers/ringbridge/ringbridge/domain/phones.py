"""Phone numbers (SPEC P1): one canonical E.164 form for every number we store or match.

Ringostat and people write numbers in many ways (``0 12 345 67 89``, ``48123456789``,
``+48 123-456-789``, ``0048123456789``, ``"Name" <380671112233>``). Everything is
normalised here with ``phonenumbers`` against the installation's default country.
SIP logins (``101``, ``sip:manager@pbx``, ``company_manager1``) are not phone numbers
and are never turned into one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

from ringbridge.domain.errors import InvalidInput

# An internal extension is short; real subscriber numbers are longer than this.
_MAX_EXTENSION_DIGITS = 6
_DISPLAY_NAME = re.compile(r'^\s*"?[^"<]*"?\s*<([^>]*)>\s*$')
_PHONE_PUNCTUATION = re.compile(r"[\s\-().\/]")
_ASCII_DIGITS = re.compile(r"[0-9]+")


class InvalidPhoneNumber(InvalidInput):
    """Raised for a value that cannot be a phone number in any form we accept."""


@dataclass(frozen=True)
class Party:
    """One side of a call: a phone number (E.164) or a SIP login, never both."""

    phone: str | None = None
    sip_login: str | None = None

    @property
    def is_phone(self) -> bool:
        return self.phone is not None


def _strip_wrappers(raw: str) -> str:
    value = raw.strip()
    match = _DISPLAY_NAME.match(value)
    if match:
        value = match.group(1).strip()
    lowered = value.lower()
    for prefix in ("tel:", "sip:", "sips:"):
        if lowered.startswith(prefix):
            value = value[len(prefix) :]
            break
    return value.strip()


def _is_sip_login(value: str) -> bool:
    if "@" in value:
        return True
    compact = _PHONE_PUNCTUATION.sub("", value)
    if compact.startswith("+"):
        # "+" announces a phone number, however short: judge it as one.
        return not _ASCII_DIGITS.fullmatch(compact[1:])
    if not _ASCII_DIGITS.fullmatch(compact):
        return True
    return len(compact) <= _MAX_EXTENSION_DIGITS


def looks_like_sip_login(raw: str) -> bool:
    """True for SIP logins and short internal extensions (``101``, ``sip:a@b``)."""
    return _is_sip_login(_strip_wrappers(raw))


def _candidates(value: str, country: str) -> list[tuple[str, str | None]]:
    compact = _PHONE_PUNCTUATION.sub("", value)
    if compact.startswith("+"):
        return [(compact, None)]
    candidates: list[tuple[str, str | None]] = [(compact, country)]
    if compact.startswith("0") and not compact.startswith("00"):
        # A national trunk "0" written out of habit (e.g. "0 12 345 67 89" in PL).
        candidates.append((compact[1:], country))
    # A full international number written without "+" (e.g. "380671112233").
    candidates.append(("+" + compact.lstrip("0"), None))
    return candidates


def normalize_phone(raw: str, default_country: str) -> str:
    """Return the E.164 form of ``raw`` or raise :class:`InvalidPhoneNumber`."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidPhoneNumber("phone number is empty")
    if len(raw) > 64:
        raise InvalidPhoneNumber("phone number is too long")
    value = _strip_wrappers(raw)
    if _is_sip_login(value):
        raise InvalidPhoneNumber("a SIP login or extension is not a phone number")
    for text, region in _candidates(value, default_country.upper()):
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise InvalidPhoneNumber(f"not a valid phone number for default country {default_country}")


def parse_party(raw: str, default_country: str) -> Party:
    """Classify a caller/callee value: E.164 phone, or SIP login kept as written."""
    value = _strip_wrappers(raw)
    if not value:
        raise InvalidPhoneNumber("number is empty")
    if _is_sip_login(value):
        return Party(sip_login=value)
    return Party(phone=normalize_phone(value, default_country))


def mask_phone(value: str) -> str:
    """``+48123456789`` -> ``+48*******89``: enough to correlate logs, not to call."""
    digits = value.lstrip("+")
    if len(digits) <= 4:
        return "*" * len(value)
    prefix = "+" if value.startswith("+") else ""
    return prefix + digits[:2] + "*" * (len(digits) - 4) + digits[-2:]


# A number as people and systems write it: an optional +, 7 or more digits, single spaces or
# brackets between groups ("+48 601 500 001", "(22) 123 45 67", "48601500001"). A run that is part
# of an identifier-like token, touching a letter, digit, "_", "-" or an inner "." (an SQS message id
# "pl5_-17...43.25", "card-1700000000", a version "1.2.3456789"), is no number and is left alone.
_NUMBER_IN_TEXT = re.compile(r"(?<![\w.\-])(?>\+?\(?\d(?:[ ()]?\d){6,}\)?)(?![\w\-]|\.\w)")


def mask_phone_numbers_in_text(text: str) -> str:
    """Mask what reads as a phone number in free text, not digit runs inside identifiers (log lines)."""

    def mask(match: re.Match[str]) -> str:
        written = match.group(0)
        digits = re.sub(r"\D", "", written)
        return mask_phone(("+" if written.startswith("+") else "") + digits)

    return _NUMBER_IN_TEXT.sub(mask, text)
