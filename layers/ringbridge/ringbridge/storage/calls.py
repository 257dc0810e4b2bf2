"""The calls table: one item per Ringostat call id, merged with optimistic concurrency."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from ringbridge.domain.calls import CallEvent, CallRecord, SyncFailure, merge
from ringbridge.domain.errors import Conflict
from ringbridge.domain.parameters import PARAMETER_NAME
from ringbridge.observability import logger
from ringbridge.storage.aws import DynamoStore, from_item, to_item

MERGE_ATTEMPTS = 5


def record_to_item(record: CallRecord) -> dict[str, Any]:
    values = record.model_dump(mode="json", exclude_none=True)
    values["utm"] = {key: value for key, value in values.get("utm", {}).items() if value is not None}
    for empty in ("utm", "extra", "moments", "sync_failures", "sync_steps", "imported"):
        if not values.get(empty):
            values.pop(empty, None)
    return to_item(values)


def item_to_record(item: dict[str, Any]) -> CallRecord:
    """A stored call; unknown parameters that a record cannot hold (stored before they were refused) are dropped."""
    values = from_item(item)
    extra = values.get("extra")
    if extra is not None:
        kept = (
            {key: value for key, value in extra.items() if isinstance(key, str) and PARAMETER_NAME.match(key)}
            if isinstance(extra, dict)
            else {}
        )
        values["extra"] = {key: value if isinstance(value, str) else str(value) for key, value in kept.items()}
    try:
        return CallRecord.model_validate(values)
    except ValidationError:
        # L2: one poisoned item must not make a listing fail; what it says about the call is still shown.
        logger.warning("stored call record is invalid; unknown parameters left out", extra={"call_id": values.get("call_id")})
        values.pop("extra", None)
        return CallRecord.model_validate(values)


class DynamoCalls(DynamoStore):
    def get(self, call_id: str) -> CallRecord | None:
        item = self.dynamodb.get_item(TableName=self.table, Key={"call_id": {"S": call_id}}, ConsistentRead=True).get("Item")
        return item_to_record(item) if item else None

    def apply(self, event: CallEvent) -> tuple[CallRecord, bool]:
        """Merge ``event`` into its call record; return the record and whether it changed."""
        for _ in range(MERGE_ATTEMPTS):
            current = self.get(event.call_id)
            merged = merge(current, event, datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"))
            if current is not None and merged.model_dump(exclude={"version"}) == current.model_dump(exclude={"version"}):
                # A replay: nothing new (an estimated start time is not re-estimated).
                return current, False
            if self._write(merged, expected_version=current.version if current else None):
                return merged, True
        raise Conflict(f"call {event.call_id} is being updated by other events; retry")

    def save(self, record: CallRecord, expected_version: int) -> bool:
        """Write a changed record if nobody wrote it since ``expected_version``."""
        return self._write(record, expected_version)

    def record_sync_failure(self, call_id: str, failure: SyncFailure) -> None:
        """Put ``failure`` on the call (one entry per step), under the record's version like every other write."""
        for _ in range(MERGE_ATTEMPTS):
            current = self.get(call_id)
            if current is None:
                return  # the call is gone (expired): nothing to note it on
            failures = [known for known in current.sync_failures if known.step != failure.step]
            changed = current.model_copy(update={"sync_failures": [*failures, failure]})
            if self._write(changed, expected_version=current.version):
                return
        raise Conflict(f"call {call_id} is being updated by other events; retry")

    def mark_synced(self, call_id: str, steps: dict[str, str], synced_at: str | None) -> CallRecord | None:
        """One UpdateItem: the call's done steps (the whole map: one worker per number decides) and ``synced_at``.

        The version moves too, so a merge that read the call before cannot write the markers away.
        """
        expression = "SET sync_steps = :steps, version = version + :one"
        values: dict[str, Any] = {":steps": to_item({"v": steps})["v"], ":one": {"N": "1"}}
        if synced_at is not None:
            expression += ", synced_at = :synced"
            values[":synced"] = {"S": synced_at}
        try:
            written = self.dynamodb.update_item(
                TableName=self.table,
                Key={"call_id": {"S": call_id}},
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(call_id)",
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",  # the call as it stands now, in the same call
            )
        except self.dynamodb.exceptions.ConditionalCheckFailedException:
            return None  # the call is gone (expired): nothing to mark
        return item_to_record(written["Attributes"])

    def _write(self, record: CallRecord, expected_version: int | None) -> bool:
        new = record.model_copy(update={"version": (expected_version or 0) + 1})
        condition: dict[str, Any]
        if expected_version is None:
            condition = {"ConditionExpression": "attribute_not_exists(call_id)"}
        else:
            condition = {
                "ConditionExpression": "version = :expected",
                "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}},
            }
        try:
            self.dynamodb.put_item(TableName=self.table, Item=record_to_item(new), **condition)
        except self.dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True
