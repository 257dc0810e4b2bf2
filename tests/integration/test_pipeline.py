"""The call pipeline (issue 3) through the real handlers, the queue and the worker, against moto.

One table-driven test covers the matrix direction x answered x known x funnel mode x
call-type filter (SPEC P2-P6, F1-F4, F6, T1, L1, L2); the others name their SPEC id.
"""

from __future__ import annotations

import itertools
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.conftest import load_event
from tests.integration.conftest import AwsStack
from tests.integration.pipeline_helpers import ANNA, CLIENT, after_call, call_record, counts, send, set_rules

MATRIX = list(
    itertools.product(["in", "out"], [True, False], [True, False], ["one_time", "repeatable"], ["incoming", "outgoing", "both"])
)


@pytest.mark.parametrize(("direction", "answered", "known", "mode", "call_types"), MATRIX)
def test_p2_p6_f1_f4_t1_matrix(
    aws: AwsStack, monkeypatch: pytest.MonkeyPatch, direction: str, answered: bool, known: bool, mode: str, call_types: str
) -> None:
    set_rules(monkeypatch, funnel_mode=mode, funnel_call_types=call_types)
    assert aws.admin("PUT", "/admin/employees/anna", json=ANNA).status_code == 200
    if known:
        assert aws.admin("PUT", f"/admin/contacts/{CLIENT}", json={"name": "Kowalski"}).status_code == 200

    send(aws, after_call("c1", direction, answered))
    aws.drain()

    contact_expected = known or direction == "in"  # P2, P3 create; P5: an outgoing call to a new number does not
    card_expected = contact_expected and (call_types == "both" or (call_types == "incoming") == (direction == "in"))
    task_expected = direction == "in" and not answered  # T1
    manager_expected = "anna" if (direction == "out" or answered) else None  # L2: no manager on a missed call

    assert counts(aws) == {
        "contacts": int(contact_expected),
        "cards": int(card_expected),
        "tasks": int(task_expected),
        "calls": 1,
    }
    record = call_record(aws, "c1")
    assert record.get("manager_employee_id") == manager_expected
    contacts = aws.items("ContactsTable")
    if contact_expected:
        assert record["contact_id"] == contacts[0]["contact_id"]
    else:
        assert "contact_id" not in record  # P5: only in the call history
    if contact_expected and not known:
        assert contacts[0]["source"] == "Ringostat"
        assert contacts[0]["utm"] == {"source": "google", "medium": "cpc", "campaign": "zima"}  # P8
        # P2: the answering manager becomes responsible, and so the routing target.
        assert contacts[0].get("responsible_employee_id") == ("anna" if answered else None)
    if card_expected:
        card = aws.items("CardsTable")[0]
        assert card["funnel_id"] == "1"
        assert card.get("manager_employee_id") == manager_expected  # F6


def test_p1_numbers_in_every_form_land_on_one_contact(aws: AwsStack) -> None:
    for index, written in enumerate(["0 12 345 67 89", "48123456789", "+48 123-456-789", "0048123456789"]):
        send(aws, after_call(f"c{index}", "in", True, phone=written))
    aws.drain()
    contacts = aws.items("ContactsTable")
    assert [c["phone"] for c in contacts] == [CLIENT]
    assert {c["contact_id"] for c in aws.items("CallsTable")} == {contacts[0]["contact_id"]}


def test_p2_answered_call_makes_the_contact_routable(aws: AwsStack) -> None:
    aws.admin("PUT", "/admin/employees/anna", json=ANNA)
    send(aws, after_call("c1", "in", True))
    aws.drain()
    ping = aws.post_webhook("/ringostat/routing", json={"from": "0 12 345 67 89", "state": "ping"})
    assert ping.json == {"dst_phone": "company_anna"}


def test_p7_contact_creation_is_configurable(aws: AwsStack, monkeypatch: pytest.MonkeyPatch) -> None:
    set_rules(monkeypatch, contacts_from_incoming_missed="false", contacts_from_outgoing="true")
    aws.admin("PUT", "/admin/employees/anna", json=ANNA)
    send(aws, after_call("missed", "in", False, phone="+48601000001"))
    send(aws, after_call("out", "out", True, phone="+48601000002"))
    aws.drain()
    assert [c["phone"] for c in aws.items("ContactsTable")] == ["+48601000002"]


def test_f2_one_time_card_never_again(aws: AwsStack) -> None:
    send(aws, after_call("c1", "in", True))
    aws.drain()
    _close_cards(aws)
    send(aws, after_call("c2", "in", True))
    aws.drain()
    assert counts(aws)["cards"] == 1


