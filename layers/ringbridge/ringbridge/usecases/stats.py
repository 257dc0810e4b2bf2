"""Call statistics for a range of days (``GET /stats``), per manager and in total, from the listed calls.

Definitions (what the numbers mean, and what the tests count by hand):

- a **missed** call is an incoming call nobody answered;
- a missed call is **called back** by the first later call with the same number that closes a
  call-back (T1's rule): an outgoing call answered with at least ``min_talk_seconds`` of talk, or an
  incoming call a manager answered. Its **call-back time** is the gap between the two starts;
  each missed call counts on its own (two missed calls before one call-back are two call-backs);
- only calls inside the range are looked at: a call-back after ``to`` is not seen;
- **median** is the middle value (the mean of the two middle ones for an even count); **p90** is the
  nearest-rank 90th percentile (the value at rank ceil(0.9 n) in ascending order);
- answer rates: answered / all, per direction (``None`` without calls of that direction);
- days are UTC days (``call_day``), like the calls table's ``by_day`` index.

The calls come from ``CallsInRange`` (storage: one Query per day on ``by_day``, never a Scan).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from ringbridge.domain.calls import CallRecord, CallStatus, Direction

MISSED_LISTED = 200  # the missed calls not called back that the answer lists (the count is always whole)


class CallsInRange(Protocol):
    def calls_between(self, start: str, end: str) -> Iterable[CallRecord]:
        """Every call that started in [start, end] (UTC stamps)."""


def _moment(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def calls_back(call: CallRecord, min_talk_seconds: int) -> bool:
    """Does this call count as a call-back (T1's rule, without waiting for the end event)?"""
    if not call.answered:
        return False
    if call.direction is Direction.INCOMING:
        return True
    return call.direction is Direction.OUTGOING and (call.talk_time or 0) >= min_talk_seconds


def percentile(values: list[float], share: float) -> float | None:
    """Nearest rank: the value at rank ceil(share * n) of the sorted values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


def _group(calls: list[CallRecord], callback_seconds: list[float]) -> dict[str, Any]:
    directions = Counter(call.direction.value if call.direction else "unknown" for call in calls)
    statuses = Counter(call.status.value if call.status else CallStatus.OTHER.value for call in calls)

    def rate(direction: Direction) -> float | None:
        of = [call for call in calls if call.direction is direction]
        return round(sum(call.answered for call in of) / len(of), 4) if of else None

    return {
        "calls": len(calls),
        "by_direction": dict(sorted(directions.items())),
        "by_status": dict(sorted(statuses.items())),
        "incoming_answer_rate": rate(Direction.INCOMING),
        "outgoing_answer_rate": rate(Direction.OUTGOING),
        "callbacks": len(callback_seconds),
        "callback_median_seconds": statistics.median(callback_seconds) if callback_seconds else None,
        "callback_p90_seconds": percentile(callback_seconds, 0.9),
    }


def compute_stats(calls: Iterable[CallRecord], min_talk_seconds: int) -> dict[str, Any]:
    timed = sorted((call for call in calls if call.started_at), key=lambda call: (call.started_at or "", call.call_id))
    by_number: dict[str, list[CallRecord]] = defaultdict(list)
    for call in timed:
        if call.other_party:
            by_number[call.other_party].append(call)
    gaps: list[float] = []
    gaps_of: dict[str, list[float]] = defaultdict(list)
    not_called_back: list[CallRecord] = []
    for history in by_number.values():
        for index, call in enumerate(history):
            if call.direction is not Direction.INCOMING or call.answered:
                continue
            back = next((later for later in history[index + 1 :] if calls_back(later, min_talk_seconds)), None)
            if back is None:
                not_called_back.append(call)
                continue
            gap = (_moment(back.started_at or "") - _moment(call.started_at or "")).total_seconds()
            gaps.append(gap)
            gaps_of[back.manager_employee_id or ""].append(gap)
    managers: dict[str, list[CallRecord]] = defaultdict(list)
    for call in timed:
        if call.manager_employee_id:
            managers[call.manager_employee_id].append(call)
    per_day: dict[str, Counter[str]] = defaultdict(Counter)
    for call in timed:
        per_day[call.call_day or (call.started_at or "")[:10]][call.status.value if call.status else "other"] += 1
    not_called_back.sort(key=lambda call: call.started_at or "", reverse=True)
    return {
        "total": _group(timed, gaps),
        "managers": [
            {"employee_id": employee, "name": next((c.manager_name for c in mine if c.manager_name), None)}
            | _group(mine, gaps_of.get(employee, []))
            for employee, mine in sorted(managers.items())
        ],
        "per_day": [
            {"day": day, "calls": sum(counts.values()), **dict(sorted(counts.items()))} for day, counts in sorted(per_day.items())
        ],
        "missed_not_called_back": {
            "count": len(not_called_back),
            "calls": [
                {"id": c.call_id, "other_party": c.other_party, "started_at": c.started_at, "contact_name": c.contact_name}
                for c in not_called_back[:MISSED_LISTED]
            ],
        },
    }


def call_stats(start: str, end: str, history: CallsInRange, min_talk_seconds: int) -> dict[str, Any]:
    """The statistics of the calls that started in [start, end]."""
    stats = compute_stats(history.calls_between(start, end), min_talk_seconds)
    counted = {entry["day"]: entry for entry in stats["per_day"]}
    day, last = date.fromisoformat(start[:10]), date.fromisoformat(end[:10])
    days = []
    while day <= last:  # every day of the range, a quiet one too (the page's chart has no gaps)
        days.append(counted.get(day.isoformat(), {"day": day.isoformat(), "calls": 0}))
        day += timedelta(days=1)
    return {"from": start, "to": end, **stats, "per_day": days}
