"""Issue 5's 'done when': with Crm=keycrm / Crm=nethunt pointed at the fakes, the seeds' scenarios
(sent three times, through a 429 storm) produce in the fake CRM what the seeds say, nothing twice."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import local_stack_process
from tests.e2e.test_pipeline_e2e import after_call, call, deliver, eventually
from tests.fakes import keycrm, nethunt

pytestmark = pytest.mark.e2e

EMPLOYEE = {"name": "Anna Nowak", "crm_manager_id": "1", "ringostat_employee_id": "111111", "sip_accounts": ["company_anna_e2e"]}
SCENARIOS = [
    ("crm-new-answered", "in", True, "0 601 700 001", "after_call"),
    ("crm-new-missed", "in", False, "48601700002", "after_call"),
    ("crm-known", "in", True, "+48 601-700-003", "after_call"),
    ("crm-out-new", "out", True, "601700004", "after_outgoing"),
]


def deliver_all(stack: object) -> None:
    for _ in range(3):
        for call_id, direction, answered, phone, moment in SCENARIOS:
            deliver(stack, after_call(call_id, direction, answered, phone), moment)  # type: ignore[arg-type]


def test_keycrm_scenarios_land_in_the_fake_keycrm() -> None:
    fake = keycrm.FakeKeyCrm()
    fake.start()
    known = fake.add_buyer("Znany Klient", ["+48601700003"])
    fake.throttle_next(4)  # a 429 storm at the start: absorbed by the client's retries
    try:
        parameters = {"Crm": "keycrm", "CrmBaseUrl": f"{fake.url}/v1", "FunnelId": "1", "KeycrmSourceId": "1"}
        with local_stack_process(parameters, secrets={"CRM_API_KEY": keycrm.API_KEY}) as stack:
            assert stack.admin("PUT", "/admin/employees/anna", json=EMPLOYEE).status_code == 200
            deliver_all(stack)

            def synced() -> None:
                assert "crm-new-missed" in _note(fake, _buyer_id(fake, "+48601700002"))
                assert "crm-known" in _note(fake, known)
                assert "crm-new-answered" in _note(fake, _buyer_id(fake, "+48601700001"))
                assert len(fake.cards) == 3  # the card step runs after the call line

            # one CRM request per rate-limit slot (1.1 s): the scenarios' ~30 requests take about 35 s
            eventually(synced, seconds=90)
            assert call(stack, "crm-out-new")["other_party"] == "+48601700004"
    finally:
        fake.stop()
    phones = sorted(phone for buyer in fake.buyers.values() for phone in buyer.get("phone", []))
    assert phones == ["+48601700001", "+48601700002", "+48601700003"]  # P2, P3; P5: no buyer for the outgoing call
    new_buyer = fake.buyers[_buyer_id(fake, "+48601700001")]
    assert new_buyer.get("manager_id") == 1  # P2: the answering manager
    cards_by_buyer = sorted(card["client_id"] for card in fake.cards.values())
    assert len(cards_by_buyer) == len(set(cards_by_buyer)) == 3  # F2/F5: one card per number that called in
    assert _note(fake, _buyer_id(fake, "+48601700001")).count("Ringostat call crm-new-answered;") == 1  # L1: logged once
    assert any(card.get("communicate_at") for card in fake.cards.values())  # T1: call-back reminder
    assert any(exchange.status == 429 for exchange in fake.exchanges)


def _note(fake: keycrm.FakeKeyCrm, buyer_id: int) -> str:
    return str((fake.buyers.get(buyer_id) or {}).get("note") or "")


def _buyer_id(fake: keycrm.FakeKeyCrm, phone: str) -> int:
    return next((buyer_id for buyer_id, buyer in fake.buyers.items() if phone in buyer.get("phone", [])), -1)


def test_nethunt_scenarios_land_in_the_fake_nethunt() -> None:
    fake = nethunt.FakeNetHunt()
    fake.start()
    known = fake.add_record(nethunt.CONTACTS, {"Name": "Znany Klient", "Phone": "+48601700003"})
    fake.fail_next(3)  # a short outage: retried
    try:
        parameters = {
            "Crm": "nethunt",
            "CrmBaseUrl": f"{fake.url}{nethunt.PREFIX}",
            "NethuntEmail": nethunt.EMAIL,
            "NethuntContactsFolderId": nethunt.CONTACTS,
            "NethuntDealsFolderId": nethunt.DEALS,
            "NethuntTasksFolderId": nethunt.TASKS,
        }
        with local_stack_process(parameters, secrets={"CRM_API_KEY": nethunt.API_KEY}) as stack:
            assert stack.admin("PUT", "/admin/employees/anna", json=EMPLOYEE).status_code == 200
            deliver_all(stack)

            def synced() -> None:
                assert len(fake.logs_of(known)) == 1
                contacts = fake.records_in(nethunt.CONTACTS)
                assert len(contacts) == 3
                assert all(len(fake.logs_of(record["recordId"])) == 1 for record in contacts)
                assert len(fake.records_in(nethunt.DEALS)) == 3  # the deal and task steps run after the call log
                assert len(fake.records_in(nethunt.TASKS)) == 1

            # one CRM request per rate-limit slot (1.1 s): the scenarios' ~30 requests take about 35 s
            eventually(synced, seconds=90)
    finally:
        fake.stop()
    contacts = fake.records_in(nethunt.CONTACTS)
    created = [record for record in contacts if record["recordId"] != known]
    assert all(_field(record, "Source") == "Ringostat" for record in created)  # P2, P3
    assert len(fake.records_in(nethunt.DEALS)) == 3  # F1/F2: one deal per number that called in
    assert len(fake.records_in(nethunt.TASKS)) == 1  # T1: the missed call
    assert "+48601700004" not in {_field(record, "Phone") for record in contacts}  # P5


def _field(record: dict[str, object], name: str) -> object:
    fields = record.get("fields", record)
    value = fields.get(name) if isinstance(fields, dict) else None
    return value[0] if isinstance(value, list) and value else value
