"""Phone forms a CRM may have stored, and a check that a stored value is the number we mean (P1)."""

from __future__ import annotations

import phonenumbers

from ringbridge.domain.errors import InvalidInput
from ringbridge.domain.phones import normalize_phone


def _region(e164: str) -> str:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None)) or "ZZ"
    except phonenumbers.NumberParseException:
        return "ZZ"


def phone_variants(e164: str) -> list[str]:
    """``+48123456789`` -> the E.164 form first, then the forms people type into a CRM.

    For an exact-match search (KeyCRM's ``buyer_phone``): with and without ``+``, the
    national number, with the national trunk prefix, and the two formatted forms.
    """
    variants = [e164, e164.lstrip("+")]
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return variants
    national = phonenumbers.national_significant_number(number)
    variants.append(national)
    national_format = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    national_dialled = "".join(ch for ch in national_format if ch.isdigit())
    variants.append(national_dialled)  # e.g. "0501234567" where a trunk "0" is dialled
    variants.append(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL))
    unique: list[str] = []
    for variant in variants:
        if variant and variant not in unique and "," not in variant:
            unique.append(variant)
    return unique


def same_number(stored: object, e164: str) -> bool:
    """True when a CRM's stored value (any form) is ``e164``; guards against loose CRM matching."""
    if not isinstance(stored, str) or not stored.strip():
        return False
    try:
        return normalize_phone(stored, _region(e164)) == e164
    except InvalidInput:
        return False
