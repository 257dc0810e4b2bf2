"""The NetHunt adapter's requests and the strict fake's answers, errors included, against ``nethunt_api.yaml``."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests

from ringbridge.crm import CrmRejected, CrmUnavailable, build_nethunt
from ringbridge.crm.http import RetryPolicy
from ringbridge.domain.crm import CrmContact
from tests.contract import NETHUNT
from tests.contract.scenarios import NH_ANNA, nethunt_config, nethunt_full_scenario
from tests.fakes import Exchange, FakeClock
from tests.fakes import nethunt as nethunt_fake
from tests.fakes.nethunt import API_KEY, CONTACTS, EMAIL, PREFIX, FakeNetHunt
from tests.fakes.pipeline import Employees, Pipeline, make_call

PHONE = "+48123456789"
# Kept in the contract for later steps; the adapter does not use them.
UNUSED = {
    ("GET", "/triggers/auth-test"),
    ("GET", "/triggers/readable-folder"),
}


@pytest.fixture
def fake() -> Iterator[FakeNetHunt]:
    clock = FakeClock()
    server = FakeNetHunt(monotonic=clock.monotonic)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _operation(exchange: Exchange) -> tuple[str, str]:
    path = exchange.path.removeprefix(PREFIX)
    path = re.sub(r"^/(triggers/[\w-]+|searches/find-record|actions/create-record)/[^/]+$", r"/\1/{folderId}", path)
    path = re.sub(r"^/(actions/(?!create-record)[\w-]+)/[^/]+$", r"/\1/{recordId}", path)
    return exchange.method, path


def _session() -> requests.Session:
    session = requests.Session()
    session.auth = (EMAIL, API_KEY)
    return session


def test_every_request_and_answer_of_a_full_scenario_keeps_the_contract(fake: FakeNetHunt) -> None:
    nethunt_full_scenario(fake)
    problems = NETHUNT.problems(fake.exchanges)
    assert not problems, "\n".join(problems)
    assert {_operation(e) for e in fake.exchanges} == NETHUNT.operations() - UNUSED


def test_the_fakes_error_answers_keep_the_contract(fake: FakeNetHunt) -> None:
    clock = FakeClock()
    employees = Employees(NH_ANNA)
    retry = RetryPolicy(max_attempts=3, max_total_wait=5)
    crm = build_nethunt(API_KEY, nethunt_config(fake), employees, clock=clock, retry=retry)
    with pytest.raises(CrmRejected):  # 401
        build_nethunt("wrong", nethunt_config(fake), clock=clock).find_contact(PHONE)
    with pytest.raises(CrmRejected):  # 404: no such record
        crm.log_call(make_call("e-404", PHONE), CrmContact(crm_id="rec-gone", phone=PHONE), NH_ANNA)
    loose = nethunt_config(fake, check_fields=False, origin_field="Lead origin")
    unchecked = build_nethunt(API_KEY, loose, employees, clock=clock)
    # 400: a field the folder lacks; the pipeline keeps the refusal on the call instead of raising
    assert Pipeline(unchecked, employees=employees).sync(make_call("e-400", PHONE)).refused == ["contact"]
    fake.throttle_next(2, retry_after=1)
    assert crm.find_contact(PHONE) is None  # 429, 429, 200
    fake.failing = True
    with pytest.raises(CrmUnavailable):  # 500s
        crm.find_contact(PHONE)
    fake.failing = False
    adapter_exchanges = list(fake.exchanges)
    problems = NETHUNT.problems(adapter_exchanges)

    # Answers to requests the adapter does not send (those requests are outside the contract).
    session = _session()
    create = f"{fake.url}{PREFIX}/actions/create-record/{CONTACTS}"
    session.post(create, json={"timeZone": "UTC", "fields": {"Name": "Jan", "Responsible": "1"}}, timeout=5)
    session.post(create, json={"timeZone": "UTC", "fields": {"Name": "Jan", "Source": "Radio"}}, timeout=5)
    session.post(create, json={"fields": {"Name": "Jan"}}, timeout=5)
    session.get(f"{fake.url}{PREFIX}/searches/find-record/{CONTACTS}", timeout=5)
    session.get(f"{fake.url}{PREFIX}/triggers/new-call-log/{CONTACTS}", params={"since": "yesterday"}, timeout=5)
    problems += NETHUNT.problems(fake.exchanges[len(adapter_exchanges) :], requests_too=False)
    assert not problems, "\n".join(problems)
    assert {400, 401, 404, 429, 500} <= {e.status for e in fake.exchanges}


@pytest.mark.parametrize(
    ("path", "body", "why"),
    [
        (f"/actions/create-record/{CONTACTS}", {"fields": {"Name": "Jan"}}, "timeZone is required"),
        (f"/actions/create-record/{CONTACTS}", {"timeZone": "UTC", "fields": {}}, "at least one field"),
        (f"/actions/create-record/{CONTACTS}", {"timeZone": "UTC", "fields": {"Name": {"first": "Jan"}}}, "no objects as values"),
        ("/actions/create-call-log/rec1", {"duration": 2}, "text is required"),
        ("/actions/create-call-log/rec1", {"text": "x", "duration": "95"}, "duration is a number of minutes"),
        ("/actions/create-call-log/rec1", {"text": "x", "time": "2030-01-01 10:00:00"}, "time is ISO 8601 UTC"),
        ("/actions/create-call-log/rec1", {"text": "x", "recording": "https://rec"}, "no recording field: it goes in the text"),
        ("/actions/create-comment/rec1", {"body": "x"}, "the comment is `text`"),
        ("/actions/update-record/rec1", {"fields": {"Name": "x"}}, "updates are fieldActions"),
    ],
)
def test_the_contract_refuses_requests_outside_it(fake: FakeNetHunt, path: str, body: object, why: str) -> None:
    _session().post(f"{fake.url}{PREFIX}{path}", json=body, timeout=5)
    assert NETHUNT.request_errors(fake.exchanges[-1]), why


@pytest.mark.parametrize(
    "params",
    [{"limit": "0", "query": PHONE}, {"query": PHONE, "phone": PHONE}],
)
def test_the_contract_refuses_searches_outside_it(fake: FakeNetHunt, params: dict[str, str]) -> None:
    _session().get(f"{fake.url}{PREFIX}/searches/find-record/{CONTACTS}", params=params, timeout=5)
    assert NETHUNT.request_errors(fake.exchanges[-1])


def test_the_contract_refuses_a_request_without_credentials(fake: FakeNetHunt) -> None:
    requests.get(f"{fake.url}{PREFIX}/triggers/folder-field/{CONTACTS}", timeout=5)
    assert NETHUNT.request_errors(fake.exchanges[-1])


def test_the_contract_refuses_answers_outside_it(fake: FakeNetHunt) -> None:
    session = _session()
    body = {"timeZone": "UTC", "fields": {"Name": "J"}}
    session.post(f"{fake.url}{PREFIX}/actions/create-record/{CONTACTS}", json=body, timeout=5)
    good = fake.exchanges[-1]
    assert not NETHUNT.response_errors(good)
    answer = b'{"createdAt": "2030-01-01T00:00:00.000Z"}'
    without_id = Exchange(good.method, good.path, "", good.headers, good.body, 200, answer, good.response_headers)
    assert NETHUNT.response_errors(without_id)  # a created record always names its recordId


def test_the_fake_lists_folder_fields_by_name_only(fake: FakeNetHunt) -> None:
    """NetHunt's page shows `[{"name"}]`: the adapter cannot learn a field's type or options from the API."""
    answer = _session().get(f"{fake.url}{PREFIX}/triggers/folder-field/{nethunt_fake.DEALS}", timeout=5).json()
    assert all(set(item) == {"name"} for item in answer)