def test_f3_repeatable_card_when_none_is_active(aws: AwsStack, monkeypatch: pytest.MonkeyPatch) -> None:
    set_rules(monkeypatch, funnel_mode="repeatable")
    send(aws, after_call("c1", "in", True))
    send(aws, after_call("c2", "in", True))
    aws.drain()
    assert counts(aws)["cards"] == 1  # the first card is still active
    _close_cards(aws)
    send(aws, after_call("c3", "in", True))
    aws.drain()
    assert counts(aws)["cards"] == 2


def _close_cards(aws: AwsStack) -> None:
    for card in aws.items("CardsTable"):
        aws.dynamodb.update_item(
            TableName=aws.environment_table("CardsTable"),
            Key={"card_id": {"S": card["card_id"]}},
            UpdateExpression="SET active = :no, stage = :won",
            ExpressionAttributeValues={":no": {"BOOL": False}, ":won": {"S": "won"}},
        )


def test_t1_one_open_task_per_number(aws: AwsStack) -> None:
    for index in range(3):
        send(aws, after_call(f"missed-{index}", "in", False))
    aws.drain()
    tasks = aws.items("TasksTable")
    assert len(tasks) == 1
    assert tasks[0]["status"] == "open"


def test_t1_task_goes_to_the_responsible_manager(aws: AwsStack) -> None:
    aws.admin("PUT", "/admin/employees/anna", json=ANNA)
    aws.admin("PUT", f"/admin/contacts/{CLIENT}", json={"responsible_employee_id": "anna"})
    send(aws, after_call("missed", "in", False))
    aws.drain()
    assert aws.items("TasksTable")[0]["assignee_employee_id"] == "anna"


def test_c2_manager_found_by_fmc_number(aws: AwsStack) -> None:
    aws.admin("PUT", "/admin/employees/piotr", json={"name": "Piotr", "fmc_number": "+48 602 000 111"})
    send(aws, after_call("c1", "in", True, employee_id="", sip_account="", connected_with="602000111"))
    aws.drain()
    assert call_record(aws, "c1")["manager_employee_id"] == "piotr"


def test_l1_l4_events_in_any_order_merge_into_one_record(aws: AwsStack) -> None:
    """Recorded events of events/: recording first, then after-call, then the late 'call taken'."""
    answered = load_event("call-after-call-answered.json")
    taken = load_event("call-taken.json")
    before = load_event("call-before-call.json")
    call_id = json.loads(answered["body"])["uniqueid"]
    send(
        aws, {"call_id": call_id, "recording_url": "https://app.ringostat.com/recordings/x.ogg?token=1"}, "/ringostat/recordings"
    )
    for event in (answered, taken, before):
        result = aws.functions["CallEventsFunction"].invoke(event)
        assert result["statusCode"] == 200, result
    aws.drain()
    record = call_record(aws, call_id)
    assert record["status"] == "answered"  # the late "call taken" (IN PROGRESS) did not overwrite it
    assert record["talk_time"] == 81
    assert record["recording_url"].startswith("https://app.ringostat.com/recordings/pl5_")  # the after-call link is newer
    assert record["utm"]["term"] == "hurtownia opon"  # only the before-call event carried it
    assert record["extra"] == {"insertion_type": "dynamic"}  # unknown fields are kept
    assert record["moments"] == ["after_call", "before_call", "call_taken", "recording"]
    assert counts(aws)["calls"] == 1


def test_l4_recording_after_processing_is_stored(aws: AwsStack) -> None:
    send(aws, after_call("c1", "in", True))
    aws.drain()
    link = "https://app.ringostat.com/recordings/c1.ogg?token=late"
    send(aws, {"call_id": "c1", "recording_url": link}, "/ringostat/recordings")
    aws.drain()
    assert call_record(aws, "c1")["recording_url"] == link


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"call_id": "c1", "recording_url": "http://insecure.example/x.ogg"}, "https URL"),
        ({"call_id": "c1", "recording_url": "not a url"}, "https URL"),
        ({"recording_url": "https://app.ringostat.com/x.ogg"}, "call_id"),
        ({"call_id": "c1"}, "recording_url"),
    ],
)
def test_l4_bad_recording_link_is_400_and_nothing_stored(aws: AwsStack, payload: dict[str, Any], reason: str) -> None:
    response = aws.post_webhook("/ringostat/recordings", json=payload)
    assert response.status_code == 400
    assert reason in response.json["message"]
    assert counts(aws)["calls"] == 0
    assert aws.queue_depth("CallQueue") == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"call_id": None}, "call_id"),
        ({"event": "lunch"}, "event"),
        ({"direction": "sideways"}, "direction"),
        ({"caller": "+48 000"}, "caller"),
        ({"caller": None}, "caller"),
        ({"started_at": "yesterday"}, "started_at"),
        ({"duration": "long"}, "duration"),
        ({"call_id": "x" * 300}, "call_id"),
        ({"caller": {"nested": True}}, "caller"),
    ],
)
def test_invalid_event_is_400_with_the_field_and_nothing_stored(aws: AwsStack, change: dict[str, Any], field: str) -> None:
    payload = {key: value for key, value in {**after_call("c1", "in", True), **change}.items() if value is not None}
    response = aws.post_webhook("/ringostat/events", json=payload)
    assert response.status_code == 400
    assert field in response.json["message"]
    assert counts(aws)["calls"] == 0
    assert aws.queue_depth("CallQueue") == 0


