"""A CRM key's request slots, shared by every container, in the dedup table (``crm-rate#<key hash>``).

Why one counter item and not one item per slot: a put per slot (``attribute_not_exists``)
makes a container that finds a slot taken try the next one, and the next, one write each:
under load every container walks over the slots the others took. The counter hands out the
next free slot in one conditional ``UpdateItem`` whatever the load:

- ``next`` is the first slot nobody holds. Busy key (``current < next <= latest``): the
  caller gets ``next`` and moves it on by one. Idle key (``next <= current`` or no item): the
  caller gets ``current`` and sets ``next`` to ``current + 1``. Each step is one atomic,
  conditional write, so no slot is ever handed out twice and ``next`` never goes back.
- ``next > latest``: every slot within the caller's wait is taken: nothing is written, the
  caller gives up (its message goes back to the queue) instead of reserving a slot it would
  not wait for, so a backlog cannot push the counter ever further ahead.

Which step comes first follows the last answer this container saw (one write a request in a
steady state, idle or busy); a step that fails tells, with the item it returns, whether the
key is full or the other step applies. ``expiration`` (the table's TTL) drops a key unused for
a day.
"""

from __future__ import annotations

import time
from typing import Any

from ringbridge.storage.aws import DynamoStore

PREFIX = "crm-rate#"
UNUSED_SECONDS = 86_400
_ROUNDS = 3  # a step can lose a race to another container only while the key turns from idle to busy


class DynamoRateBudget(DynamoStore):
    """The ``RateBudget`` port on DynamoDB: one counter item per CRM key."""

    def __init__(self, table: str, dynamodb: Any | None = None) -> None:
        super().__init__(table, dynamodb)
        self._busy: dict[str, bool] = {}
        self.writes = 0  # DynamoDB requests made, for measurements

    def claim(self, key: str, current: int, latest: int) -> int | None:
        busy = self._busy.get(key, False)
        for _ in range(_ROUNDS):
            for step in (self._take_next, self._start_now) if busy else (self._start_now, self._take_next):
                slot, full = step(key, current, latest)
                if slot is not None:
                    self._busy[key] = slot > current
                    return slot
                if full:
                    self._busy[key] = True
                    return None
        return None

    def _update(self, key: str, expression: str, condition: str, values: dict[str, Any]) -> tuple[dict[str, Any] | None, Any]:
        """One conditional write; (the old item, None) on success, (None, the item as it is or None) on refusal."""
        self.writes += 1
        try:
            answer = self.dynamodb.update_item(
                TableName=self.table,
                Key={"id": {"S": PREFIX + key}},
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames={"#next": "next"},
                ExpressionAttributeValues={**values, ":expiration": {"N": str(int(time.time()) + UNUSED_SECONDS)}},
                ReturnValues="UPDATED_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self.dynamodb.exceptions.ConditionalCheckFailedException as refused:
            return None, refused.response.get("Item")
        return answer.get("Attributes", {}), None

    def _take_next(self, key: str, current: int, latest: int) -> tuple[int | None, bool]:
        old, refused_item = self._update(
            key,
            "SET #next = #next + :one, expiration = :expiration",
            "#next > :current AND #next <= :latest",
            {":one": {"N": "1"}, ":current": {"N": str(current)}, ":latest": {"N": str(latest)}},
        )
        if old is not None:
            return int(old["next"]["N"]), False
        return None, refused_item is not None and int(refused_item["next"]["N"]) > latest

    def _start_now(self, key: str, current: int, latest: int) -> tuple[int | None, bool]:
        old, refused_item = self._update(
            key,
            "SET #next = :after, expiration = :expiration",
            "attribute_not_exists(#next) OR #next <= :current",
            {":after": {"N": str(current + 1)}, ":current": {"N": str(current)}},
        )
        if old is not None:
            return current, False
        return None, refused_item is not None and int(refused_item["next"]["N"]) > latest
