"""The contacts table, keyed by the E.164 number (P1)."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from typing import Any

from ringbridge.domain.clock import utc_stamp
from ringbridge.domain.contacts import Contact
from ringbridge.domain.crm_lists import CONTACTS_LIST_KEY, name_key
from ringbridge.domain.errors import InvalidInput
from ringbridge.storage.aws import DynamoStore, client, from_item


def page_token(name_key: str, phone: str) -> str:
    """The opaque token of the place in the contacts' listing after (name key, number)."""
    raw = json.dumps([name_key, phone], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _position(token: str) -> tuple[str, str]:
    """The (name key, number) a ``page`` token names; InvalidInput for anything else."""
    try:
        name, phone = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, TypeError, binascii.Error):
        raise InvalidInput("invalid field 'after': the 'next' of the previous answer") from None
    if not isinstance(name, str) or not isinstance(phone, str) or not phone.startswith("+"):
        raise InvalidInput("invalid field 'after': the 'next' of the previous answer")
    return name, phone


class DynamoContacts(DynamoStore):
    def get(self, phone: str, consistent: bool = False) -> Contact | None:
        item = self.dynamodb.get_item(TableName=self.table, Key={"phone": {"S": phone}}, ConsistentRead=consistent).get("Item")
        return Contact.model_validate(from_item(item)) if item else None

    def _write(
        self,
        phone: str,
        source: str,
        attributes: list[tuple[str, str | None]],
        name: str | None,
        extra: dict[str, str],
        return_values: str,
    ) -> dict[str, Any] | None:
        """One UpdateItem: ``attributes`` set (a None value removes it), the listing keys kept in step (S1)."""
        sets = [
            "contact_id = if_not_exists(contact_id, :new_id)",
            "created_at = if_not_exists(created_at, :now)",
            "#source = if_not_exists(#source, :source)",
            "updated_at = :now",
            "list_key = :list_key",
            # the name index sorts by name: a contact without one is listed under its number
            "name_key = :name_key" if name else "name_key = if_not_exists(name_key, :name_key)",
        ]
        removes: list[str] = []
        names = {"#source": "source"}
        values: dict[str, Any] = {
            ":list_key": {"S": CONTACTS_LIST_KEY},
            ":name_key": {"S": name_key(name or phone)},
            ":new_id": {"S": uuid.uuid4().hex},
            ":now": {"S": utc_stamp()},
            ":source": {"S": source},
        }
        for attribute, value in [*attributes, *extra.items()]:
            names[f"#{attribute}"] = attribute
            if value:
                sets.append(f"#{attribute} = :{attribute}")
                values[f":{attribute}"] = {"S": value}
            else:
                removes.append(f"#{attribute}")
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        response = self.dynamodb.update_item(
            TableName=self.table,
            Key={"phone": {"S": phone}},
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues=return_values,
        )
        attributes_back: dict[str, Any] | None = response.get("Attributes")
        return attributes_back

    def upsert(
        self, phone: str, name: str | None, responsible_employee_id: str | None, manager_name: str | None, route_to: str | None
    ) -> Contact:
        attributes = [
            ("name", name),
            ("responsible_employee_id", responsible_employee_id),
            ("manager_name", manager_name),
            ("route_to", route_to),
        ]
        written = self._write(phone, "admin", attributes, name, {}, "ALL_NEW")
        return Contact.model_validate(from_item(written or {}))

    def project(
        self, phone: str, crm_contact_id: str, name: str | None, route: tuple[str | None, str | None, str | None] | None
    ) -> Contact | None:
        """R2: the CRM's contact as the routing ping reads it; the contact as it was before, if any."""
        attributes: list[tuple[str, str | None]] = [("name", name)] if name else []
        if route is not None:
            attributes += list(zip(("responsible_employee_id", "manager_name", "route_to"), route, strict=True))
        old = self._write(phone, "crm", attributes, name, {"crm_contact_id": crm_contact_id}, "ALL_OLD")
        return Contact.model_validate(from_item(old)) if old else None

    def page(self, after: str | None = None, limit: int = 100) -> tuple[list[Contact], str | None]:
        """One page of every contact from the contacts' ``by_name`` index (every contact is in one partition)."""
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "by_name",
            "KeyConditionExpression": "list_key = :list_key",
            "ExpressionAttributeValues": {":list_key": {"S": CONTACTS_LIST_KEY}},
            "Limit": limit,
        }
        if after:
            name, phone = _position(after)
            request["ExclusiveStartKey"] = {"list_key": {"S": CONTACTS_LIST_KEY}, "name_key": {"S": name}, "phone": {"S": phone}}
        response = self.dynamodb.query(**request)
        # The index projects what listings show; ``updated_at`` is not among it.
        contacts = [Contact.model_validate({"updated_at": "", **from_item(item)}) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        if not last:
            return contacts, None
        return contacts, page_token(last["name_key"]["S"], last["phone"]["S"])

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
