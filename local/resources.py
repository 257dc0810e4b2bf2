"""Create the template's tables and queues (on moto's server, or under moto in tests)."""

from __future__ import annotations

import json
from typing import Any

from local.template import Intrinsics, Template

REGION = "us-east-1"
ACCOUNT = "123456789012"

_TABLE_KEYS = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "LocalSecondaryIndexes")


def create_resources(
    template: Template,
    dynamodb: Any,
    sqs: Any,
    parameters: dict[str, str] | None = None,
    *,
    tolerate_unsupported: bool = False,
) -> dict[str, dict[str, str]]:
    """Create every table and queue; return their attributes by logical id (for ``Intrinsics``).

    ``tolerate_unsupported``: a DynamoDB that lacks an optional table setting (dynalite has no
    UpdateTimeToLive) gets the table without it; by default that is an error.
    """
    attributes: dict[str, dict[str, str]] = {}
    intrinsics = Intrinsics({**template.parameter_defaults(), **(parameters or {})}, attributes)
    for name, props in template.tables.items():
        request = {key: props[key] for key in _TABLE_KEYS if key in props}
        dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **request)
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            _optional(
                tolerate_unsupported,
                dynamodb.update_time_to_live,
                TableName=name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
        arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
        attributes[name] = {"Ref": name, "Arn": arn}

    # A queue's redrive policy names its dead-letter queue: create those first.
    pending = dict(template.queues)
    while pending:
        progressed = False
        for name, props in list(pending.items()):
            redrive = props.get("RedrivePolicy")
            target = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0] if redrive else None
            if target and target not in attributes:
                continue
            queue_attributes: dict[str, str] = {
                key: str(props[key]) for key in ("VisibilityTimeout", "MessageRetentionPeriod") if key in props
            }
            if redrive and target:
                queue_attributes["RedrivePolicy"] = json.dumps(
                    {
                        "deadLetterTargetArn": attributes[target]["Arn"],
                        "maxReceiveCount": int(intrinsics.resolve(redrive["maxReceiveCount"])),
                    }
                )
            url = sqs.create_queue(QueueName=name, Attributes=queue_attributes)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            attributes[name] = {"Ref": url, "QueueUrl": url, "Arn": arn, "QueueName": name}
            del pending[name]
            progressed = True
        if not progressed:
            raise ValueError(f"queues with unresolvable redrive targets: {sorted(pending)}")
    for name, resource in template.of_type("AWS::Events::EventBus").items():
        import boto3

        bus = str(intrinsics.resolve(resource["Properties"]["Name"]))
        arn = boto3.client("events", region_name=REGION).create_event_bus(Name=bus)["EventBusArn"]
        attributes[name] = {"Ref": bus, "Arn": arn, "Name": bus}
    return attributes


def _optional(tolerate_unsupported: bool, call: Any, **request: Any) -> None:
    from botocore.exceptions import ClientError

    try:
        call(**request)
    except ClientError as error:
        if not (tolerate_unsupported and error.response.get("Error", {}).get("Code") == "UnknownOperationException"):
            raise


def function_environment(
    template: Template, attributes: dict[str, dict[str, str]], parameters: dict[str, str] | None = None
) -> dict[str, str]:
    """The union of every function's environment, resolved.

    The local stack runs all handlers in one process, so the names must not clash;
    this raises if two functions give one variable different values.
    """
    intrinsics = Intrinsics({**template.parameter_defaults(), **(parameters or {})}, attributes)
    environment: dict[str, str] = {}
    for spec in template.functions():
        for key, value in intrinsics.resolve(spec.environment).items():
            if key in environment and environment[key] != str(value):
                raise ValueError(f"{key} differs between functions; the local stack needs one value")
            environment[key] = str(value)
    return environment
