"""The SIP-mappings table: one item per identifier of an employee, each a full copy.

Any identifier (employee id, CRM manager id, Ringostat employee id, SIP account, FMC
number) finds the employee in one GetItem. Only the canonical item (``employee#<id>``)
carries ``kind``, so the sparse ``by_kind`` index lists employees without a Scan.

Saving uses single-item conditional writes only (no TransactWriteItems, which not every
DynamoDB implementation has). The order makes every state a crash or a concurrent save
can leave harmless:

1. **Claim** the identifiers the employee did not have: a PutItem each, on condition
   ``attribute_not_exists(key) OR employee_id = :me``. DynamoDB applies conditional writes
   to one item one at a time, so of two employees claiming the same SIP account exactly one
   wins; the other gets ConditionalCheckFailed, answers 409 and undoes its own claims.
2. **Rewrite** the identifiers it already had (nobody else can claim an item that exists
   and is this employee's).
3. **The canonical item last**, on condition that it is still the version read at the
   start (its ``saved_by`` mark): the canonical item is what ``get``, ``list`` and ``delete``
   go by, so it only ever names identifiers this employee holds. A concurrent save of the
   same employee that got there first makes this one undo its writes and answer 409.
4. **Drop** the identifiers the employee no longer has, now that the new ones route.

Each write carries a fresh ``saved_by`` mark, and undoing (after a refusal or any error) puts
back exactly what each write replaced, on condition that the mark is still this save's:
an undo never erases another save's write. A save that crashes halfway (the Lambda killed
between two writes) leaves, at worst, identifiers claimed for *this* employee that its
canonical item does not list yet: they route to the employee they were meant for, never to
a wrong one, and the caller's retry of the same save (the route answered 5xx) completes it.
A routing ping reads one item and sees either the old or the new copy, never a mix.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from ringbridge.domain.employees import Employee, EmployeeKeyKind, employee_key
from ringbridge.domain.errors import Conflict
from ringbridge.domain.ports import EmployeeDirectory
from ringbridge.storage.aws import DynamoStore, from_item, to_item

_CANONICAL_KIND = "employee"
# Written on every item by the save that wrote it: undo and the canonical check compare it (not a secret).
_SAVE_MARK = "saved_by"

# An item as it was before a write of this save (None: there was none), to put back on undo.
_Written = tuple[str, dict[str, Any] | None]


class DynamoEmployees(DynamoStore):
    def _get_item(self, key: str) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self.dynamodb.get_item(TableName=self.table, Key={"key": {"S": key}}).get("Item")
        return item

    def _get_key(self, key: str) -> Employee | None:
        item = self._get_item(key)
        return Employee.model_validate(from_item(item)) if item else None

    def get(self, employee_id: str) -> Employee | None:
        return self._get_key(employee_key(EmployeeKeyKind.EMPLOYEE, employee_id))

    def find(self, kind: EmployeeKeyKind, value: str) -> Employee | None:
        return self._get_key(employee_key(kind, value))

    def save(self, employee: Employee) -> None:
        canonical, *identifiers = employee.identifier_keys()
        stored = self._get_item(canonical)
        previous = Employee.model_validate(from_item(stored)) if stored else None
        previous_keys = set(previous.identifier_keys()) if previous else set()
        mark = uuid.uuid4().hex
        body = {**employee.model_dump(), _SAVE_MARK: mark}
        written: list[_Written] = []
        try:
            for key in [key for key in identifiers if key not in previous_keys] + [
                key for key in identifiers if key in previous_keys
            ]:
                written.append((key, self._claim(key, body, employee.employee_id)))
            self._put_canonical(canonical, body, stored)
        except Exception:
            self._undo(written, mark)
            raise
        for key in previous_keys - set(identifiers) - {canonical}:
            self._drop(key, employee.employee_id)

    def _claim(self, key: str, body: dict[str, Any], employee_id: str) -> dict[str, Any] | None:
        """Put ``key``'s copy unless another employee holds it (409); return the item it replaced."""
        try:
            response = self.dynamodb.put_item(
                TableName=self.table,
                Item=to_item({**body, "key": key}),
                ConditionExpression="attribute_not_exists(#k) OR employee_id = :id",
                ExpressionAttributeNames={"#k": "key"},
                ExpressionAttributeValues={":id": {"S": employee_id}},
                ReturnValues="ALL_OLD",
            )
        except self.dynamodb.exceptions.ConditionalCheckFailedException as error:
            kind, _, value = key.partition("#")
            raise Conflict(f"{kind} identifier {value!r} already belongs to another employee") from error
        old: dict[str, Any] | None = response.get("Attributes") or None
        return old

    def _put_canonical(self, key: str, body: dict[str, Any], stored: dict[str, Any] | None) -> None:
        """The canonical item, if nobody saved this employee since ``stored`` was read."""
        condition: dict[str, Any]
        if stored is None:
            condition = {"ConditionExpression": "attribute_not_exists(#k)", "ExpressionAttributeNames": {"#k": "key"}}
        elif _SAVE_MARK in stored:
            condition = {
                "ConditionExpression": "#t = :t",
                "ExpressionAttributeNames": {"#t": _SAVE_MARK},
                "ExpressionAttributeValues": {":t": stored[_SAVE_MARK]},
            }
        else:  # written before the saved_by mark: the same employee, unmarked
            condition = {
                "ConditionExpression": "attribute_not_exists(#t) AND employee_id = :id",
                "ExpressionAttributeNames": {"#t": _SAVE_MARK},
                "ExpressionAttributeValues": {":id": stored["employee_id"]},
            }
        try:
            self.dynamodb.put_item(TableName=self.table, Item=to_item({**body, "key": key, "kind": _CANONICAL_KIND}), **condition)
        except self.dynamodb.exceptions.ConditionalCheckFailedException as error:
            raise Conflict("the mapping changed meanwhile; try again") from error

    def _undo(self, written: list[_Written], mark: str) -> None:
        """Put back what this save replaced, newest first, wherever the item is still this save's write."""
        mine = {
            "ConditionExpression": "#t = :t",
            "ExpressionAttributeNames": {"#t": _SAVE_MARK},
            "ExpressionAttributeValues": {":t": {"S": mark}},
        }
        for key, old in reversed(written):
            try:
                if old is None:
                    self.dynamodb.delete_item(TableName=self.table, Key={"key": {"S": key}}, **mine)
                else:
                    self.dynamodb.put_item(TableName=self.table, Item=old, **mine)
            except Exception:  # noqa: BLE001, S112 - best effort: the first error is the one raised
                continue

    def _drop(self, key: str, employee_id: str) -> None:
        """Delete ``key`` if it is (still) this employee's; gone already is fine."""
        try:
            self.dynamodb.delete_item(
                TableName=self.table,
                Key={"key": {"S": key}},
                ConditionExpression="employee_id = :id",
                ExpressionAttributeValues={":id": {"S": employee_id}},
            )
        except self.dynamodb.exceptions.ConditionalCheckFailedException:
            pass  # another employee holds it now, or it is gone: not ours to delete

    def delete(self, employee_id: str) -> bool:
        """The identifiers first, the canonical item last: a half-done delete still lists the employee (retry it)."""
        previous = self.get(employee_id)
        if previous is None:
            return False
        canonical, *identifiers = previous.identifier_keys()
        for key in [*identifiers, canonical]:
            self._drop(key, employee_id)
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


