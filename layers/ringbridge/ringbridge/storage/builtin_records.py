"""The built-in store's cards, tasks and contacts as people work them: listings and versioned changes.

Listings are Queries on one index each (``storage/listing.py``), never a Scan:

- cards: ``by_phone`` with a number; a contact id is first turned into its number (one Query on
  the contacts' ``by_contact_id``); otherwise ``by_status`` (status, created_at), one partition
  per status asked for, the manager as a filter;
- tasks: ``by_phone`` with a number, otherwise ``by_status`` (status, due_at) soonest due first,
  ``due_before`` as the sort-key bound, the assignee as a filter;
- contacts: ``by_name`` (list_key, name_key): a name prefix is a key condition (reads only the
  matches); a number prefix and the manager are filters over the small projection.

A change names the version it read: the write is conditional on it, and moves it on.
"""

from __future__ import annotations

from typing import Any

import phonenumbers

from ringbridge.domain.crm_lists import (
    CONTACTS_LIST_KEY,
    CardQuery,
    CardStatus,
    ContactQuery,
    TaskQuery,
    TaskStatus,
    name_key,
    number_prefixes,
)
from ringbridge.domain.errors import PreconditionFailed
from ringbridge.storage.aws import from_item, to_item
from ringbridge.storage.builtin_crm import BuiltinCrm
from ringbridge.storage.listing import IndexListing, page

STALE = "it changed since you read it; read it again"
Page = tuple[list[dict[str, Any]], str | None]


