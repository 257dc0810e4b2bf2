"""Every request the KeyCRM adapter sends in a full scenario, and every answer of the fake, against KeyCRM's OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ringbridge.crm import KeyCrmConfig, build_keycrm
from ringbridge.domain.calls import Direction, Utm
from ringbridge.domain.crm import CrmContact, TaskDraft
from ringbridge.domain.rules import FunnelMode
from tests.contract import load_keycrm_spec, request_errors, response_errors
from tests.fakes import FakeClock
from tests.fakes.keycrm import API_KEY, FakeKeyCrm
from tests.fakes.pipeline import ANNA, PIOTR, Employees, Pipeline, make_call

SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "keycrm-openapi.yml"


@pytest.fixture(scope="module")
def api() -> object:
    if not SPEC.exists():
        pytest.skip(f"KeyCRM's OpenAPI document is not at {SPEC}")
    return load_keycrm_spec(SPEC)


@pytest.fixture
def fake() -> Iterator[FakeKeyCrm]:
    clock = FakeClock()
    server = FakeKeyCrm(monotonic=clock.monotonic)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def run_full_scenario(fake: FakeKeyCrm) -> None:
    """Every adapter operation, through ``sync_call`` where the pipeline reaches it."""
    clock = FakeClock()
    crm = build_keycrm(
        API_KEY,
        KeyCrmConfig(base_url=f"{fake.url}/v1", source_id=7, buyer_fields={"source": "CT_1", "utm_source": "CT_2"}),
        Employees(ANNA, PIOTR),
        clock=clock,
    )
    once = Pipeline(crm)
    utm = Utm(source="google", medium="cpc", campaign="spring", term="crm", content="ad")
    once.sync(make_call("k1", "+48123456789", utm=utm, keyword="crm"))  # new, answered
    once.sync(make_call("k1", "+48123456789", utm=utm, recording_url="https://rec.example/k1.mp3"))  # L4
    once.sync(make_call("k2", "+48123456780", answered=False))  # new, missed: reminder
    once.sync(make_call("k3", "+48123456789", employee=PIOTR))  # known
    once.sync(make_call("k4", "+48600700800", direction=Direction.OUTGOING))  # P5
    legacy = fake.add_buyer("Legacy", ["0048500600700", "500600700"])
    fake.add_card(legacy, status_id=13)
    repeat = Pipeline(crm, funnel_mode=FunnelMode.REPEATABLE, funnel_id="1")
    repeat.sync(make_call("k5", "+48500600700"))  # known, only a won card: a new card
    repeat.sync(make_call("k6", "+48500600700", answered=False))  # reminder on the open card
    crm.create_task(
        TaskDraft(call_id="k7", phone="+48700800900", due_at="2030-01-01T10:00:00Z", text="Call back", assignee=ANNA)
    )  # no buyer: a card with its own contact
    crm.find_open_task("+48500600700")
    crm.find_active_card("+48123456789", CrmContact(crm_id="101", phone="+48123456789"))
    one_funnel = build_keycrm(API_KEY, KeyCrmConfig(base_url=f"{fake.url}/v1", pipeline_id=1), clock=clock)
    one_funnel.find_active_card("+48123456789", CrmContact(crm_id="101", phone="+48123456789"))


def test_every_keycrm_request_and_response_matches_the_openapi_document(api: object, fake: FakeKeyCrm) -> None:
    run_full_scenario(fake)
    assert fake.exchanges, "the scenario sent nothing"
    problems: list[str] = []
    for exchange in fake.exchanges:
        where = f"{exchange.method} {exchange.path}?{exchange.query_string}"
        problems += [f"request {where}: {e}" for e in request_errors(api, exchange)]  # type: ignore[arg-type]
        problems += [f"response {exchange.status} {where}: {e}" for e in response_errors(api, exchange)]  # type: ignore[arg-type]
    assert not problems, "\n".join(problems)
    operations = sorted({f"{e.method} {e.path}" for e in fake.exchanges})
    print(f"\nvalidated {len(fake.exchanges)} KeyCRM requests and {len(fake.exchanges)} responses; operations: {operations}")
    assert len(fake.exchanges) > 0
    assert {e.method for e in fake.exchanges} == {"GET", "POST", "PUT"}


def test_the_validator_catches_a_request_outside_the_document(api: object, fake: FakeKeyCrm) -> None:
    """The check can fail: a body without the required ``contact`` and an undocumented filter are refused."""
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {API_KEY}"
    session.post(f"{fake.url}/v1/pipelines/cards", json={"title": "no contact"})
    session.post(f"{fake.url}/v1/buyer", json={"full_name": 5})
    session.get(f"{fake.url}/v1/buyer", params={"limit": 500})
    requests.get(f"{fake.url}/v1/buyer", timeout=5)  # no Authorization: the document requires bearerAuth
    requests_checked = [request_errors(api, exchange) for exchange in fake.exchanges]  # type: ignore[arg-type]
    assert all(requests_checked), requests_checked


def test_the_validator_catches_an_answer_outside_the_document(api: object, fake: FakeKeyCrm) -> None:
    import requests

    buyer = fake.add_buyer("Jan", ["+48123456789"])
    fake.buyers[buyer]["phone"] = "+48123456789"  # a string where the document says a list
    requests.get(f"{fake.url}/v1/buyer/{buyer}", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=5)
    assert response_errors(api, fake.exchanges[-1])  # type: ignore[arg-type]
