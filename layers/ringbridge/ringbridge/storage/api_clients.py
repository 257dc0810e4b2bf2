"""The API-clients table: one item per CRM-facing API key, keyed by the key's sha256 (never the key)."""

from __future__ import annotations

import hashlib
import secrets

from pydantic import BaseModel, ConfigDict, Field

from ringbridge.domain.clock import utc_stamp
from ringbridge.storage.aws import DynamoStore

KEY_PREFIX = "rbk_"


class ApiClientCreate(BaseModel):
    """The body of ``POST /admin/api-clients``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)


class NewApiClient(BaseModel):
    key_id: str
    name: str
    api_key: str
    created_at: str


def hash_api_key(key: str) -> str:
    """Keys are random 256-bit strings: a plain sha256 is enough to store them safely."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


class DynamoApiClients(DynamoStore):
    def create(self, name: str) -> NewApiClient:
        """A new key: returned once, only its hash is stored (the hash is the key's id)."""
        key = new_api_key()
        created = NewApiClient(key_id=hash_api_key(key), name=name, api_key=key, created_at=utc_stamp())
        self.dynamodb.put_item(
            TableName=self.table,
            Item={"key_hash": {"S": created.key_id}, "name": {"S": name}, "created_at": {"S": created.created_at}},
            ConditionExpression="attribute_not_exists(key_hash)",
        )
        return created

    def name_of(self, key_hash: str) -> str | None:
        item = self.dynamodb.get_item(
            TableName=self.table,
            Key={"key_hash": {"S": key_hash}},
            ProjectionExpression="#name",
            ExpressionAttributeNames={"#name": "name"},
        ).get("Item")
        if item is None:
            return None
        return str(item.get("name", {}).get("S", "")) or "unnamed"

    def delete(self, key_hash: str) -> bool:
        try:
            self.dynamodb.delete_item(
                TableName=self.table, Key={"key_hash": {"S": key_hash}}, ConditionExpression="attribute_exists(key_hash)"
            )
        except self.dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True
