"""The SIP-mappings table: one item per identifier of an employee, each a full copy.

Any identifier (employee id, CRM manager id, Ringostat employee id, SIP account, FMC
number) finds the employee in one GetItem. Only the canonical item (``employee#<id>``)
carries ``kind``, so the sparse ``by_kind`` index lists employees without a Scan.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ringbridge.domain.employees import Employee, EmployeeKeyKind, employee_key
from ringbridge.domain.errors import Conflict
from ringbridge.storage.aws import DynamoStore, from_item, to_item

_CANONICAL_KIND = "employee"


class DynamoEmployees(DynamoStore):
    def _get_key(self, key: str) -> Employee | None:
        response = self.dynamodb.get_item(TableName=self.table, Key={"key": {"S": key}})
        item = response.get("Item")
        return Employee.model_validate(from_item(item)) if item else None

    def get(self, employee_id: str) -> Employee | None:
        return self._get_key(employee_key(EmployeeKeyKind.EMPLOYEE, employee_id))

    def find(self, kind: EmployeeKeyKind, value: str) -> Employee | None:
        return self._get_key(employee_key(kind, value))

    def save(self, employee: Employee) -> None:
        previous = self.get(employee.employee_id)
        new_keys = employee.identifier_keys()
        stale_keys = [key for key in (previous.identifier_keys() if previous else []) if key not in new_keys]
        body = employee.model_dump()
        mine = {":id": {"S": employee.employee_id}}
        actions: list[dict[str, Any]] = []
        for index, key in enumerate(new_keys):
            item = {**body, "key": key}
            if index == 0:
                item["kind"] = _CANONICAL_KIND
            actions.append(
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": to_item(item),
                        "ConditionExpression": "attribute_not_exists(#k) OR employee_id = :id",
                        "ExpressionAttributeNames": {"#k": "key"},
                        "ExpressionAttributeValues": mine,
                    }
                }
            )
        for key in stale_keys:
            actions.append(
                {
                    "Delete": {
                        "TableName": self.table,
                        "Key": {"key": {"S": key}},
                        "ConditionExpression": "employee_id = :id",
                        "ExpressionAttributeValues": mine,
                    }
                }
            )
        try:
            self.dynamodb.transact_write_items(TransactItems=actions)
        except self.dynamodb.exceptions.TransactionCanceledException as error:
            reasons = error.response.get("CancellationReasons", [])
            for index, reason in enumerate(reasons):
                if reason.get("Code") == "ConditionalCheckFailed" and index < len(new_keys):
                    kind, _, value = new_keys[index].partition("#")
                    raise Conflict(f"{kind} identifier {value!r} already belongs to another employee") from error
            raise Conflict("the mapping changed meanwhile; try again") from error

    def delete(self, employee_id: str) -> bool:
        previous = self.get(employee_id)
        if previous is None:
            return False
        actions = [
            {
                "Delete": {
                    "TableName": self.table,
                    "Key": {"key": {"S": key}},
                    "ConditionExpression": "employee_id = :id",
                    "ExpressionAttributeValues": {":id": {"S": employee_id}},
                }
            }
            for key in previous.identifier_keys()
        ]
        try:
            self.dynamodb.transact_write_items(TransactItems=actions)
        except self.dynamodb.exceptions.TransactionCanceledException as error:
            raise Conflict("the mapping changed meanwhile; try again") from error
        return True

    def list(self) -> Iterator[Employee]:
        paginator = self.dynamodb.get_paginator("query")
        pages = paginator.paginate(
            TableName=self.table,
            IndexName="by_kind",
            KeyConditionExpression="kind = :kind",
            ExpressionAttributeValues={":kind": {"S": _CANONICAL_KIND}},
        )
        for page in pages:
            for item in page.get("Items", []):
                yield Employee.model_validate(from_item(item))