class BuiltinRecords(BuiltinCrm):
    def __init__(self, *args: Any, country: str = "PL", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.country = country

    # ------------------------------------------------------------------ listings
    def list_cards(self, query: CardQuery) -> Page:
        filters = {"status": query.status.value} if query.status else {}
        if query.manager:
            filters["manager_employee_id"] = query.manager
        phone = query.phone
        if phone is None and query.contact_id:
            phone = self.phone_of_contact(query.contact_id)
            if phone is None:
                return [], None
        if query.contact_id:
            filters["contact_id"] = query.contact_id
        if phone is not None:
            listing = IndexListing(
                resource="cards", index="by_phone", key="phone", partitions=[phone], sort="created_at", filters=filters
            )
        else:
            filters.pop("status", None)
            statuses = [query.status.value] if query.status else [status.value for status in CardStatus]
            listing = IndexListing(
                resource="cards", index="by_status", key="status", partitions=statuses, sort="created_at", filters=filters
            )
        return page(self.dynamodb, self.cards_table, "card_id", listing, query.limit, query.cursor)

    def list_tasks(self, query: TaskQuery) -> Page:
        filters = {"status": query.status.value} if query.status else {}
        if query.manager:
            filters["assignee_employee_id"] = query.manager
        if query.phone is not None:
            listing = IndexListing(
                resource="tasks",
                index="by_phone",
                key="phone",
                partitions=[query.phone],
                sort="created_at",
                filters=filters,
                at_most_filters={"due_at": query.due_before} if query.due_before else {},
            )
        else:
            filters.pop("status", None)
            statuses = [query.status.value] if query.status else [status.value for status in TaskStatus]
            listing = IndexListing(
                resource="tasks",
                index="by_status",
                key="status",
                partitions=statuses,
                sort="due_at",
                newest_first=False,
                sort_at_most=query.due_before,
                filters=filters,
            )
        return page(self.dynamodb, self.tasks_table, "task_id", listing, query.limit, query.cursor)

    def list_contacts(self, query: ContactQuery) -> Page:
        filters = {"responsible_employee_id": query.manager} if query.manager else {}
        numbers = number_prefixes(query.q, str(phonenumbers.country_code_for_region(self.country))) if query.q else None
        listing = IndexListing(
            resource="contacts",
            index="by_name",
            key="list_key",
            partitions=[CONTACTS_LIST_KEY],
            sort="name_key",
            newest_first=False,
            sort_prefix=name_key(query.q) if query.q and numbers is None else None,
            filters=filters,
            any_prefix=[("phone", prefix) for prefix in numbers or []],
        )
        return page(self.dynamodb, self.contacts_table, "phone", listing, query.limit, query.cursor)

    def phone_of_contact(self, contact_id: str) -> str | None:
        response = self.dynamodb.query(
            TableName=self.contacts_table,
            IndexName="by_contact_id",
            KeyConditionExpression="contact_id = :id",
            ExpressionAttributeValues={":id": {"S": contact_id}},
            ProjectionExpression="phone",
            Limit=1,
        )
        items = response.get("Items", [])
        return str(items[0]["phone"]["S"]) if items else None

    # ------------------------------------------------------------------ reads and versioned writes
    def card(self, card_id: str) -> dict[str, Any] | None:
        return self._get(self.cards_table, "card_id", card_id)

    def task(self, task_id: str) -> dict[str, Any] | None:
        return self._get(self.tasks_table, "task_id", task_id)

    def change_card(self, card_id: str, changes: dict[str, Any], expected_version: int | None) -> dict[str, Any]:
        return self._change(self.cards_table, "card_id", card_id, changes, expected_version)

    def change_task(self, task_id: str, changes: dict[str, Any], expected_version: int | None) -> dict[str, Any]:
        return self._change(self.tasks_table, "task_id", task_id, changes, expected_version)

    def _change(self, table: str, key: str, value: str, changes: dict[str, Any], expected_version: int | None) -> dict[str, Any]:
        """Set ``changes`` (a ``None`` removes) if the item is at ``expected_version`` (None: any); the new item."""
        sets = [f"#{name} = :{name}" for name, change in changes.items() if change is not None]
        removes = [f"#{name}" for name, change in changes.items() if change is None]
        sets.append("#version = if_not_exists(#version, :zero) + :one")
        names = {f"#{name}": name for name in changes} | {"#version": "version", "#key": key}
        values = to_item({f":{name}": change for name, change in changes.items() if change is not None})
        values |= {":zero": {"N": "0"}, ":one": {"N": "1"}}
        condition = "attribute_exists(#key)"
        if expected_version is not None:
            values[":expected"] = {"N": str(expected_version)}
            condition += " AND (#version = :expected" + (" OR attribute_not_exists(#version))" if expected_version == 0 else ")")
        try:
            response = self.dynamodb.update_item(
                TableName=table,
                Key={key: {"S": value}},
                UpdateExpression="SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else ""),
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except self.dynamodb.exceptions.ConditionalCheckFailedException:
            current = self._get(table, key, value)
            raise PreconditionFailed(STALE, current_version=int(current.get("version", 0)) if current else None) from None
        return from_item(response["Attributes"])

    # ------------------------------------------------------------------ the contact's card pointer
    def claim_card_pointer(self, phone: str, card_id: str) -> bool:
        """Point the contact at ``card_id`` unless it points at another card that is still active (consistent reads)."""
        seen = (self._contact_item(phone) or {}).get("open_card_id")
        if seen and seen != card_id:
            other = self.card(seen)
            if other is not None and other.get("active"):
                return False
        condition = (
            "attribute_exists(phone) AND (attribute_not_exists(open_card_id) OR open_card_id = :id OR open_card_id = :seen)"
        )
        values = {":id": {"S": card_id}, ":seen": {"S": seen or card_id}}
        try:
            self.dynamodb.update_item(
                TableName=self.contacts_table,
                Key={"phone": {"S": phone}},
                UpdateExpression="SET open_card_id = :id",
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
        except self.dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    # ------------------------------------------------------------------ items written before the listings existed
    def backfill_listing_keys(self) -> tuple[int, int]:
        """Give old contacts their ``by_name`` keys and old cards a ``status``; (contacts, cards) changed.

        An operator's one-off (``python -m ringbridge.cli backfill``), the one place that Scans: it reads
        each table once, and writes only the items that lack the attributes, conditionally.
        """
        contacts = cards = 0
        for item in self._scan(self.contacts_table, "attribute_not_exists(name_key)"):
            name = str(item.get("name") or item["phone"])
            values = {":list": {"S": CONTACTS_LIST_KEY}, ":name": {"S": name_key(name)}}
            contacts += self._fill(
                self.contacts_table, "phone", item["phone"], "list_key = :list, name_key = :name", values, "name_key"
            )
        for item in self._scan(self.cards_table, "attribute_not_exists(#status)", {"#status": "status"}):
            status = "open" if item.get("active") else "won"
            cards += self._fill(
                self.cards_table, "card_id", item["card_id"], "#status = :status", {":status": {"S": status}}, "#status"
            )
        return contacts, cards

    def _scan(self, table: str, condition: str, names: dict[str, str] | None = None) -> Any:
        request: dict[str, Any] = {"TableName": table, "FilterExpression": condition}
        if names:
            request["ExpressionAttributeNames"] = names
        for response in self.dynamodb.get_paginator("scan").paginate(**request):
            yield from (from_item(item) for item in response.get("Items", []))

    def _fill(self, table: str, key: str, value: str, sets: str, values: dict[str, Any], missing: str) -> int:
        names = {"#status": "status"} if "#status" in sets else None
        request: dict[str, Any] = {
            "TableName": table,
            "Key": {key: {"S": value}},
            "UpdateExpression": "SET " + sets,
            "ConditionExpression": f"attribute_exists({key}) AND attribute_not_exists({missing})",
            "ExpressionAttributeValues": values,
        }
        if names:
            request["ExpressionAttributeNames"] = names
        try:
            self.dynamodb.update_item(**request)
        except self.dynamodb.exceptions.ConditionalCheckFailedException:
            return 0  # written meanwhile by the application: it is right already
        return 1
