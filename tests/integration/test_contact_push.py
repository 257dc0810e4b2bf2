"""Caller ID in Ringostat (S1): contacts reach the strict Ringostat fake's contact book through the push queue."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from local.poller import QueuePoller
from local.ringostat_fake import RingostatFake
from tests.integration.conftest import AwsStack
from tests.integration.crm_api_helpers import Api
from tests.integration.pipeline_helpers import ANNA, CLIENT, after_call, send

AUTH_KEY = "test-ringostat_auth_key_param"  # the test secrets (conftest): test-<variable>
PROJECT_ID = "test-ringostat_project_id_param"


@pytest.fixture
def ringostat(aws: AwsStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[RingostatFake]:
    from ringbridge.config import settings

    with RingostatFake(auth_key=AUTH_KEY, project_id=PROJECT_ID) as fake:
        monkeypatch.setenv("RINGOSTAT_API_URL", fake.url)
        monkeypatch.setenv("RINGOSTAT_TIMEOUT_MS", "2000")
        monkeypatch.setenv("CONTACT_PUSH_INTERVAL_MS", "0")
        settings.cache_clear()
        yield fake
    settings.cache_clear()


def push_poller(aws: AwsStack) -> QueuePoller:
    worker = aws.functions["ContactPushFunction"]
    trigger = worker.spec.sqs_triggers[0]
    queue = aws.attributes[trigger.queue]
    return QueuePoller(aws.sqs, queue["QueueUrl"], queue["Arn"], trigger, worker)


def drain_pushes(aws: AwsStack, rounds: int = 20) -> int:
    poller, handled = push_poller(aws), 0
    for _ in range(rounds):
        batch = poller.poll_once(wait_seconds=0)
        if batch == 0:
            break
        handled += batch
    return handled


def pushed(fake: RingostatFake) -> list[dict[str, object]]:
    return [c for r in fake.seen("/minicrm/contacts/sync") if r["method"] == "POST" for c in json.loads(r["body"])["contacts"]]


def test_s1_a_contact_from_an_incoming_call_reaches_ringostat_with_name_phone_and_staff_id(
    aws: AwsStack, ringostat: RingostatFake
) -> None:
    assert aws.admin("PUT", "/admin/employees/anna", json=ANNA).status_code == 200
    send(aws, after_call("s1-call-1", "in", answered=True))
    aws.drain()
    assert drain_pushes(aws) == 1
    (contact,) = ringostat.contacts.values()
    stored = aws.admin("GET", f"/admin/contacts/{CLIENT.replace('+', '%2B')}").json
    assert contact["externalId"] == stored["contact_id"]
    assert contact["fullName"] == stored["name"]
    assert contact["contactDirections"] == [{"type": "phone", "name": "personal", "value": CLIENT.lstrip("+")}]
    assert contact["responsible"] == "111111" == contact["staffId"]  # Anna's Ringostat staff id
    assert contact["origin"] == "ringbridge" and contact["contactLink"] is None  # the built-in store has no page
    request = ringostat.seen("/minicrm/contacts/sync")[0]
    assert request["headers"]["Auth-Key"] == AUTH_KEY and request["headers"]["X-Project-Id"] == PROJECT_ID
    # the recording link of the same call changes no contact: nothing more is pushed
    send(aws, {**after_call("s1-call-1", "in", answered=True), "event": "recording", "recording": "https://r/1.ogg"})
    aws.drain()
    assert drain_pushes(aws) == 0


def test_s1_an_admin_change_is_pushed_and_the_newest_change_wins_in_a_batch(aws: AwsStack, ringostat: RingostatFake) -> None:
    assert aws.admin("PUT", "/admin/employees/anna", json=ANNA).status_code == 200
    path = "/admin/contacts/%2B48221234567"
    assert aws.admin("PUT", path, json={"name": "Biuro", "responsible_employee_id": "anna"}).status_code == 200
    assert aws.admin("PUT", path, json={"name": "Biuro Kowalski"}).status_code == 200
    drain_pushes(aws)
    assert len(ringostat.seen("/minicrm/contacts/sync")) == 1  # one request for the batch
    (contact,) = pushed(ringostat)
    assert (contact["fullName"], contact["responsible"]) == ("Biuro Kowalski", "111111")


def test_s1_a_contact_from_the_call_window_is_pushed(aws: AwsStack, ringostat: RingostatFake, api: Api) -> None:
    created = api("POST", "/contacts", json={"phone": "+48 221 234 568", "name": "Hurtownia"})
    assert created.status_code == 201
    drain_pushes(aws)
    assert [c["fullName"] for c in pushed(ringostat)] == ["Hurtownia"]


def test_s1_full_push_queries_pages_and_sends_every_contact(
    aws: AwsStack, ringostat: RingostatFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(5):
        assert aws.admin("PUT", f"/admin/contacts/%2B4822123450{n}", json={"name": f"Klient {n}"}).status_code == 200
    aws.sqs.purge_queue(QueueUrl=aws.attributes["ContactPushQueue"]["QueueUrl"])
    monkeypatch.setattr(aws.module("AdminFunction").ringostat, "PUSH_PAGE", 2)
    answer = aws.admin("POST", "/admin/ringostat/push-contacts")
    assert answer.status_code == 202
    assert answer.json == {"queued": 5, "messages": 3, "next": None}
    drain_pushes(aws)
    assert sorted(c["fullName"] for c in pushed(ringostat)) == [f"Klient {n}" for n in range(5)]
    from ringbridge.domain.crm_lists import name_key
    from ringbridge.storage.contacts import page_token

    after = page_token(name_key("Klient 2"), "+48221234502")
    again = aws.admin("POST", f"/admin/ringostat/push-contacts?after={after}").json
    assert again["queued"] == 2  # from where an earlier answer's "next" pointed


def test_s1_a_failed_request_is_retried_and_nothing_is_lost(aws: AwsStack, ringostat: RingostatFake) -> None:
    ringostat.fail_next = 3  # the client's three attempts
    # a failed message comes back when its visibility ends: at once here
    queue_url = aws.attributes["ContactPushQueue"]["QueueUrl"]
    aws.sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"VisibilityTimeout": "0"})
    assert aws.admin("PUT", "/admin/contacts/%2B48221234567", json={"name": "Biuro"}).status_code == 200
    assert push_poller(aws).poll_once(wait_seconds=0) == 1
    assert ringostat.contacts == {}
    drain_pushes(aws)
    assert [c["fullName"] for c in ringostat.contacts.values()] == ["Biuro"]


def test_s1_switched_off_nothing_is_queued(aws: AwsStack, ringostat: RingostatFake, monkeypatch: pytest.MonkeyPatch) -> None:
    from ringbridge.config import settings

    monkeypatch.setenv("CONTACT_PUSH", "false")
    settings.cache_clear()
    assert aws.admin("PUT", "/admin/contacts/%2B48221234567", json={"name": "Biuro"}).status_code == 200
    assert aws.queue_depth("ContactPushQueue") == 0
    assert aws.admin("POST", "/admin/ringostat/push-contacts").status_code == 409
