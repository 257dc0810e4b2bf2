"""Feed SQS batches to a queue-triggered function as Lambda's event source mapping does.

Batch size and partial batch failures come from the template; a failed message stays
on the queue until its visibility timeout ends, and moto's redrive policy moves it to
the dead-letter queue after ``maxReceiveCount`` receives.
"""

from __future__ import annotations

import threading
from typing import Any

from local.runtime import LocalFunction
from local.template import SqsTrigger


def to_lambda_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": message.get("MessageAttributes", {}),
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": "us-east-1",
    }


class QueuePoller(threading.Thread):
    def __init__(self, sqs: Any, queue_url: str, queue_arn: str, trigger: SqsTrigger, function: LocalFunction) -> None:
        super().__init__(name=f"poller-{function.spec.logical_id}", daemon=True)
        self.sqs = sqs
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.trigger = trigger
        self.function = function
        self.stopping = threading.Event()

    def poll_once(self, wait_seconds: int = 1) -> int:
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(self.trigger.batch_size, 10),
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if not messages:
            return 0
        event = {"Records": [to_lambda_record(message, self.queue_arn) for message in messages]}
        try:
            result = self.function.invoke(event)
        except Exception:  # noqa: BLE001 - a crashed batch: every message is retried
            import traceback

            traceback.print_exc()
            return len(messages)
        failed: set[str] = set()
        if self.trigger.report_batch_item_failures and isinstance(result, dict):
            failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        return len(messages)

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.poll_once()
            except Exception:  # noqa: BLE001 - keep polling through a transient error
                self.stopping.wait(1)

    def stop(self) -> None:
        self.stopping.set()
