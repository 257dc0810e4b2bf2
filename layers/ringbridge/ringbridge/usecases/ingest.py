"""Accept a call event (L1, L2, L4): merge it into its call record and hand the call to the worker."""

from __future__ import annotations

from dataclasses import dataclass

from ringbridge.domain.calls import CallEvent
from ringbridge.domain.ports import CallQueue, CallStore


@dataclass(frozen=True)
class Accepted:
    call_id: str
    changed: bool

    def answer(self) -> dict[str, object]:
        return {"call_id": self.call_id, "status": "accepted", "changed": self.changed}


def accept_event(event: CallEvent, calls: CallStore, queue: CallQueue) -> Accepted:
    record, changed = calls.apply(event)
    # Queued even when nothing changed: if an earlier try stored the event but failed to
    # queue it, Ringostat's retry must still reach the worker (which is idempotent).
    queue.enqueue(record.call_id, event.moment.value)
    return Accepted(record.call_id, changed)
