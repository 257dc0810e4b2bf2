"""Call-history listings: DynamoDB Queries on the calls table's indexes, newest first, never a Scan.

A listing is one Query per index partition: by the other party's number, by contact, by
manager, or day by day over a bounded range. The first key a query gives picks the index;
the others narrow it as filters. The cursor handed back is opaque to the caller: it
carries the listing it belongs to (index, key, filters, time range), so a cursor used
with another listing is refused instead of reaching DynamoDB with a foreign start key.

The four indexes project keys only (template.yaml): a call record is written several times
while the call goes on, and an index that holds only keys is not written when no key changes.
A page is therefore one Query for the keys and one BatchGetItem for the records; the filters
(direction, status, the other keys) apply to the records fetched, as a FilterExpression would
(a Query's ``Limit`` counts the items it looks at, matching or not).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from ringbridge.domain.call_history import CallQuery
from ringbridge.domain.calls import CallRecord
from ringbridge.domain.errors import InvalidInput, Unavailable
from ringbridge.storage.aws import DynamoStore
from ringbridge.storage.calls import item_to_record

# One page may walk several partitions (days) and filtered-out items; bound the work per request.
MAX_QUERIES_PER_PAGE = 40
# BatchGetItem takes at most 100 keys a request.
BATCH_GET_KEYS = 100
BATCH_GET_ATTEMPTS = 5
# index name -> the attribute it is partitioned by (all are sorted by ``started_at``)
INDEX_KEYS = {
    "by_other_party": "other_party",
    "by_contact": "contact_id",
    "by_manager": "manager_employee_id",
    "by_day": "call_day",
}
_KEYED = (("phone", "by_other_party"), ("contact_id", "by_contact"), ("manager", "by_manager"))
_FOREIGN = "invalid field 'cursor': it belongs to another listing; start again without it"


class Listing(BaseModel):
    """One listing as DynamoDB walks it: an index, its partitions (newest first), filters, a time range."""

    model_config = ConfigDict(frozen=True)

    index: str
    partitions: list[str]
    filters: dict[str, str]
    start: str | None = None
    end: str | None = None

    @property
    def key_attribute(self) -> str:
        return INDEX_KEYS[self.index]

    def fingerprint(self) -> str:
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]


class _Position(BaseModel):
    """Where the next page starts, and what it is a page of."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    listing: Listing
    partition: int = 0
    last_key: dict[str, str] | None = None


def _days(start: str, end: str) -> list[str]:
    first, day = date.fromisoformat(start[:10]), date.fromisoformat(end[:10])
    days = []
    while day >= first:
        days.append(day.isoformat())
        day -= timedelta(days=1)
    return days


def listing_of(query: CallQuery) -> Listing:
    """Pick the index for ``query``: the first key it gives; the other keys and words become filters."""
    keys = [(index, getattr(query, field)) for field, index in _KEYED if getattr(query, field)]
    filters = {INDEX_KEYS[index]: value for index, value in keys[1:]}
    if query.direction is not None:
        filters["direction"] = query.direction.value
    if query.status is not None:
        filters["status"] = query.status.value
    if keys:
        index, value = keys[0]
        return Listing(index=index, partitions=[value], filters=filters, start=query.start, end=query.end)
    if query.start is None or query.end is None:  # pragma: no cover - parse_call_query bounds every unkeyed listing
        raise InvalidInput("invalid field 'from': a listing of every call needs a time range")
    return Listing(index="by_day", partitions=_days(query.start, query.end), filters=filters, start=query.start, end=query.end)


