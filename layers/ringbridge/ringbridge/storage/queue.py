"""The call queue (SQS) between ingestion and the CRM sync worker."""

from __future__ import annotations

import json

from ringbridge.storage.aws import client


class SqsCallQueue:
    def __init__(self, queue_url: str) -> None:
        self.queue_url = queue_url

    def enqueue(self, call_id: str, moment: str) -> None:
        client("sqs").send_message(QueueUrl=self.queue_url, MessageBody=json.dumps({"call_id": call_id, "moment": moment}))
