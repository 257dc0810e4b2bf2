"""Parked webhook deliveries: an event AWS refused for good is kept for an operator, never lost (T1).

A permanent refusal (an item over 400 KB, a ValidationException) answers Ringostat with a 4xx,
which it does not re-send. So the delivery as it came (path, parameters without the token,
body, reason) is stored in the dedup table under ``parked#<time>#<id>``, kept 30 days, for
``python -m ringbridge.cli parked list`` to show and an operator to replay or discard.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from ringbridge.storage.aws import DynamoStore, from_item, to_item

PARKED_PREFIX = "parked#"
PARKED_SECONDS = 30 * 24 * 3600
MAX_PARKED_BODY = 100_000


class DynamoParkedEvents(DynamoStore):
    def park(self, path: str, parameters: dict[str, str], body: str, reason: str) -> str:
        """Store one refused delivery; return its key (logged, so an operator finds it)."""
        now = datetime.now(UTC)
        key = f"{PARKED_PREFIX}{now.strftime('%Y%m%dT%H%M%SZ')}#{uuid.uuid4().hex[:12]}"
        item = {
            "id": key,
            "path": path,
            "parameters": {name: value for name, value in parameters.items() if name != "token"},
            "body": body[:MAX_PARKED_BODY],
            "reason": reason,
            "parked_at": now.isoformat(timespec="seconds"),
            "expiration": int(time.time()) + PARKED_SECONDS,
        }
        self.dynamodb.put_item(TableName=self.table, Item=to_item(item), ConditionExpression="attribute_not_exists(id)")
        return key

    def list(self) -> list[dict[str, Any]]:
        """Every parked delivery (an operator's command: a Scan, never on a request path)."""
        found: list[dict[str, Any]] = []
        request: dict[str, Any] = {
            "TableName": self.table,
            "FilterExpression": "begins_with(id, :prefix)",
            "ExpressionAttributeValues": {":prefix": {"S": PARKED_PREFIX}},
        }
        while True:
            page = self.dynamodb.scan(**request)
            found.extend(from_item(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return sorted(found, key=lambda item: str(item["id"]))
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
