"""Exactly-once decisions never read an index after a write (A): DynamoDB's GSIs are eventually consistent.

With the ``by_phone`` index lagging behind every write (tests/fault/lagging_index.py), two quick
missed calls from one number still make one call-back task (T1) and one card (F2, F3).
"""

from __future__ import annotations

import pytest

from tests.fault.lagging_index import lagging_index
from tests.integration.conftest import AwsStack
from tests.integration.pipeline_helpers import CLIENT, after_call, counts, send, set_rules


@pytest.mark.parametrize("mode", ["one_time", "repeatable"])
def test_two_quick_missed_calls_make_one_task_and_one_card(aws: AwsStack, monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    set_rules(monkeypatch, funnel_mode=mode)
    with lagging_index():
        send(aws, after_call("missed-1", "in", False))
        send(aws, after_call("missed-2", "in", False))
        aws.drain()
    assert counts(aws)["cards"] == 1
    assert counts(aws)["tasks"] == 1
    assert counts(aws) == {"contacts": 1, "cards": 1, "tasks": 1, "calls": 2}
    contact = aws.items("ContactsTable")[0]
    assert contact["open_task_id"] == "task-missed-1"
    assert contact["open_card_id"] == "card-missed-1"


def test_a_call_after_the_task_is_closed_makes_a_new_one(aws: AwsStack) -> None:
    with lagging_index() as lag:
        send(aws, after_call("missed-1", "in", False))
        aws.drain()
        lag.refresh()
        _close_tasks(aws)  # closed after the index's snapshot: the index still says open
        send(aws, after_call("missed-2", "in", False))
        aws.drain()
    tasks = {task["task_id"]: task["status"] for task in aws.items("TasksTable")}
    assert tasks == {"task-missed-1": "done", "task-missed-2": "open"}


def test_a_number_without_a_contact_still_gets_one_open_task(aws: AwsStack, monkeypatch: pytest.MonkeyPatch) -> None:
    set_rules(monkeypatch, contacts_from_incoming_missed="false")
    with lagging_index():
        for index in range(3):
            send(aws, after_call(f"missed-{index}", "in", False))
        aws.drain()
        assert aws.items("ContactsTable") == []
        assert [t["task_id"] for t in _tasks(aws)] == ["task-missed-0"]
        _close_tasks(aws)
        send(aws, after_call("missed-again", "in", False))
        aws.drain()
    assert {t["task_id"]: t["status"] for t in _tasks(aws)} == {"task-missed-0": "done", "task-missed-again": "open"}


def test_repeatable_card_is_reopened_only_after_the_active_one_closes(aws: AwsStack, monkeypatch: pytest.MonkeyPatch) -> None:
    set_rules(monkeypatch, funnel_mode="repeatable")
    with lagging_index() as lag:
        send(aws, after_call("c1", "in", True))
        aws.drain()
        lag.refresh()
        _close_cards(aws)  # closed after the index's snapshot: the index still says active
        send(aws, after_call("c2", "in", True))
        aws.drain()
    assert sorted(card["card_id"] for card in aws.items("CardsTable")) == ["card-c1", "card-c2"]
    assert aws.items("ContactsTable")[0]["open_card_id"] == "card-c2"


def test_listings_still_use_the_index(aws: AwsStack) -> None:
    with lagging_index() as lag:
        send(aws, after_call("missed-1", "in", False))
        aws.drain()
        lag.refresh()
        from ringbridge.storage.builtin_crm import BuiltinCrm

        tables = ("ContactsTable", "CardsTable", "TasksTable", "CallsTable")
        crm = BuiltinCrm(*(aws.environment_table(table) for table in tables))
        assert [t["task_id"] for t in crm.tasks_of(CLIENT)] == ["task-missed-1"]
        assert lag.answered  # the listing was a Query on the index


def _tasks(aws: AwsStack) -> list[dict[str, object]]:
    """Tasks only: a number without a contact keeps its open-task pointer on an item of the tasks table."""
    return [item for item in aws.items("TasksTable") if "status" in item]


def _close_tasks(aws: AwsStack) -> None:
    for task in _tasks(aws):
        aws.dynamodb.update_item(
            TableName=aws.environment_table("TasksTable"),
            Key={"task_id": {"S": str(task["task_id"])}},
            UpdateExpression="SET #status = :done",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":done": {"S": "done"}},
        )


def _close_cards(aws: AwsStack) -> None:
    for card in aws.items("CardsTable"):
        aws.dynamodb.update_item(
            TableName=aws.environment_table("CardsTable"),
            Key={"card_id": {"S": card["card_id"]}},
            UpdateExpression="SET active = :no",
            ExpressionAttributeValues={":no": {"BOOL": False}},
        )
