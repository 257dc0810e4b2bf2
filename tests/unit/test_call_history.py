"""L1: the call-history query string, cursors and the If-Match header, without AWS."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ringbridge.domain.call_history import Cursor, decode_cursor, parse_call_query, parse_if_match
from ringbridge.domain.errors import InvalidInput
from ringbridge.ringostat import _refusal_in_body

NOW = datetime(2024, 5, 10, 12, 0, 0, tzinfo=UTC)


def test_l1_default_listing_is_the_last_seven_days_by_day() -> None:
    query = parse_call_query({}, "PL", NOW)
    assert query.index == "by_day"
    assert query.days == [f"2024-05-{day:02d}" for day in range(10, 2, -1)]
    assert (query.start, query.end) == ("2024-05-03T12:00:00Z", "2024-05-10T12:00:00Z")


def test_l1_phone_picks_the_number_index_and_other_keys_become_filters() -> None:
    query = parse_call_query({"phone": "0 22 123 45 67", "manager": "anna", "status": "missed"}, "PL", NOW)
    assert (query.index, query.key_value) == ("by_other_party", "+48221234567")
    assert query.filters == {"manager_employee_id": "anna", "status": "missed"}


def test_l1_times_with_offsets_and_dates_are_utc_bounds() -> None:
    query = parse_call_query({"contact_id": "c1", "from": "2024-05-01T10:00:00+02:00", "to": "2024-05-02"}, "PL", NOW)
    assert (query.start, query.end) == ("2024-05-01T08:00:00Z", "2024-05-02T23:59:59Z")


def test_l1_cursor_round_trip_and_it_must_match_the_listing() -> None:
    cursor = Cursor(last_key={"call_id": "c1", "started_at": "2024-05-01T10:00:00Z", "contact_id": "c1"})
    assert decode_cursor(cursor.encode()) == cursor
    assert parse_call_query({"contact_id": "c1", "cursor": cursor.encode()}, "PL", NOW).cursor == cursor
    with pytest.raises(InvalidInput, match="cursor"):
        parse_call_query({"contact_id": "c2", "cursor": cursor.encode()}, "PL", NOW)
    with pytest.raises(InvalidInput, match="cursor"):
        parse_call_query({"cursor": cursor.encode()}, "PL", NOW)


@pytest.mark.parametrize(("header", "version"), [('"3"', 3), ('W/"3"', 3), ("3", 3), ("*", None)])
def test_l3_if_match_forms(header: str, version: int | None) -> None:
    assert parse_if_match(header) == version


@pytest.mark.parametrize(
    ("body", "refusal"),
    [
        ('{"status": "ok"}', None),
        ("", None),
        ("OK", None),
        ('{"error": {"code": 1, "message": "no such extension"}}', "no such extension"),
        ('{"error": "bad"}', "bad"),
        ('{"success": false, "message": "limit"}', "limit"),
        ('{"status": "error"}', "error"),
    ],
)
def test_x1_ringostat_refusals_inside_a_200_body(body: str, refusal: str | None) -> None:
    assert _refusal_in_body(body) == refusal
