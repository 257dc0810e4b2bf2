"""Issue 6 fault suite: DynamoDB/SQS throttling and timeouts on each function.

The routing ping falls through within its deadline; ingestion answers 5xx so Ringostat
retries, and the retry leaves exactly one record and one queued sync; the worker retries.
"""

from __future__ import annotations

import time

import pytest

from tests.fault.faults import black_hole, failing, throttled, timed_out
from tests.integration.conftest import AwsStack
from tests.integration.pipeline_helpers import ANNA, CLIENT, after_call, counts

PING = {"from": "0 12 345 67 89", "direction": "in", "state": "ping"}


def seed_route(aws: AwsStack) -> None:
    aws.admin("PUT", "/admin/employees/anna", json=ANNA)
    aws.admin("PUT", f"/admin/contacts/{CLIENT}", json={"responsible_employee_id": "anna"})
    assert aws.post_webhook("/ringostat/routing", json=PING).json == {"dst_phone": "company_anna"}


@pytest.mark.parametrize("error", [throttled, timed_out])
def test_routing_falls_through_on_throttling_and_timeouts(aws: AwsStack, error: object) -> None:
    seed_route(aws)
    with failing("before-call.dynamodb.GetItem", error) as raised:  # type: ignore[arg-type]
        response = aws.post_webhook("/ringostat/routing", json=PING)
    assert raised == ["GetItem"]  # one attempt: no retries on the hot path
    assert (response.status_code, response.json) == (200, {"dst_phone": ""})


def test_routing_falls_through_within_its_deadline_when_dynamodb_hangs(aws: AwsStack, monkeypatch: pytest.MonkeyPatch) -> None:
    """A DynamoDB that accepts the connection and never answers: the caller still gets an answer."""
    seed_route(aws)
    from ringbridge.storage.aws import reset_clients

    with black_hole() as endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
        reset_clients()
        started = time.monotonic()
        response = aws.post_webhook("/ringostat/routing", json=PING)
        elapsed = time.monotonic() - started
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB")
    reset_clients()
    assert (response.status_code, response.json) == (200, {"dst_phone": ""})
    assert elapsed < 2.0, f"the ping took {elapsed:.2f}s; its store deadline is 400 ms"  # far below Ringostat's 30 s


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/ringostat/events", after_call("c1", "in", True)),
        ("/ringostat/recordings", {"call_id": "c1", "recording_url": "https://app.ringostat.com/recordings/c1.ogg?token=t"}),
    ],
)
@pytest.mark.parametrize(("operation", "error"), [("dynamodb.PutItem", throttled), ("dynamodb.GetItem", timed_out)])
def test_ingestion_answers_5xx_on_dynamodb_faults_and_the_retry_is_clean(
    aws: AwsStack, path: str, payload: dict[str, str], operation: str, error: object
) -> None:
    with failing(f"before-call.{operation}", error):  # type: ignore[arg-type]
        response = aws.post_webhook(path, json=payload)
    assert response.status_code == 503
    assert response.json == {"message": "temporarily unavailable; retry"}
    assert counts(aws)["calls"] == 0  # nothing half-written
    assert aws.queue_depth("CallQueue") == 0
    retry = aws.post_webhook(path, json=payload)  # Ringostat re-sends after a non-200
    assert retry.status_code == 200
    assert counts(aws)["calls"] == 1
    assert aws.queue_depth("CallQueue") == 1


def test_ingestion_answers_5xx_when_the_queue_fails_and_the_retry_queues_once(aws: AwsStack) -> None:
    payload = after_call("c1", "in", True)
    with failing("before-call.sqs.SendMessage", throttled):
        assert aws.post_webhook("/ringostat/events", json=payload).status_code == 503
    # The call record is Ringostat's truth and may stay; no sync was queued yet.
    assert aws.queue_depth("CallQueue") == 0
    assert aws.post_webhook("/ringostat/events", json=payload).status_code == 200
    assert aws.queue_depth("CallQueue") == 1
    aws.drain()
    assert counts(aws) == {"contacts": 1, "cards": 1, "tasks": 0, "calls": 1}


def test_worker_retries_through_dynamodb_throttling(aws: AwsStack) -> None:
    aws.post_webhook("/ringostat/events", json=after_call("c1", "in", False))
    with failing("before-call.dynamodb.PutItem", throttled, times=3) as raised:
        aws.drain()
    assert len(raised) == 3  # three sync attempts failed, the fourth (of five) went through
    assert aws.queue_depth("CallDeadLetterQueue") == 0
    assert counts(aws) == {"contacts": 1, "cards": 1, "tasks": 1, "calls": 1}


def test_admin_answers_5xx_on_dynamodb_faults(aws: AwsStack) -> None:
    with failing("before-call.dynamodb.PutItem", timed_out):
        response = aws.admin("PUT", "/admin/employees/anna", json=ANNA)
    assert response.status_code == 503
    assert aws.admin("GET", "/admin/employees/anna").status_code == 404
