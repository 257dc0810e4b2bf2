"""SPEC P1: every number in one canonical form; SIP logins are never phone numbers."""

from __future__ import annotations

import pytest

from ringbridge.domain.phones import (
    InvalidPhoneNumber,
    looks_like_sip_login,
    mask_phone,
    mask_phone_numbers_in_text,
    normalize_phone,
    parse_party,
)


@pytest.mark.parametrize(
    "written",
    ["0 12 345 67 89", "48123456789", "+48 123-456-789", "0048123456789", "123 456 789", "(12) 345-67-89", "tel:+48123456789"],
)
def test_p1_polish_forms_are_one_number(written: str) -> None:
    assert normalize_phone(written, "PL") == "+48123456789"


@pytest.mark.parametrize(
    ("written", "country", "expected"),
    [
        ("380671112233", "PL", "+380671112233"),  # full international without "+"
        ("067 111 22 33", "UA", "+380671112233"),  # national with trunk 0
        ('"Support PhonerLite" <380671234567>', "PL", "+380671234567"),  # Ringostat's display-name form
        ("+1 (650) 253-0000", "PL", "+16502530000"),
    ],
)
def test_p1_other_countries(written: str, country: str, expected: str) -> None:
    assert normalize_phone(written, country) == expected


@pytest.mark.parametrize("login", ["101", "sip:manager@pbx.example.com", "company_manager1", '"Anna" <company_anna>', "2005"])
def test_p1_sip_logins_are_not_phone_numbers(login: str) -> None:
    assert looks_like_sip_login(login)
    with pytest.raises(InvalidPhoneNumber, match="SIP login"):
        normalize_phone(login, "PL")
    assert parse_party(login, "PL").sip_login is not None


@pytest.mark.parametrize(
    "impossible", ["+48 000 000", "+999 123456789", "12345678901234567890", "abc", "", "   ", "+48" + "9" * 70]
)
def test_p1_impossible_numbers_are_rejected_with_a_reason(impossible: str) -> None:
    with pytest.raises(InvalidPhoneNumber) as raised:
        normalize_phone(impossible, "PL")
    assert raised.value.reason


def test_parse_party_classifies_phone() -> None:
    party = parse_party("0048 123 456 789", "PL")
    assert party.is_phone
    assert party.phone == "+48123456789"


def test_masking_keeps_only_the_ends() -> None:
    assert mask_phone("+48123456789") == "+48*******89"
    line = "caller +48123456789 called 380671112233 at 2026-11-23 10:00"
    masked = mask_phone_numbers_in_text(line)
    assert "+48123456789" not in masked
    assert "380671112233" not in masked
    assert "2026-11-23 10:00" in masked
