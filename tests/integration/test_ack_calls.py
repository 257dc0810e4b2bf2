"""The call-events ack's AWS calls (L1, F5): one read, one write and one message per new event.

Counted with botocore hooks on the shared session, as the bench counts them. A replay reads the
record, finds nothing new and writes nothing, but is queued again (a retry after a failed enqueue
must still reach the worker, which is idempotent).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tests.integration.conftest import AwsStack
from tests.integration.pipeline_helpers import after_call, counts, send


@contextmanager
def counted() -> Iterator[list[str]]:
    from ringbridge.storage.aws import client

    calls: list[str] = []

    def note(model: object, **_: object) -> None:
        calls.append(getattr(model, "name", "?"))

    # The cached clients the handlers use (a client copies its session's hooks when made).
    for service in ("dynamodb", "sqs"):
        client(service).meta.events.register(f"before-call.{service}", note, unique_id="ack-count")
    try:
        yield calls
    finally:
        for service in ("dynamodb", "sqs"):
            client(service).meta.events.unregister(f"before-call.{service}", unique_id="ack-count")


def test_l1_a_new_event_costs_one_read_one_write_one_message(aws: AwsStack) -> None:
    send(aws, after_call("warm", "in", True))  # clients and settings made once per container
    with counted() as calls:
        send(aws, after_call("c1", "in", True))
    assert sorted(calls) == ["GetItem", "PutItem", "SendMessage"]
    assert counts(aws)["calls"] == 2


def test_l1_a_replay_writes_nothing_and_is_queued_again(aws: AwsStack) -> None:
    send(aws, after_call("c1", "in", True))
    with counted() as calls:
        response = aws.post_webhook("/ringostat/events", json=after_call("c1", "in", True))
    assert response.status_code == 200
    assert response.json == {"call_id": "c1", "status": "accepted"}
    assert sorted(calls) == ["GetItem", "SendMessage"]
