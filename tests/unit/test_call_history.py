"""L1: the call-history query string, how storage picks its index and cursors, the If-Match header; no AWS."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ringbridge.domain.call_history import parse_call_query
from ringbridge.domain.errors import InvalidInput, PreconditionRequired
from ringbridge.ringostat.client import _refusal_in_body
from ringbridge.storage.call_history import Listing, _Position, _resume, decode_cursor, encode_cursor, listing_of
from ringbridge.web.views import parse_if_match

NOW = datetime(2024, 5, 10, 12, 0, 0, tzinfo=UTC)


def test_l1_default_listing_is_the_last_seven_days_by_day() -> None:
    query = parse_call_query({}, "PL", NOW)
    listing = listing_of(query)
    assert listing.index == "by_day"
    assert listing.partitions == [f"2024-05-{day:02d}" for day in range(10, 2, -1)]
    assert (query.start, query.end) == ("2024-05-03T12:00:00Z", "2024-05-10T12:00:00Z")


def test_l1_phone_picks_the_number_index_and_other_keys_become_filters() -> None:
    query = parse_call_query({"phone": "0 22 123 45 67", "manager": "anna", "status": "missed"}, "PL", NOW)
    listing = listing_of(query)
    assert (listing.index, listing.partitions) == ("by_other_party", ["+48221234567"])
    assert listing.filters == {"manager_employee_id": "anna", "status": "missed"}


def test_l1_times_with_offsets_and_dates_are_utc_bounds() -> None:
    query = parse_call_query({"contact_id": "c1", "from": "2024-05-01T10:00:00+02:00", "to": "2024-05-02"}, "PL", NOW)
    assert (query.start, query.end) == ("2024-05-01T08:00:00Z", "2024-05-02T23:59:59Z")


def test_l1_cursor_round_trip_and_it_must_match_the_listing() -> None:
    query = parse_call_query({"contact_id": "c1"}, "PL", NOW)
    position = _Position(
        listing=listing_of(query), last_key={"call_id": "x", "started_at": "2024-05-01T10:00:00Z", "contact_id": "c1"}
    )
    cursor = encode_cursor(position)
    assert decode_cursor(cursor) == position
    assert _resume(parse_call_query({"contact_id": "c1", "cursor": cursor}, "PL", NOW)) == position
    for other in ({"contact_id": "c2"}, {}, {"contact_id": "c1", "status": "missed"}, {"contact_id": "c1", "from": "2024-01-01"}):
        with pytest.raises(InvalidInput, match="another listing"):
            _resume(parse_call_query({**other, "cursor": cursor}, "PL", NOW))


def test_l1_a_by_day_cursor_keeps_its_own_time_range() -> None:
    """A listing of every call ends at "now": its next page keeps the range of the first, whenever it is asked."""
    first = parse_call_query({}, "PL", NOW)
    cursor = encode_cursor(_Position(listing=listing_of(first), partition=2))
    later = parse_call_query({"cursor": cursor}, "PL", NOW.replace(hour=18))
    assert _resume(later).listing == listing_of(first)


@pytest.mark.parametrize(
    "raw",
    [
        "not-base64!",
        encode_cursor(_Position(listing=Listing(index="by_day", partitions=["2024-05-01"], filters={}), partition=3)),
        encode_cursor(
            _Position(
                listing=Listing(index="by_contact", partitions=["c1"], filters={}),
                last_key={"call_id": "x", "started_at": "t", "contact_id": "c2"},
            )
        ),
    ],
)
def test_l1_forged_cursors_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput, match="cursor"):
        decode_cursor(raw)


@pytest.mark.parametrize(("header", "version"), [('"3"', 3), ('W/"3"', 3), ("3", 3), ("*", None)])
def test_l3_if_match_forms(header: str, version: int | None) -> None:
    assert parse_if_match(header) == version


def test_l3_if_match_is_required() -> None:
    with pytest.raises(PreconditionRequired):
        parse_if_match(None)


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
