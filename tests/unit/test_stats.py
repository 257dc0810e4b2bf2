"""GET /stats's arithmetic on a week of calls built by hand; the expected numbers are counted by hand below (L1, T1)."""

from __future__ import annotations

from ringbridge.domain.calls import CallRecord, CallStatus, Direction
from ringbridge.usecases.stats import call_stats, compute_stats, percentile

IN, OUT = Direction.INCOMING, Direction.OUTGOING
ANSWERED, MISSED, BUSY = CallStatus.ANSWERED, CallStatus.MISSED, CallStatus.BUSY
A, B, C, D, E, F = (f"+4822123450{n}" for n in range(6))

# (id, start, number, direction, status, talk seconds, manager) - the week of Mon 2026-11-16 .. Sun 2026-11-22
WEEK = [
    ("m1", "2026-11-16T09:00:00Z", A, IN, MISSED, 0, None),
    ("o1", "2026-11-16T09:30:00Z", A, OUT, ANSWERED, 60, "anna"),  # calls m1 back after 1800 s
    ("m2", "2026-11-16T10:00:00Z", B, IN, MISSED, 0, None),
    ("o2", "2026-11-16T10:05:00Z", B, OUT, ANSWERED, 5, "anna"),  # 5 s of talk: too short to be a call-back
    ("o3", "2026-11-16T11:00:00Z", B, OUT, MISSED, 0, "anna"),  # not answered: no call-back
    ("i1", "2026-11-17T08:00:00Z", B, IN, ANSWERED, 120, "piotr"),  # B calls again, answered: m2 back after 79200 s
    ("m3", "2026-11-17T12:00:00Z", C, IN, MISSED, 0, None),
    ("m4", "2026-11-17T12:10:00Z", C, IN, MISSED, 0, None),
    ("o4", "2026-11-17T12:20:00Z", C, OUT, ANSWERED, 10, "piotr"),  # exactly 10 s: m3 back after 1200 s, m4 after 600 s
    ("m5", "2026-11-18T15:00:00Z", D, IN, MISSED, 0, None),  # never called back (o6 is too short)
    ("i2", "2026-11-19T10:00:00Z", E, IN, ANSWERED, 30, "anna"),
    ("m8", "2026-11-19T11:00:00Z", F, IN, MISSED, 0, None),
    ("i3", "2026-11-19T11:01:00Z", F, IN, ANSWERED, 40, "anna"),  # m8 back after 60 s
    ("m6", "2026-11-20T17:00:00Z", E, IN, MISSED, 0, None),  # never called back (o5 is busy)
    ("o5", "2026-11-20T17:02:00Z", E, OUT, BUSY, 0, "anna"),
    ("o6", "2026-11-21T09:00:00Z", D, OUT, ANSWERED, 9, "piotr"),
    ("m7", "2026-11-22T20:00:00Z", A, IN, MISSED, 0, None),  # never called back (nothing after it)
]


def week() -> list[CallRecord]:
    return [
        CallRecord(
            call_id=call_id,
            started_at=start,
            call_day=start[:10],
            other_party=number,
            direction=direction,
            status=status,
            talk_time=talk,
            manager_employee_id=manager,
            manager_name=manager.title() if manager else None,
        )
        for call_id, start, number, direction, status, talk, manager in WEEK
    ]


class Week:
    def calls_between(self, start: str, end: str) -> list[CallRecord]:
        return [call for call in week() if start <= (call.started_at or "") <= end]


def test_t1_stats_of_a_hand_counted_week() -> None:
    stats = compute_stats(reversed(week()), min_talk_seconds=10)
    total = stats["total"]
    # 17 calls: 11 incoming (m1-m8, i1-i3), 6 outgoing (o1-o6)
    assert total["calls"] == 17
    assert total["by_direction"] == {"incoming": 11, "outgoing": 6}
    # answered: o1 o2 i1 o4 i2 i3 o6 = 7; missed: m1-m8 and o3 = 9; busy: o5
    assert total["by_status"] == {"answered": 7, "busy": 1, "missed": 9}
    assert total["incoming_answer_rate"] == round(3 / 11, 4)  # i1 i2 i3 of 11
    assert total["outgoing_answer_rate"] == round(4 / 6, 4)  # o1 o2 o4 o6 of 6
    # call-backs: m8 60 s, m4 600 s, m3 1200 s, m1 1800 s, m2 79200 s -> median 1200, p90 = rank ceil(4.5) = 5th = 79200
    assert total["callbacks"] == 5
    assert total["callback_median_seconds"] == 1200
    assert total["callback_p90_seconds"] == 79200
    # missed and not called back: m5, m6, m7 (newest first)
    assert stats["missed_not_called_back"]["count"] == 3
    assert [c["id"] for c in stats["missed_not_called_back"]["calls"]] == ["m7", "m6", "m5"]
    anna, piotr = stats["managers"]
    # anna: o1 o2 o3 i2 o5 i3; she called back m1 (1800 s) and m8 (60 s): median 930, p90 rank ceil(1.8) = 2nd = 1800
    assert (anna["employee_id"], anna["calls"], anna["by_direction"]) == ("anna", 6, {"incoming": 2, "outgoing": 4})
    assert (anna["callbacks"], anna["callback_median_seconds"], anna["callback_p90_seconds"]) == (2, 930, 1800)
    assert anna["outgoing_answer_rate"] == 0.5  # o1 o2 of o1 o2 o3 o5
    # piotr: i1 o4 o6; he called back m2 (79200 s), m3 (1200 s), m4 (600 s): median 1200, p90 rank 3 = 79200
    assert (piotr["calls"], piotr["callbacks"], piotr["callback_median_seconds"], piotr["callback_p90_seconds"]) == (
        3,
        3,
        1200,
        79200,
    )
    per_day = {entry["day"]: entry for entry in stats["per_day"]}
    assert per_day["2026-11-16"] == {"day": "2026-11-16", "calls": 5, "answered": 2, "missed": 3}
    assert per_day["2026-11-20"] == {"day": "2026-11-20", "calls": 2, "busy": 1, "missed": 1}
    assert sum(entry["calls"] for entry in stats["per_day"]) == 17


def test_t1_stats_range_fills_quiet_days_and_a_longer_talk_rule_changes_call_backs() -> None:
    stats = call_stats("2026-11-15T00:00:00Z", "2026-11-23T23:59:59Z", Week(), min_talk_seconds=60)
    assert [entry["day"] for entry in stats["per_day"]][:2] == ["2026-11-15", "2026-11-16"]
    assert stats["per_day"][0] == {"day": "2026-11-15", "calls": 0}
    assert len(stats["per_day"]) == 9
    # with 60 s needed, o4 (10 s) no longer calls C back: m3 and m4 join m5, m6, m7
    assert stats["missed_not_called_back"]["count"] == 5


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 0.9) is None
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([float(n) for n in range(1, 11)], 0.9) == 9.0
    assert percentile([float(n) for n in range(1, 12)], 0.9) == 10.0
