"""Reconciliation (L1: no call lost): Ringostat's call log against ringbridge's call records.

A webhook can be lost (Ringostat gives up after its retries, a deployment, a misconfigured
event). The call log is read for a window, a day at a time (each day further split by the
client when Ringostat's 6,500-row limit is reached), and every call that ringbridge lacks
or holds incomplete (not ended, no status, no recording Ringostat has) is fed to the same
pipeline as a webhook event (``accept``: merge into the record + queue the CRM sync). The
pipeline is idempotent, so a call is synced once whether the webhook or the call log came
first; a call already complete is only read, never written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from ringbridge.domain.calls import CallEvent, CallRecord
from ringbridge.domain.errors import InvalidInput
from ringbridge.domain.ports import CallStore

MAX_WINDOW = timedelta(days=31)
DAY = timedelta(days=1)


class CallLogPageLike(Protocol):
    events: list[CallEvent]
    rows: int
    in_progress: int
    invalid: int


class CallLog(Protocol):
    """Ringostat's call log, as events of finished calls, a page at a time."""

    @property
    def requests_made(self) -> int:
        """Requests sent to Ringostat so far."""

    def pages(self, start: datetime, end: datetime) -> Iterator[CallLogPageLike]: ...


@dataclass
class Reconciled:
    read: int = 0
    new: int = 0
    completed: int = 0
    unchanged: int = 0
    in_progress: int = 0
    invalid: int = 0
    requests: int = 0

    def answer(self) -> dict[str, int]:
        return dict(self.__dict__)


# Told after each day of the window: (days done, days in all, the counts so far); the CLI draws its progress.
Progress = Callable[[int, int, Reconciled], None]


def parse_moment(name: str, value: object) -> datetime:
    """A window's end as given (``from``/``to``): an ISO 8601 date and time; the zone is checked by ``reconcile``."""
    if not isinstance(value, str):
        raise InvalidInput(f"missing field '{name}': an ISO 8601 date and time with a zone")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"invalid field '{name}': {value[:40]!r} is not an ISO 8601 date and time") from None


def days(start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
    """[start, end] in windows of at most a day."""
    low = start
    while low < end:
        high = min(low + DAY, end)
        yield low, high
        low = high


def needs(record: CallRecord | None, event: CallEvent) -> str:
    """``new``, ``completed`` (ringbridge has the call but not all of it) or ``unchanged``."""
    if record is None:
        return "new"
    if not record.ended or record.status is None or (event.recording_url and not record.recording_url):
        return "completed"
    return "unchanged"


def reconcile(
    start: datetime,
    end: datetime,
    call_log: CallLog,
    calls: CallStore,
    accept: Callable[[CallEvent], object],
    progress: Progress | None = None,
) -> Reconciled:
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("'from' and 'to' need a time zone (e.g. 2025-03-03T00:00:00Z)")
    if not start < end:
        raise InvalidInput("'from' must be before 'to'")
    if end - start > MAX_WINDOW:
        raise InvalidInput(f"reconcile at most {MAX_WINDOW.days} days at once")
    outcome = Reconciled()
    before = call_log.requests_made
    seen: set[str] = set()
    windows = list(days(start, end))
    for done, (low, high) in enumerate(windows, start=1):
        for page in call_log.pages(low, high):
            outcome.read += page.rows
            outcome.in_progress += page.in_progress
            outcome.invalid += page.invalid
            for event in page.events:
                if event.call_id in seen:  # a call on a window's edge is read twice
                    continue
                seen.add(event.call_id)
                verdict = needs(calls.get(event.call_id), event)
                if verdict != "unchanged":
                    accept(event.model_copy(update={"imported": True}))
                setattr(outcome, verdict, getattr(outcome, verdict) + 1)
        outcome.requests = call_log.requests_made - before
        if progress is not None:
            progress(done, len(windows), outcome)
    return outcome
