"""SPEC L1, L2, L4: parsing Ringostat's webhook parameters and merging events into one record."""

from __future__ import annotations

from typing import Any

import pytest

from ringbridge.domain.calls import CallEvent, CallStatus, Direction, Moment, merge
from ringbridge.domain.errors import InvalidInput
from ringbridge.ringostat.webhook import parse_call_event, parse_status, parse_timestamp
from tests.conftest import ringostat_payload

NOW = "2026-11-23T10:00:00Z"


def parse(payload: dict[str, Any], moment: Moment | None = None) -> CallEvent:
    return parse_call_event(payload, "PL", "Europe/Warsaw", moment)


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("ANSWERED", CallStatus.ANSWERED),
        ("proper", CallStatus.ANSWERED),
        ("Repeated", CallStatus.ANSWERED),
        ("NO ANSWER", CallStatus.MISSED),
        ("no_answer", CallStatus.MISSED),
        ("NOANSWER", CallStatus.MISSED),
        ("CLIENT NO ANSWER", CallStatus.MISSED),
        ("NO FORWARD", CallStatus.MISSED),
        ("BUSY", CallStatus.BUSY),
        ("Failed", CallStatus.FAILED),
        ("VOICEMAIL", CallStatus.VOICEMAIL),
        ("IN PROGRESS", CallStatus.IN_PROGRESS),
        ("something ringostat adds next year", CallStatus.OTHER),
    ],
)
def test_l2_status_words_case_blind_unknown_is_other(word: str, status: CallStatus) -> None:
    assert parse_status(word) is status


@pytest.mark.parametrize(
    ("written", "utc"),
    [
        ("2019-06-02T09:30:47+0300", "2019-06-02T06:30:47Z"),
        ("2026-05-26T14:07:23+02:00", "2026-05-26T12:07:23Z"),
        ("2022-01-01 10:16:46", "2022-01-01T09:16:46Z"),  # Warsaw, winter
        ("2022-07-01 10:16:46", "2022-07-01T08:16:46Z"),  # Warsaw, summer
        ("1640989006505487", "2021-12-31T22:16:46Z"),  # epoch microseconds
        ("1640989006505", "2021-12-31T22:16:46Z"),  # epoch milliseconds
        ("1640989006", "2021-12-31T22:16:46Z"),
    ],
)
def test_l2_dates_in_ringostat_formats(written: str, utc: str) -> None:
    assert parse_timestamp(written, "Europe/Warsaw") == utc


def test_l2_form_posted_after_call_parses() -> None:
    """An after-call webhook form-posted with the parameter names public receivers use."""
    payload = ringostat_payload("after-call-form.json")
    event = parse({**payload, "event": "after_call"})
    assert event.call_id == payload["call_id"]
    assert event.direction is Direction.INCOMING
    assert event.client_phone == "+380931112233"
    assert event.status is CallStatus.ANSWERED
    assert event.talk_time == 10
    assert event.recording_url is None or event.recording_url.startswith("https://app.ringostat.com/recordings/")
    assert event.extra["employee"] == "John Smith"


def test_l2_outgoing_client_is_the_callee_and_the_sip_caller_is_the_employee() -> None:
    event = parse(
        {
            "call_id": "x",
            "event": "after_outgoing",
            "direction": "out",
            "caller": '"Anna" <company_anna>',
            "callee": "0 12 345 67 89",
        }
    )
    assert event.client_phone == "+48123456789"
    assert event.sip_account == "company_anna"


def test_c2_connected_with_number_is_the_fmc_line() -> None:
    event = parse(
        {"call_id": "x", "event": "after_call", "direction": "in", "caller": "+48123456789", "connected_with": "+48 602 000 111"}
    )
    assert event.fmc_number == "+48602000111"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"event": "after_call", "direction": "in", "caller": "+48123456789"}, "call_id"),
        ({"call_id": "x", "direction": "in", "caller": "+48123456789"}, "event"),
        ({"call_id": "x", "event": "after_call", "caller": "+48123456789"}, "direction"),
        ({"call_id": "x", "event": "after_call", "direction": "in"}, "caller"),
        ({"call_id": "x", "event": "after_call", "direction": "in", "caller": "+48 000"}, "caller"),
        ({"call_id": "x y", "event": "after_call", "direction": "in", "caller": "+48123456789"}, "call_id"),
        ({"call_id": "x", "event": "after_call", "direction": "in", "caller": "+48123456789", "duration": "-5"}, "duration"),
        (
            {
                "call_id": "x",
                "event": "after_call",
                "direction": "in",
                "caller": "+48123456789",
                "started_at": "1999-01-01 00:00:00",
            },
            "started_at",
        ),
        (
            {"call_id": "x", "event": "after_call", "direction": "in", "caller": "+48123456789", "recording_url": "ftp://x/y"},
            "recording_url",
        ),
        ({"call_id": "x", "event": "after_call", "direction": "in", "caller": ["+48123456789"]}, "caller"),
        (
            {"call_id": "x", "event": "after_call", "direction": "in", "caller": "+48123456789", "utm_source": "u" * 5000},
            "utm_source",
        ),
    ],
)
def test_invalid_events_name_the_field(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse(payload)
    assert field in raised.value.reason


def test_l1_merge_keeps_first_description_and_latest_progress() -> None:
    taken = parse(
        {
            "call_id": "c",
            "event": "call_taken",
            "direction": "in",
            "caller": "+48123456789",
            "status": "IN PROGRESS",
            "started_at": "2026-11-23 10:00:00",
        }
    )
    ended = parse(
        {
            "call_id": "c",
            "event": "after_call",
            "direction": "in",
            "caller": "+48123456789",
            "status": "ANSWERED",
            "talk_time": "30",
        }
    )
    in_order = merge(merge(None, taken, NOW), ended, NOW)
    out_of_order = merge(merge(None, ended, NOW), taken, NOW)
    for record in (in_order, out_of_order):
        assert record.status is CallStatus.ANSWERED
        assert record.started_at == "2026-11-23T09:00:00Z"
        assert not record.started_at_estimated
        assert record.moments == ["after_call", "call_taken"]
    assert in_order.model_dump() == out_of_order.model_dump()


def test_l1_replay_changes_nothing() -> None:
    event = parse({"call_id": "c", "event": "after_call", "direction": "in", "caller": "+48123456789", "status": "ANSWERED"})
    once = merge(None, event, NOW)
    assert merge(once, event, "2026-11-23T11:00:00Z") == once


def test_l4_recording_first_then_call() -> None:
    link = parse({"call_id": "c", "recording_url": "https://app.ringostat.com/recordings/c.ogg?token=t"}, Moment.RECORDING)
    placeholder = merge(None, link, NOW)
    assert placeholder.started_at is None  # a lone link is no call yet
    record = merge(placeholder, parse({"call_id": "c", "event": "after_call", "direction": "in", "caller": "+48123456789"}), NOW)
    assert record.recording_url == "https://app.ringostat.com/recordings/c.ogg?token=t"
    assert record.other_party == "+48123456789"
    assert record.started_at == NOW
    assert record.started_at_estimated


def test_l2_answered_by_talk_time_when_the_status_is_odd() -> None:
    record = merge(
        None,
        parse(
            {
                "call_id": "c",
                "event": "after_call",
                "direction": "in",
                "caller": "+48123456789",
                "status": "weird",
                "billsec": "12",
            }
        ),
        NOW,
    )
    assert record.status is CallStatus.OTHER
    assert record.answered