def test_unknown_status_is_other_not_an_error(aws: AwsStack) -> None:
    send(aws, after_call("c1", "in", False, status="SOMETHING NEW"))
    aws.drain()
    assert call_record(aws, "c1")["status"] == "other"


def test_event_query_string_parameters_are_accepted(aws: AwsStack) -> None:
    """Ringostat passes static parameters (here: the moment) only in the URL."""
    payload = after_call("c1", "in", True)
    moment = payload.pop("event")
    response = aws.http.post("/ringostat/events", query_string={"token": "local-webhook-secret", "event": moment}, data=payload)
    assert response.status_code == 200
    assert call_record(aws, "c1")["moments"] == ["after_call"]


# ------------------------------------------------------------------ exactly once


SCENARIOS = [
    after_call("new-in-answered", "in", True, phone="+48601000001"),
    after_call("new-in-missed", "in", False, phone="+48601000002"),
    after_call("known-in", "in", True, phone="+48601000003"),
    after_call("out-new", "out", True, phone="+48601000004"),
    after_call("out-known", "out", False, phone="+48601000003"),
]


def _seed_scenarios(aws: AwsStack) -> None:
    aws.admin("PUT", "/admin/employees/anna", json=ANNA)
    aws.admin("PUT", "/admin/contacts/+48601000003", json={"name": "Known"})


def _final_state(aws: AwsStack) -> dict[str, Any]:
    return {
        "counts": counts(aws),
        "contacts": sorted(c["phone"] for c in aws.items("ContactsTable")),
        "cards": sorted(c["call_id"] for c in aws.items("CardsTable")),
        "tasks": sorted(t["call_id"] for t in aws.items("TasksTable")),
        "links": sorted(
            (c["call_id"], c.get("contact_id") is not None, c.get("manager_employee_id")) for c in aws.items("CallsTable")
        ),
    }


def _reference_state(aws: AwsStack) -> dict[str, Any]:
    _seed_scenarios(aws)
    for payload in SCENARIOS:
        send(aws, payload)
    aws.drain()
    return _final_state(aws)


EXPECTED_COUNTS = {"contacts": 3, "cards": 3, "tasks": 1, "calls": 5}


def test_f5_every_event_sent_three_times_changes_nothing(aws: AwsStack) -> None:
    _seed_scenarios(aws)
    for _ in range(3):
        for payload in SCENARIOS:
            send(aws, payload)
        aws.drain()
    assert counts(aws) == EXPECTED_COUNTS


def test_f5_eight_concurrent_copies_create_one_of_each(aws: AwsStack) -> None:
    _seed_scenarios(aws)

    def deliver(payload: dict[str, Any]) -> int:
        return int(aws.post_webhook("/ringostat/events", json=payload).status_code)

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(deliver, [payload for payload in SCENARIOS for _ in range(8)]))
    # A copy that meets its twin in flight is told to retry (409); Ringostat re-sends it.
    assert set(statuses) <= {200, 409}
    for payload in SCENARIOS:
        send(aws, payload)
    aws.drain()
    assert counts(aws) == EXPECTED_COUNTS


def test_f5_two_first_calls_from_one_new_number_at_once(aws: AwsStack) -> None:
    """Two workers sync two first calls from one number at the same moment: one contact, one card."""
    send(aws, after_call("first-a", "in", True))
    send(aws, after_call("first-b", "in", True))
    from ringbridge import wiring

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda call_id: _sync_until_done(wiring, call_id), ["first-a", "first-b"]))
    assert all(results)
    assert {key: value for key, value in counts(aws).items() if key != "tasks"} == {"contacts": 1, "cards": 1, "calls": 2}


