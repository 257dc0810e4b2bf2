"""The contact-push queue (SQS) between whatever changes a contact and the contact-push worker (S1)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence

from ringbridge.storage.aws import client
from ringbridge.usecases.contact_push import CHANGES_PER_MESSAGE, ContactChange

_ENTRIES_PER_SEND = 10  # SQS SendMessageBatch's limit


class SqsContactPush:
    def __init__(self, queue_url: str, enabled: bool = True) -> None:
        self.queue_url = queue_url
        self.enabled = enabled

    def push(self, changes: Sequence[ContactChange]) -> int:
        if not self.enabled or not changes:
            return 0
        bodies = [
            json.dumps({"contacts": [change.model_dump() for change in changes[start : start + CHANGES_PER_MESSAGE]]})
            for start in range(0, len(changes), CHANGES_PER_MESSAGE)
        ]
        sqs = client("sqs")
        for start in range(0, len(bodies), _ENTRIES_PER_SEND):
            entries = [{"Id": uuid.uuid4().hex, "MessageBody": body} for body in bodies[start : start + _ENTRIES_PER_SEND]]
            response = sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            if response.get("Failed"):
                failed = {entry["Id"] for entry in response["Failed"]}
                retry = [entry for entry in entries if entry["Id"] in failed]
                again = sqs.send_message_batch(QueueUrl=self.queue_url, Entries=retry)
                if again.get("Failed"):
                    raise RuntimeError(f"SQS refused {len(again['Failed'])} contact-push message(s)")
        return len(bodies)