class RecentEmployees:
    """An employee directory that remembers each look-up for ``ttl_seconds`` (the CRM sync worker's).

    The worker resolves the same few managers call after call; asking the table each time was a
    third of its reads. An employee remapped in the admin API reaches a warm worker within the
    TTL; a look-up that found nobody is remembered as well. Bounded:
    the memory is dropped whole when it holds ``limit`` entries.
    """

    def __init__(
        self, directory: EmployeeDirectory, ttl_seconds: float, clock: Callable[[], float] = time.monotonic, limit: int = 512
    ) -> None:
        self._directory, self._ttl, self._clock, self._limit = directory, ttl_seconds, clock, limit
        self._seen: dict[str, tuple[float, Employee | None]] = {}

    def _remembered(self, key: str, look_up: Callable[[], Employee | None]) -> Employee | None:
        now = self._clock()
        seen = self._seen.get(key)
        if seen is not None and now - seen[0] < self._ttl:
            return seen[1]
        if len(self._seen) >= self._limit:
            self._seen.clear()
        employee = look_up()
        self._seen[key] = (now, employee)
        return employee

    def get(self, employee_id: str) -> Employee | None:
        return self._remembered(employee_key(EmployeeKeyKind.EMPLOYEE, employee_id), lambda: self._directory.get(employee_id))

    def find(self, kind: EmployeeKeyKind, value: str) -> Employee | None:
        return self._remembered(employee_key(kind, value), lambda: self._directory.find(kind, value))
