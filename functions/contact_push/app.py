"""Contact-push worker (S1): queued contact changes -> Ringostat's contact book (caller ID in Smart Phone).

One invocation reads a batch of messages (each a list of changes), keeps the newest change
per contact and sends them with ``POST /minicrm/contacts/sync``, 100 contacts a request and
at most one request every ``CONTACT_PUSH_INTERVAL_MS``; the event source mapping's maximum
concurrency bounds how many workers talk to Ringostat at once. A failed request fails only
the messages that fed it (partial batch response): the queue retries them, then keeps them
in its dead-letter queue.
"""

from __future__ import annotations

import json
import time
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ringbridge import wiring
from ringbridge.observability import lambda_entry, logger
from ringbridge.usecases.contact_push import ORIGINS, ContactChange, push_contacts

wiring.init("contact_push")
_changes = TypeAdapter(list[ContactChange])


class Pace:
    """At most one request per interval from this worker."""

    def __init__(self, interval_ms: int) -> None:
        self.interval = interval_ms / 1000
        self.last = 0.0

    def __call__(self) -> None:
        wait = self.last + self.interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self.last = time.monotonic()


def read(record: dict[str, Any]) -> list[ContactChange] | None:
    try:
        return _changes.validate_python(json.loads(record["body"]).get("contacts"))
    except (ValueError, AttributeError, ValidationError):
        return None


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    records = event.get("Records", [])
    messages, unreadable = [], []
    for record in records:
        changes = read(record)
        if changes is None:
            unreadable.append(record["messageId"])
        else:
            messages.append((record["messageId"], changes))
    if unreadable:
        # Never valid: retrying cannot help; they go to the DLQ after maxReceiveCount for a look.
        logger.error("unreadable contact-push messages", extra={"message_ids": unreadable})
    config = wiring.settings()
    failed: set[str] = set(unreadable)
    if messages:
        ringostat = wiring.ringostat()
        report = push_contacts(
            messages,
            wiring.employees(),
            ringostat,
            ringostat.project_id or "",
            ORIGINS.get(config.crm, "ringbridge"),
            pace=Pace(config.contact_push_interval_ms),
        )
        failed |= report.failed_messages
        logger.info(
            "contacts pushed to Ringostat",
            extra={"messages": len(messages), "contacts": report.contacts, "requests": report.requests, "failed": len(failed)},
        )
        if report.errors:
            logger.warning("contact sync failed", extra={"reasons": report.errors[:5]})
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in sorted(failed)]}