def _sync_until_done(wiring: Any, call_id: str) -> bool:
    from ringbridge.usecases.sync import NumberBusy

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            wiring.sync(call_id)
            return True
        except NumberBusy:
            time.sleep(0.01)  # as SQS would: the busy call comes back a moment later
    return False


def test_crm_outage_ends_in_the_dlq_and_replay_restores_everything(aws: AwsStack, monkeypatch: pytest.MonkeyPatch) -> None:
    """CRM down for a whole run: 0 events lost, and after the replay the same state as a run with the CRM up."""
    reference = _reference_state(aws)
    assert reference["counts"] == EXPECTED_COUNTS
    aws.wipe()
    _seed_scenarios(aws)
    from ringbridge.storage.builtin_crm import BuiltinCrm

    def crm_down(*_: Any, **__: Any) -> None:
        raise ConnectionError("CRM is down")

    with monkeypatch.context() as outage:
        for method in ("find_contact", "log_call"):
            outage.setattr(BuiltinCrm, method, crm_down)
        for payload in SCENARIOS:
            send(aws, payload)
        aws.drain()
        assert aws.queue_depth("CallQueue") == 0
        assert aws.queue_depth("CallDeadLetterQueue") == len(SCENARIOS)  # 0 lost
        assert counts(aws) == {"contacts": 1, "cards": 0, "tasks": 0, "calls": 5}  # only the seeded contact

    from ringbridge import cli

    env = aws.environment
    args = ["--call-queue-url", env["CALL_QUEUE_URL"], "--dlq-url", aws.attributes["CallDeadLetterQueue"]["QueueUrl"]]
    assert cli.main([*args, "dlq", "list"]) == 0
    assert cli.main([*args, "dlq", "replay", "--all"]) == 0
    assert cli.main([*args, "dlq", "replay", "--all"]) == 0  # replaying an empty DLQ is harmless
    aws.drain()
    assert aws.queue_depth("CallDeadLetterQueue") == 0
    assert _final_state(aws) == reference


def test_dlq_replay_of_selected_messages(aws: AwsStack, capsys: pytest.CaptureFixture[str]) -> None:
    from ringbridge import cli

    dlq = aws.attributes["CallDeadLetterQueue"]["QueueUrl"]
    for call_id in ("a", "b"):
        aws.sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"call_id": call_id}))
    args = ["--call-queue-url", aws.environment["CALL_QUEUE_URL"], "--dlq-url", dlq]
    assert cli.main([*args, "dlq", "list"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    chosen = next(item["message_id"] for item in listed if json.loads(item["body"])["call_id"] == "a")
    assert cli.main([*args, "dlq", "replay", chosen]) == 0
    assert "replayed 1 message(s)" in capsys.readouterr().out
    queued = aws.sqs.receive_message(QueueUrl=aws.environment["CALL_QUEUE_URL"], MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(message["Body"])["call_id"] for message in queued] == ["a"]
    assert aws.queue_depth("CallDeadLetterQueue") == 1


def test_worker_reports_only_the_failed_record(aws: AwsStack) -> None:
    send(aws, after_call("good", "in", True))
    event = json.loads(json.dumps(load_event("crm-sync-batch.json")))
    good = dict(event["Records"][0], messageId="good-message", body=json.dumps({"call_id": "good"}))
    broken = dict(event["Records"][0], messageId="broken-message", body="{not json")
    result = aws.functions["CrmSyncFunction"].invoke({"Records": [good, broken]})
    assert result == {"batchItemFailures": [{"itemIdentifier": "broken-message"}]}
    assert counts(aws)["contacts"] == 1


@pytest.mark.parametrize(("attribution", "expected"), [("first_touch", "newsletter"), ("last_touch", "spring")])
def test_p8_contact_created_by_an_admin_takes_the_utm_of_a_call(
    aws: AwsStack, monkeypatch: pytest.MonkeyPatch, attribution: str, expected: str
) -> None:
    set_rules(monkeypatch, utm_attribution=attribution)
    assert aws.admin("PUT", f"/admin/contacts/{CLIENT}", json={"name": "Known client"}).status_code in (200, 201)
    send(aws, after_call("u1", "in", True, utm_source="newsletter", utm_medium="email", utm_campaign="nov"))
    aws.drain()
    [contact] = aws.items("ContactsTable")
    assert contact["utm"] == {"source": "newsletter", "medium": "email", "campaign": "nov"}
    send(aws, after_call("u2", "in", True, utm_source="spring", utm_medium="email", utm_campaign="nov"))
    aws.drain()
    [contact] = aws.items("ContactsTable")
    assert contact["utm"]["source"] == expected
