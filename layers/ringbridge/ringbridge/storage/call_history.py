"""Call-history listings: DynamoDB Queries on the calls table's indexes, newest first, never a Scan."""

from __future__ import annotations

from typing import Any

from ringbridge.domain.call_history import CallQuery, Cursor
from ringbridge.domain.calls import CallRecord
from ringbridge.storage.aws import DynamoStore
from ringbridge.storage.calls import item_to_record

# One page may walk several partitions (days) and filtered-out items; bound the work per request.
MAX_QUERIES_PER_PAGE = 40


class DynamoCallHistory(DynamoStore):
    def page(self, query: CallQuery) -> tuple[list[CallRecord], Cursor | None]:
        """Up to ``query.limit`` calls and the cursor of the next page (None at the end)."""
        partitions: list[str | None] = list(query.days) if query.index == "by_day" else [query.key_value]
        position, start_key = 0, None
        if query.cursor is not None:
            position = partitions.index(query.cursor.day) if query.index == "by_day" else 0
            start_key = query.cursor.last_key
        found: list[CallRecord] = []
        queries = 0
        while position < len(partitions):
            partition = partitions[position]
            day = partition if query.index == "by_day" else None
            if queries >= MAX_QUERIES_PER_PAGE:
                return found, Cursor(day=day, last_key=start_key)
            response = self.dynamodb.query(**self._request(query, partition, query.limit - len(found), start_key))
            queries += 1
            found.extend(item_to_record(item) for item in response.get("Items", []))
            last = response.get("LastEvaluatedKey")
            start_key = {name: value["S"] for name, value in last.items()} if last else None
            if start_key is None:
                position += 1
            if len(found) >= query.limit:
                if position >= len(partitions):
                    return found, None
                next_day = partitions[position] if query.index == "by_day" else None
                return found, Cursor(day=next_day, last_key=start_key)
        return found, None

    def _request(self, query: CallQuery, partition: str | None, limit: int, start_key: dict[str, str] | None) -> dict[str, Any]:
        names = {"#pk": query.key_attribute}
        values: dict[str, Any] = {":pk": {"S": partition}}
        condition = "#pk = :pk"
        if query.start or query.end:
            names["#at"] = "started_at"
        if query.start and query.end:
            condition += " AND #at BETWEEN :start AND :end"
            values.update({":start": {"S": query.start}, ":end": {"S": query.end}})
        elif query.start:
            condition += " AND #at >= :start"
            values[":start"] = {"S": query.start}
        elif query.end:
            condition += " AND #at <= :end"
            values[":end"] = {"S": query.end}
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": query.index,
            "KeyConditionExpression": condition,
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if query.filters:
            clauses = []
            for number, (attribute, value) in enumerate(sorted(query.filters.items())):
                names[f"#f{number}"] = attribute
                values[f":f{number}"] = {"S": value}
                clauses.append(f"#f{number} = :f{number}")
            request["FilterExpression"] = " AND ".join(clauses)
        if start_key:
            request["ExclusiveStartKey"] = {name: {"S": value} for name, value in start_key.items()}
        request["ExpressionAttributeNames"] = names
        request["ExpressionAttributeValues"] = values
        return request
