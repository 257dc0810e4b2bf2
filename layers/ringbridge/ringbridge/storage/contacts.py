"""The contacts table, keyed by the E.164 number (P1)."""

from __future__ import annotations

import uuid
from typing import Any

from ringbridge.domain.clock import utc_stamp
from ringbridge.domain.contacts import Contact
from ringbridge.storage.aws import DynamoStore, client, from_item

# Every contact carries ``listing = LISTING``: the sparse index ``by_listing`` lists them all with
# Query pages (the full push to Ringostat, S1), never a Scan.
LISTING = "contact"
LISTING_INDEX = "by_listing"


class DynamoContacts(DynamoStore):
    def get(self, phone: str, consistent: bool = False) -> Contact | None:
        item = self.dynamodb.get_item(TableName=self.table, Key={"phone": {"S": phone}}, ConsistentRead=consistent).get("Item")
        return Contact.model_validate(from_item(item)) if item else None

    def upsert(
        self, phone: str, name: str | None, responsible_employee_id: str | None, manager_name: str | None, route_to: str | None
    ) -> Contact:
        now = utc_stamp()
        sets = [
            "contact_id = if_not_exists(contact_id, :new_id)",
            "created_at = if_not_exists(created_at, :now)",
            "#source = if_not_exists(#source, :source)",
            "updated_at = :now",
            "listing = :listing",
        ]
        removes: list[str] = []
        values: dict[str, Any] = {
            ":new_id": {"S": uuid.uuid4().hex},
            ":now": {"S": now},
            ":source": {"S": "admin"},
            ":listing": {"S": LISTING},
        }
        for attribute, value in (
            ("name", name),
            ("responsible_employee_id", responsible_employee_id),
            ("manager_name", manager_name),
            ("route_to", route_to),
        ):
            if value:
                sets.append(f"#{attribute} = :{attribute}")
                values[f":{attribute}"] = {"S": value}
            else:
                removes.append(f"#{attribute}")
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        names = {
            "#source": "source",
            "#name": "name",
            "#responsible_employee_id": "responsible_employee_id",
            "#manager_name": "manager_name",
            "#route_to": "route_to",
        }
        response = self.dynamodb.update_item(
            TableName=self.table,
            Key={"phone": {"S": phone}},
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
        return Contact.model_validate(from_item(response["Attributes"]))

    def page(self, after: str | None = None, limit: int = 100) -> tuple[list[Contact], str | None]:
        """One page of every contact (by number) from the listing index, and where the next starts."""
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": LISTING_INDEX,
            "KeyConditionExpression": "listing = :listing",
            "ExpressionAttributeValues": {":listing": {"S": LISTING}},
            "Limit": limit,
        }
        if after:
            request["ExclusiveStartKey"] = {"listing": {"S": LISTING}, "phone": {"S": after}}
        response = self.dynamodb.query(**request)
        contacts = [Contact.model_validate(from_item(item)) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return contacts, (last["phone"]["S"] if last else None)

    def reroute_employee(self, employee_id: str, route_to: str | None, manager_name: str | None) -> int:
        paginator = self.dynamodb.get_paginator("query")
        pages = paginator.paginate(
            TableName=self.table,
            IndexName="by_responsible_employee",
            KeyConditionExpression="responsible_employee_id = :id",
            ExpressionAttributeValues={":id": {"S": employee_id}},
        )
        changed = 0
        for page in pages:
            for item in page.get("Items", []):
                values: dict[str, Any] = {":id": {"S": employee_id}}
                sets, removes = [], []
                for attribute, value in (("route_to", route_to), ("manager_name", manager_name)):
                    if value:
                        sets.append(f"{attribute} = :{attribute}")
                        values[f":{attribute}"] = {"S": value}
                    else:
                        removes.append(attribute)
                expression = " ".join(
                    part
                    for part in ("SET " + ", ".join(sets) if sets else "", "REMOVE " + ", ".join(removes) if removes else "")
                    if part
                )
                try:
                    self.dynamodb.update_item(
                        TableName=self.table,
                        Key={"phone": item["phone"]},
                        UpdateExpression=expression,
                        ConditionExpression="responsible_employee_id = :id",
                        ExpressionAttributeValues=values,
                    )
                    changed += 1
                except self.dynamodb.exceptions.ConditionalCheckFailedException:
                    continue  # the contact changed hands meanwhile; its new route is already right
        return changed


class DynamoRouteLookup:
    """The routing ping's single read: GetItem of ``route_to`` with a short deadline."""

    def __init__(self, table: str, timeout_ms: int) -> None:
        self.table = table
        self.timeout_ms = timeout_ms

    def route_for(self, phone: str) -> str | None:
        dynamodb = client("dynamodb", self.timeout_ms)
        response = dynamodb.get_item(
            TableName=self.table,
            Key={"phone": {"S": phone}},
            ProjectionExpression="route_to",
        )
        item = response.get("Item")
        if item is None:
            return None
        return str(item.get("route_to", {}).get("S", ""))
