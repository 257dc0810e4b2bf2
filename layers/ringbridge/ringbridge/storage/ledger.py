"""The ledger of the call pipeline, in the dedup table: claims, locks and remembered effects.

Every write is conditional, so two workers can never both believe they own a key.
The CRM rate budget and parked webhook events live in the same table under their own key prefixes.
"""

from __future__ import annotations

import time
from typing import Any

from ringbridge.domain.clock import utc_stamp
from ringbridge.storage.aws import DynamoStore


class DynamoLedger(DynamoStore):
    def claim(self, key: str, owner: str, ttl_seconds: int | None = None) -> bool:
        now = int(time.time())
        item: dict[str, Any] = {"id": {"S": key}, "owner": {"S": owner}}
        if ttl_seconds is not None:
            # DynamoDB's TTL deletes late (up to days): the condition also treats an expired lock as free.
            item["expiration"] = {"N": str(now + ttl_seconds)}
        try:
            self.dynamodb.put_item(
                TableName=self.table,
                Item=item,
                ConditionExpression=(
                    "attribute_not_exists(id) OR #owner = :owner OR (attribute_exists(expiration) AND expiration < :now)"
                ),
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":owner": {"S": owner}, ":now": {"N": str(now)}},
            )
        except self.dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def release(self, key: str, owner: str) -> None:
        try:
            self.dynamodb.delete_item(
                TableName=self.table,
                Key={"id": {"S": key}},
                ConditionExpression="#owner = :owner",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":owner": {"S": owner}},
            )
        except self.dynamodb.exceptions.ConditionalCheckFailedException:
            pass  # expired and taken by another worker: not ours to delete

    def recall(self, key: str) -> str | None:
        item = self.dynamodb.get_item(TableName=self.table, Key={"id": {"S": key}}, ConsistentRead=True).get("Item")
        return item["value"]["S"] if item and "value" in item else None

    def remember(self, key: str, value: str) -> None:
        self.dynamodb.put_item(TableName=self.table, Item={"id": {"S": key}, "value": {"S": value}})

    def record_click_to_call(self, phone: str, employee_id: str, sip_account: str, mode: str, ttl_seconds: int) -> None:
        self.dynamodb.put_item(
            TableName=self.table,
            Item={
                "id": {"S": f"click_to_call#{phone}"},
                "employee_id": {"S": employee_id},
                "sip_account": {"S": sip_account},
                "mode": {"S": mode},
                "requested_at": {"S": utc_stamp()},
                "expiration": {"N": str(int(time.time()) + ttl_seconds)},
            },
        )
