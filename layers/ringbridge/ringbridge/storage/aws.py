"""boto3 clients, created lazily (after moto starts in tests) and once per container."""

from __future__ import annotations

import threading
from dataclasses import dataclass
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


# AWS error codes a retry cannot fix: the request itself is wrong (too large, invalid).
_TOO_LARGE_CODES = {"ItemCollectionSizeLimitExceededException", "RequestEntityTooLarge", "MessageTooLong"}
_PERMANENT_CODES = {
    "ValidationException",
    "SerializationException",
    "InvalidParameterValue",
    "InvalidMessageContents",
    "InvalidAttributeValue",
    "BatchRequestTooLong",
}


@dataclass(frozen=True)
class AwsFailure:
    """What an AWS error means for the caller: retry (503) or a 4xx with a reason (the request cannot succeed)."""

    status: int
    reason: str
    code: str

    @property
    def permanent(self) -> bool:
        return self.status < 500


def classify_aws_error(error: Exception) -> AwsFailure:
    """The one place that tells a permanent AWS refusal from a transient failure (T1).

    Throttling, timeouts, connection errors and AWS 5xx are transient: 503, the caller
    retries and every write before it was conditional or idempotent. A ValidationException
    (e.g. an item over DynamoDB's 400 KB) or a too-large message is permanent: a retry would
    fail the same way, so it is a 4xx with a reason.
    """
    from botocore.exceptions import ClientError

    if not isinstance(error, ClientError):
        return AwsFailure(503, "temporarily unavailable; retry", type(error).__name__)
    details = error.response.get("Error", {})
    code = str(details.get("Code", ""))
    message = str(details.get("Message", ""))
    http_status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 400)
    if http_status >= 500 or "Throttl" in code or code.endswith("ThroughputExceededException"):
        return AwsFailure(503, "temporarily unavailable; retry", code)
    if code in _TOO_LARGE_CODES or (code == "ValidationException" and "size" in message.lower()):
        return AwsFailure(413, "the record this request would make is larger than the database allows", code)
    if code in _PERMANENT_CODES:
        return AwsFailure(422, "the database refused this request as invalid; it will not succeed on retry", code)
    return AwsFailure(503, "temporarily unavailable; retry", code)