def encode_cursor(position: _Position) -> str:
    raw = json.dumps(position.model_dump(), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(raw: str) -> _Position:
    try:
        position = _Position.model_validate_json(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError, ValidationError):
        raise InvalidInput("invalid field 'cursor': not a cursor from this API") from None
    listing = position.listing
    if listing.index not in INDEX_KEYS or not 0 <= position.partition < len(listing.partitions):
        raise InvalidInput("invalid field 'cursor': not a cursor from this API")
    if position.last_key is not None:
        expected = {"call_id", "started_at", listing.key_attribute}
        if (
            set(position.last_key) != expected
            or position.last_key[listing.key_attribute] != listing.partitions[position.partition]
        ):
            raise InvalidInput("invalid field 'cursor': not a cursor from this API")
    return position


def _resume(query: CallQuery) -> _Position:
    """Where this request starts: the first page of its listing, or the page its cursor names."""
    if query.cursor is None:
        return _Position(listing=listing_of(query))
    position = decode_cursor(query.cursor)
    carried = position.listing
    # The request must name the same listing; a range left out is the cursor's own.
    if query.keyed != (carried.index != "by_day"):
        raise InvalidInput(_FOREIGN)
    asked = listing_of(query.model_copy(update={"start": query.start or carried.start, "end": query.end or carried.end}))
    if asked.fingerprint() != carried.fingerprint():
        raise InvalidInput(_FOREIGN)
    return position


def _outside_range(listing: Listing, last_key: dict[str, str] | None) -> bool:
    """A start key outside the key condition's range is a ValidationException on DynamoDB: such a page is the end."""
    if last_key is None:
        return False
    at = last_key.get("started_at", "")
    return bool((listing.start and at < listing.start) or (listing.end and at > listing.end))


class DynamoCallHistory(DynamoStore):
    def page(self, query: CallQuery) -> tuple[list[CallRecord], str | None]:
        """Up to ``query.limit`` calls and the cursor of the next page (None at the end)."""
        position = _resume(query)
        listing, partition, start_key = position.listing, position.partition, position.last_key
        if _outside_range(listing, start_key):
            return [], None
        found: list[CallRecord] = []
        queries = 0
        while partition < len(listing.partitions):
            if queries >= MAX_QUERIES_PER_PAGE:
                return found, encode_cursor(_Position(listing=listing, partition=partition, last_key=start_key))
            request = self._request(listing, listing.partitions[partition], query.limit - len(found), start_key)
            response = self.dynamodb.query(**request)
            queries += 1
            found.extend(record for record in self._records(response.get("Items", [])) if _matches(record, listing.filters))
            last = response.get("LastEvaluatedKey")
            start_key = {name: value["S"] for name, value in last.items()} if last else None
            if start_key is None:
                partition += 1
            if len(found) >= query.limit:
                if partition >= len(listing.partitions):
                    return found, None
                return found, encode_cursor(_Position(listing=listing, partition=partition, last_key=start_key))
        return found, None

    def _request(self, listing: Listing, partition: str, limit: int, start_key: dict[str, str] | None) -> dict[str, Any]:
        names = {"#pk": listing.key_attribute}
        values: dict[str, Any] = {":pk": {"S": partition}}
        condition = "#pk = :pk"
        if listing.start or listing.end:
            names["#at"] = "started_at"
        if listing.start and listing.end:
            condition += " AND #at BETWEEN :start AND :end"
            values.update({":start": {"S": listing.start}, ":end": {"S": listing.end}})
        elif listing.start:
            condition += " AND #at >= :start"
            values[":start"] = {"S": listing.start}
        elif listing.end:
            condition += " AND #at <= :end"
            values[":end"] = {"S": listing.end}
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": listing.index,
            "KeyConditionExpression": condition,
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if start_key:
            request["ExclusiveStartKey"] = {name: {"S": value} for name, value in start_key.items()}
        request["ExpressionAttributeNames"] = names
        request["ExpressionAttributeValues"] = values
        return request

    def calls_between(self, start: str, end: str) -> Iterator[CallRecord]:
        """Every call that started in [start, end]: one Query per UTC day on ``by_day`` (pages of 1 MB), never a Scan."""
        for day in _days(start, end):
            pages = self.dynamodb.get_paginator("query").paginate(
                TableName=self.table,
                IndexName="by_day",
                KeyConditionExpression="call_day = :day AND started_at BETWEEN :start AND :end",
                ExpressionAttributeValues={":day": {"S": day}, ":start": {"S": start}, ":end": {"S": end}},
            )
            for response in pages:
                yield from self._records(response.get("Items", []))

    def _records(self, keys: list[dict[str, Any]]) -> list[CallRecord]:
        """The records of an index page (keys only), in the page's order; one gone meanwhile is left out."""
        wanted = [key["call_id"]["S"] for key in keys]
        items: dict[str, dict[str, Any]] = {}
        for first in range(0, len(wanted), BATCH_GET_KEYS):
            pending: dict[str, Any] = {
                self.table: {"Keys": [{"call_id": {"S": call_id}} for call_id in wanted[first : first + BATCH_GET_KEYS]]}
            }
            for attempt in range(BATCH_GET_ATTEMPTS):
                if attempt:
                    time.sleep(0.05 * 2**attempt)  # keys left unprocessed: the table is throttling
                response = self.dynamodb.batch_get_item(RequestItems=pending)
                for item in response.get("Responses", {}).get(self.table, []):
                    items[item["call_id"]["S"]] = item
                pending = response.get("UnprocessedKeys") or {}
                if not pending:
                    break
            else:
                raise Unavailable("the call history is busy; retry")
        return [item_to_record(items[call_id]) for call_id in wanted if call_id in items]


def _matches(record: CallRecord, filters: dict[str, str]) -> bool:
    """The listing's filters (attribute = value) on a fetched record."""
    shown = record.model_dump(mode="json", include=set(filters))
    return all(shown.get(attribute) == value for attribute, value in filters.items())
