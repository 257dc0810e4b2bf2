"""A lagging global secondary index: what DynamoDB may answer right after a write (moto's index never lags).

Inside ``lagging_index()`` every Query that ringbridge's own clients make on an ``IndexName`` is
answered from a snapshot of the tables taken when the block began (or at the last ``refresh()``):
an item written since is missing from the answer, and an item changed since shows its old values
(key conditions and filters are evaluated on the snapshot, as a lagging index would).
Queries on a table's own key, and the tests' reads (boto3's default session), are not affected.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

_HOOK = "fault-lagging-index"


class LaggingIndex:
    """The snapshot lives in shadow tables (same keys and indexes); index queries are asked of them."""

    SUFFIX = "-lagging-index"

    def __init__(self) -> None:
        self.tables: list[str] = []
        self.answered: list[str] = []  # the tables whose index queries were answered from the snapshot

    @property
    def dynamodb(self) -> Any:
        return boto3.client("dynamodb")  # the tests' session: neither hooked nor counted as a request-path Scan

    def refresh(self) -> None:
        """The index catches up: it now shows every item written so far."""
        dynamodb = self.dynamodb
        if not self.tables:
            self.tables = [t for t in dynamodb.list_tables()["TableNames"] if not t.endswith(self.SUFFIX)]
            for table in self.tables:
                described = dynamodb.describe_table(TableName=table)["Table"]
                if not described.get("GlobalSecondaryIndexes"):
                    continue
                dynamodb.create_table(
                    TableName=table + self.SUFFIX,
                    BillingMode="PAY_PER_REQUEST",
                    AttributeDefinitions=described["AttributeDefinitions"],
                    KeySchema=described["KeySchema"],
                    GlobalSecondaryIndexes=[
                        {"IndexName": i["IndexName"], "KeySchema": i["KeySchema"], "Projection": i["Projection"]}
                        for i in described["GlobalSecondaryIndexes"]
                    ],
                )
            self.tables = [t for t in self.tables if t + self.SUFFIX in dynamodb.list_tables()["TableNames"]]
        for table in self.tables:
            keys = [k["AttributeName"] for k in dynamodb.describe_table(TableName=table)["Table"]["KeySchema"]]
            shadow = table + self.SUFFIX
            for page in dynamodb.get_paginator("scan").paginate(TableName=shadow):
                for item in page["Items"]:
                    dynamodb.delete_item(TableName=shadow, Key={key: item[key] for key in keys})
            for page in dynamodb.get_paginator("scan").paginate(TableName=table):
                for item in page["Items"]:
                    dynamodb.put_item(TableName=shadow, Item=item)

    def answer(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        body = params.get("body") or b"{}"
        request = json.loads(body.decode() if isinstance(body, bytes) else body)
        if not request.get("IndexName") or request.get("TableName") not in self.tables:
            return None  # a query on the table's own key is strongly consistent when asked: let it through
        self.answered.append(request["TableName"])
        parsed = self.dynamodb.query(**{**request, "TableName": request["TableName"] + self.SUFFIX})
        parsed.pop("ResponseMetadata", None)
        return AWSResponse("https://dynamodb.lagging-index", 200, {}, None), parsed


@contextmanager
def lagging_index() -> Iterator[LaggingIndex]:
    """Index queries by ringbridge's clients see the tables as they were on entry (see ``refresh``)."""
    from local.runtime import reset_function_state
    from ringbridge.storage.aws import _session

    lag = LaggingIndex()
    lag.refresh()
    session = _session()
    session.events.register("before-call.dynamodb.Query", lag.answer, unique_id=_HOOK)
    reset_function_state()  # clients copy the session's hooks when they are created: make new ones
    try:
        yield lag
    finally:
        session.events.unregister("before-call.dynamodb.Query", unique_id=_HOOK)
        reset_function_state()
