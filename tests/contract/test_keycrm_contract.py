"""The KeyCRM adapter's requests and the strict fake's answers, errors included, against ``keycrm_api.yaml``."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests

from ringbridge.crm import CrmRejected, CrmUnavailable, KeyCrmConfig, build_keycrm
from ringbridge.crm.http import RetryPolicy
from ringbridge.domain.crm import CardDraft, CrmContact
from tests.contract import KEYCRM
from tests.contract.scenarios import keycrm_full_scenario
from tests.fakes import Exchange, FakeClock
from tests.fakes import keycrm as keycrm_fake
from tests.fakes.keycrm import API_KEY, FakeKeyCrm
from tests.fakes.pipeline import ANNA, Employees, make_call

PHONE = "+48123456789"
# The operations the adapter has no use for (kept in the contract for later steps).
UNUSED: set[tuple[str, str]] = set()


@pytest.fixture
def fake() -> Iterator[FakeKeyCrm]:
    clock = FakeClock()
    server = FakeKeyCrm(monotonic=clock.monotonic)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _operation(exchange: Exchange) -> tuple[str, str]:
    path = exchange.path.removeprefix("/v1")
    for pattern, template in (
        (r"^/buyer/\d+$", "/buyer/{buyerId}"),
        (r"^/pipelines/\d+/statuses$", "/pipelines/{pipelineId}/statuses"),
        (r"^/pipelines/cards/\d+$", "/pipelines/cards/{cardId}"),
    ):
        if re.match(pattern, path):
            path = template
    return exchange.method, path


def test_every_request_and_answer_of_a_full_scenario_keeps_the_contract(fake: FakeKeyCrm) -> None:
    keycrm_full_scenario(fake)
    problems = KEYCRM.problems(fake.exchanges)
    assert not problems, "\n".join(problems)
    assert {_operation(e) for e in fake.exchanges} == KEYCRM.operations() - UNUSED


def test_the_fakes_error_answers_keep_the_contract(fake: FakeKeyCrm) -> None:
    clock = FakeClock()
    config = KeyCrmConfig(base_url=f"{fake.url}/v1", pipeline_id=1)
    crm = build_keycrm(API_KEY, config, Employees(ANNA), clock=clock, retry=RetryPolicy(max_attempts=3, max_total_wait=5))
    with pytest.raises(CrmRejected):  # 401
        build_keycrm("wrong", config, clock=clock).find_contact(PHONE)
    with pytest.raises(CrmRejected):  # 404
        crm.log_call(make_call("e-404", PHONE), CrmContact(crm_id="999", phone=PHONE), ANNA)
    buyer = fake.add_buyer("Jan", [PHONE])
    manager = ANNA.model_copy(update={"crm_manager_id": "99"})
    draft = CardDraft(
        call_id="e-422", phone=PHONE, contact=CrmContact(crm_id=str(buyer), phone=PHONE), funnel_id="1", title="t", summary="s"
    )
    with pytest.raises(CrmRejected):  # 422
        crm.create_card(draft.model_copy(update={"manager": manager}))
    fake.throttle_next(2, retry_after=1)
    assert crm.find_contact(PHONE) is not None  # 429, 429, 200
    fake.limit(1, 60.0)
    with pytest.raises(CrmUnavailable):  # 429 with the window's own Retry-After, beyond the wait budget
        crm.find_contact(PHONE)
        crm.find_contact(PHONE)
    fake.limit(keycrm_fake.REQUESTS_PER_MINUTE)
    adapter_exchanges = list(fake.exchanges)
    problems = KEYCRM.problems(adapter_exchanges)

    # Answers to requests the adapter does not send (those requests are outside the contract).
    headers = {"Authorization": f"Bearer {API_KEY}"}
    for params in ({"filter[status_id]": "11,12"}, {"filter[client_id]": str(buyer)}, {"include": "contact,orders"}):
        requests.get(f"{fake.url}/v1/pipelines/cards", params=params, headers=headers, timeout=5)
    requests.post(f"{fake.url}/v1/buyer", json={"phone": [PHONE]}, headers=headers, timeout=5)
    requests.get(f"{fake.url}/v1/buyer", params={"limit": 500}, headers=headers, timeout=5)
    problems += KEYCRM.problems(fake.exchanges[len(adapter_exchanges) :], requests_too=False)
    assert not problems, "\n".join(problems)
    statuses = [e.status for e in fake.exchanges]
    assert {400, 401, 404, 422, 429} <= set(statuses)
    throttled = [e for e in fake.exchanges if e.status == 429]
    assert all(int(e.response_headers["Retry-After"]) >= 1 for e in throttled)
    invalid = [e.response_json for e in fake.exchanges if e.status == 422]
    assert all(body["message"] == "The given data was invalid." and body["errors"] for body in invalid)


@pytest.mark.parametrize(
    ("method", "path", "params", "body", "why"),
    [
        ("GET", "/pipelines/cards", {"filter[status_id]": "11,12"}, None, "a list where one id is documented"),
        ("GET", "/pipelines/cards", {"filter[contact.phone]": PHONE}, None, "a filter the route does not allow"),
        ("GET", "/pipelines/cards", {"filter[client_id]": "5"}, None, "cards cannot be filtered by buyer"),
        ("GET", "/pipelines/cards", {"include": "contact.client,orders"}, None, "an include the route does not allow"),
        ("GET", "/buyer", {"include": "custom_fields"}, None, "the live list names customFields"),
        ("GET", "/buyer", {"filter[phone]": PHONE}, None, "buyers filter on buyer_phone"),
        ("GET", "/buyer", {"limit": "51"}, None, "at most 50 a page"),
        ("POST", "/buyer", None, {"full_name": 5}, "full_name is text"),
        ("POST", "/buyer", None, {"full_name": "Jan", "phone": PHONE}, "phone is a list"),
        ("POST", "/buyer", None, {"full_name": "Jan", "comment": "x"}, "KeyCRM would drop an unknown field"),
        ("PUT", "/buyer/101", None, {"note": "x"}, "full_name is required on PUT too"),
        ("POST", "/pipelines/cards", None, {"title": "no contact"}, "contact is required"),
        ("POST", "/pipelines/cards", None, {"contact": {"client_id": 1}, "status_id": 11}, "no status on create"),
        ("PUT", "/pipelines/cards/501", None, {"manager_comment": "x"}, "not updatable: KeyCRM would drop it"),
        ("PUT", "/pipelines/cards/501", None, {"communicate_at": "2030-01-01T10:00:00Z"}, "KeyCRM's time form"),
    ],
)
def test_the_contract_refuses_requests_outside_it(
    fake: FakeKeyCrm, method: str, path: str, params: dict[str, str] | None, body: object, why: str
) -> None:
    requests.request(
        method, f"{fake.url}/v1{path}", params=params, json=body, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=5
    )
    assert KEYCRM.request_errors(fake.exchanges[-1]), why


def test_the_contract_refuses_a_request_without_the_key(fake: FakeKeyCrm) -> None:
    requests.get(f"{fake.url}/v1/buyer", timeout=5)
    assert KEYCRM.request_errors(fake.exchanges[-1])


def test_the_contract_refuses_answers_outside_it(fake: FakeKeyCrm) -> None:
    buyer = fake.add_buyer("Jan", [PHONE])
    fake.buyers[buyer]["phone"] = PHONE  # a string where the contract says a list
    requests.get(f"{fake.url}/v1/buyer/{buyer}", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=5)
    assert KEYCRM.response_errors(fake.exchanges[-1])
    base = fake.exchanges[-1]
    no_retry_after = Exchange(base.method, base.path, "", base.headers, b"", 429, b'{"message": "Too Many Attempts."}', {})
    no_errors = Exchange("POST", "/v1/buyer", "", base.headers, b"{}", 422, b'{"message": "The given data was invalid."}', {})
    for exchange in (no_retry_after, no_errors):
        exchange.response_headers["Content-Type"] = "application/json"
        assert KEYCRM.response_errors(exchange)


def test_the_fake_and_the_contract_allow_the_same_filters_and_includes() -> None:
    paths = KEYCRM.document["paths"]
    parameters = KEYCRM.document["components"]["parameters"]

    def filter_keys(path: str) -> set[str]:
        [param] = [p for p in paths[path]["get"]["parameters"] if p.get("name") == "filter"]
        return set(param["schema"]["properties"])

    assert filter_keys("/buyer") == set(keycrm_fake.BUYER_FILTERS)
    assert filter_keys("/pipelines/cards") == set(keycrm_fake.CARD_FILTERS)
    assert filter_keys("/users") == set(keycrm_fake.USER_FILTERS)
    assert set(parameters["buyerInclude"]["schema"]["items"]["enum"]) == set(keycrm_fake.BUYER_INCLUDES)
    assert set(parameters["cardInclude"]["schema"]["items"]["enum"]) == set(keycrm_fake.CARD_INCLUDES)
