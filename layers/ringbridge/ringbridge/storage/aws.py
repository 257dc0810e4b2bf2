"""boto3 clients, created lazily (after moto starts in tests) and once per container."""

from __future__ import annotations

import threading
from functools import cache
from typing import Any


@cache
def _codec() -> tuple[Any, Any]:
    # boto3 is imported on first use, not at import: a cold start pays for it only when it needs it.
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


_creating = threading.Lock()


@cache
def _session() -> Any:
    import boto3

    # One session: its clients share the parsed service models, so creating one is cheap.
    return boto3.session.Session()


@cache
def client(service: str, timeout_ms: int | None = None) -> Any:
    """A cached client; with ``timeout_ms`` a single attempt bounded by that deadline."""
    from botocore.config import Config

    if timeout_ms is None:
        config = Config(retries={"mode": "standard", "total_max_attempts": 3})
    else:
        seconds = timeout_ms / 1000
        config = Config(connect_timeout=seconds, read_timeout=seconds, retries={"total_max_attempts": 1})
    with _creating:  # a boto3 session is not thread-safe, and the local stack serves on threads
        return _session().client(service, config=config)


class DynamoStore:
    """A store over one DynamoDB table; it uses ringbridge's shared client unless given one."""

    def __init__(self, table: str, dynamodb: Any | None = None) -> None:
        self.table = table
        self._dynamodb = dynamodb

    @property
    def dynamodb(self) -> Any:
        return self._dynamodb or client("dynamodb")


def reset_clients() -> None:
    """Forget cached clients (tests start a fresh moto for each case)."""
    client.cache_clear()


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    """A plain dict to DynamoDB's attribute map; ``None`` values are left out."""
    serializer, _ = _codec()
    return {key: serializer.serialize(value) for key, value in values.items() if value is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    _, deserializer = _codec()
    return {key: _plain(deserializer.deserialize(value)) for key, value in item.items()}


def _plain(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, set):
        return sorted(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
