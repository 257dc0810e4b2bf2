"""Paged listings of the built-in store's cards, tasks and contacts: Queries on one index, never a Scan.

An :class:`IndexListing` names an index, the partitions it walks in order (e.g. the card
statuses asked for), a sort-key bound or prefix and equality/prefix filters. The cursor handed
back is opaque: it carries the listing it belongs to, so a cursor used with another listing
(other filters, another resource) is refused instead of reaching DynamoDB with a foreign key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from ringbridge.domain.errors import InvalidInput
from ringbridge.storage.aws import from_item

# One page may walk several partitions and filtered-out items; bound the work per request.
MAX_QUERIES_PER_PAGE = 20
_NOT_OURS = "invalid field 'cursor': not a cursor from this API"
_FOREIGN = "invalid field 'cursor': it belongs to another listing; start again without it"


class IndexListing(BaseModel):
    model_config = ConfigDict(frozen=True)

    resource: str  # cards | tasks | contacts: a cursor of one is never taken for another
    index: str
    key: str  # the index's partition attribute
    partitions: list[str]
    sort: str  # the index's sort attribute
    newest_first: bool = True
    sort_at_most: str | None = None  # sort <= this
    sort_prefix: str | None = None  # begins_with(sort, this)
    filters: dict[str, str] = {}  # attribute = value
    at_most_filters: dict[str, str] = {}  # attribute <= value
    any_prefix: list[tuple[str, str]] = []  # begins_with(attribute, value) for any one of them

    def fingerprint(self) -> str:
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]


class _Position(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    listing: str  # the fingerprint of the listing it continues
    partition: int = 0
    last_key: dict[str, str] | None = None


def _encode(position: _Position) -> str:
    raw = json.dumps(position.model_dump(), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(raw: str, listing: IndexListing, table_key: str) -> _Position:
    try:
        position = _Position.model_validate_json(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError, ValidationError):
        raise InvalidInput(_NOT_OURS) from None
    if position.listing != listing.fingerprint():
        raise InvalidInput(_FOREIGN)
    if not 0 <= position.partition < len(listing.partitions):
        raise InvalidInput(_NOT_OURS)
    last = position.last_key
    if last is not None and (
        set(last) != {table_key, listing.key, listing.sort} or last[listing.key] != listing.partitions[position.partition]
    ):
        raise InvalidInput(_NOT_OURS)
    return position


def _request(table: str, listing: IndexListing, partition: str, limit: int, start: dict[str, str] | None) -> dict[str, Any]:
    names = {"#pk": listing.key, "#sk": listing.sort}
    values: dict[str, Any] = {":pk": {"S": partition}}
    condition = "#pk = :pk"
    if listing.sort_at_most is not None:
        condition += " AND #sk <= :most"
        values[":most"] = {"S": listing.sort_at_most}
    elif listing.sort_prefix:
        condition += " AND begins_with(#sk, :prefix)"
        values[":prefix"] = {"S": listing.sort_prefix}
    else:
        names.pop("#sk")
    clauses = []
    for number, (attribute, value) in enumerate(sorted(listing.filters.items())):
        names[f"#f{number}"], values[f":f{number}"] = attribute, {"S": value}
        clauses.append(f"#f{number} = :f{number}")
    for number, (attribute, value) in enumerate(sorted(listing.at_most_filters.items())):
        names[f"#m{number}"], values[f":m{number}"] = attribute, {"S": value}
        clauses.append(f"#m{number} <= :m{number}")
    alternatives = []
    for number, (attribute, value) in enumerate(listing.any_prefix):
        names[f"#p{number}"], values[f":p{number}"] = attribute, {"S": value}
        alternatives.append(f"begins_with(#p{number}, :p{number})")
    if alternatives:
        clauses.append("(" + " OR ".join(alternatives) + ")")
    request: dict[str, Any] = {
        "TableName": table,
        "IndexName": listing.index,
        "KeyConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ScanIndexForward": not listing.newest_first,
        "Limit": limit,
    }
    if clauses:
        request["FilterExpression"] = " AND ".join(clauses)
    if start:
        request["ExclusiveStartKey"] = {name: {"S": value} for name, value in start.items()}
    return request


def page(
    dynamodb: Any, table: str, table_key: str, listing: IndexListing, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Up to ``limit`` items of ``listing`` from ``cursor`` on, and the next page's cursor (None at the end)."""
    position = _decode(cursor, listing, table_key) if cursor else _Position(listing=listing.fingerprint())
    partition, start = position.partition, position.last_key
    found: list[dict[str, Any]] = []
    queries = 0
    while partition < len(listing.partitions):
        if queries >= MAX_QUERIES_PER_PAGE:
            break
        response = dynamodb.query(**_request(table, listing, listing.partitions[partition], limit - len(found), start))
        queries += 1
        found.extend(from_item(item) for item in response.get("Items", []))
        last = response.get("LastEvaluatedKey")
        start = {name: value["S"] for name, value in last.items()} if last else None
        if start is None:
            partition += 1
        if len(found) >= limit:
            break
    if partition >= len(listing.partitions):
        return found, None
    return found, _encode(_Position(listing=listing.fingerprint(), partition=partition, last_key=start))
