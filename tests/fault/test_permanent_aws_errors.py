"""T1: a permanent AWS refusal is a 4xx with a reason (parked for an operator on a webhook); a transient one is 503.

Ringostat re-sends a delivery only after a 5xx. A ValidationException (e.g. an item over
DynamoDB's 400 KB) fails the same way on every retry, so it is answered with a 4xx and the
delivery is kept in the dedup table under ``parked#…``: never silently lost.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.fault.faults import throttled
from tests.integration.conftest import AwsStack
from tests.integration.pipeline_helpers import after_call, counts


def refused(code: str, message: str, status: int = 400) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, "PutItem")


TOO_LARGE = refused("ValidationException", "Item size has exceeded the maximum allowed size")
INVALID = refused("ValidationException", "One or more parameter values were invalid")
SERVER = refused("InternalServerError", "Internal server error", 500)


@contextmanager
def refusing_writes_to(aws: AwsStack, table: str, error: Exception) -> Iterator[list[str]]:
    """Make ringbridge's PutItem/UpdateItem on one table raise ``error`` (other tables, e.g. the dedup table, work)."""
    from local.runtime import reset_function_state
    from ringbridge.storage.aws import _session

    name, raised = aws.environment_table(table), []

    def fail(params: dict[str, Any], **_: Any) -> None:
        if params.get("TableName") == name:
            raised.append(name)
            raise error

    session, events = _session(), [f"before-parameter-build.dynamodb.{op}" for op in ("PutItem", "UpdateItem")]
    for event in events:
        session.events.register(event, fail, unique_id=f"fault-refuse-{table}")
    reset_function_state()
    try:
        yield raised
    finally:
        for event in events:
            session.events.unregister(event, unique_id=f"fault-refuse-{table}")
        reset_function_state()


def parked(aws: AwsStack) -> list[dict[str, Any]]:
    return [item for item in aws.items("DedupTable") if str(item["id"]).startswith("parked#")]


@pytest.mark.parametrize(("error", "status"), [(TOO_LARGE, 413), (INVALID, 422)])
@pytest.mark.parametrize("path", ["/ringostat/events", "/ringostat/recordings"])
def test_t1_a_permanent_refusal_is_a_4xx_and_the_delivery_is_parked(
    aws: AwsStack, error: ClientError, status: int, path: str
) -> None:
    payload = {**after_call("c1", "in", False), "recording_url": "https://app.ringostat.com/r/c1.ogg?x=1", "note": "n"}
    with refusing_writes_to(aws, "CallsTable", error) as raised:
        response = aws.post_webhook(path, json=payload)
    assert raised, "the fault was hit"
    assert response.status_code == status, response.get_data()[:300]
    assert "parked" in response.json["message"]
    assert counts(aws)["calls"] == 0 and aws.queue_depth("CallQueue") == 0
    [item] = parked(aws)
    assert item["id"] == response.json["parked"]
    assert item["path"] == path
    assert "token" not in item["parameters"]  # the webhook secret is never stored
    assert '"call_id": "c1"' in item["body"] and '"note": "n"' in item["body"]
    assert item["reason"].startswith("ValidationException")
    assert item["expiration"] > 0
    # Once the cause is fixed, the same delivery goes through (nothing of it was stored).
    assert aws.post_webhook(path, json=payload).status_code == 200


@pytest.mark.parametrize("error", [throttled("PutItem"), SERVER])
def test_t1_transient_errors_stay_503_and_nothing_is_parked(aws: AwsStack, error: ClientError) -> None:
    with refusing_writes_to(aws, "CallsTable", error):
        response = aws.post_webhook("/ringostat/events", json=after_call("c1", "in", False))
    assert response.status_code == 503
    assert response.json == {"message": "temporarily unavailable; retry"}
    assert parked(aws) == []


def test_t1_when_parking_fails_too_the_answer_is_503_so_ringostat_re_sends(aws: AwsStack) -> None:
    with refusing_writes_to(aws, "CallsTable", INVALID), refusing_writes_to(aws, "DedupTable", INVALID):
        response = aws.post_webhook("/ringostat/events", json=after_call("c1", "in", False))
    assert response.status_code == 503


def test_t1_a_permanent_refusal_on_an_admin_route_is_a_4xx_with_a_reason(aws: AwsStack) -> None:
    with refusing_writes_to(aws, "ApiClientsTable", INVALID) as raised:
        response = aws.admin("POST", "/admin/api-clients", json={"name": "other"})
    assert raised
    assert response.status_code == 422, response.get_data()[:300]
    assert response.json["message"]
    assert parked(aws) == []


def test_t1_classification_in_one_place() -> None:
    from botocore.exceptions import ConnectTimeoutError

    from ringbridge.storage.aws import classify_aws_error

    assert classify_aws_error(TOO_LARGE).status == 413
    assert classify_aws_error(INVALID).status == 422
    assert classify_aws_error(refused("ItemCollectionSizeLimitExceededException", "too big")).status == 413
    assert classify_aws_error(throttled("PutItem")).status == 503
    assert classify_aws_error(refused("ThrottlingException", "slow down")).status == 503
    assert classify_aws_error(SERVER).status == 503
    assert classify_aws_error(ConnectTimeoutError(endpoint_url="https://aws")).status == 503
    assert classify_aws_error(refused("AccessDeniedException", "no")).status == 503  # our setup: retry after a fix
