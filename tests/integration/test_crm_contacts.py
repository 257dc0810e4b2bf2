"""R2 with KeyCRM and NetHunt: routing follows the CRM's responsible manager (the CRM is the source of truth).

The real handlers against moto, with the CRM fakes: the full import and the scheduled pull
(``CrmContactsFunction``) and the worker's sync fill the contacts item the routing ping reads.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes import FakeCrmServer
from tests.fakes import keycrm as keycrm_fake
from tests.fakes import nethunt as nethunt_fake
from tests.integration.conftest import KEYCRM_STACK, NETHUNT_STACK, WEBHOOK_TOKEN, AwsStack

PHONE = "+48123456789"
SCHEDULE = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}


def employees(aws: AwsStack, anna: str, piotr: str) -> None:
    people = (("anna", "Anna Nowak", anna, "company_anna"), ("piotr", "Piotr K", piotr, "company_piotr"))
    for employee_id, name, manager, sip in people:
        mapping = {"name": name, "crm_manager_id": manager, "sip_accounts": [sip]}
        assert aws.admin("PUT", f"/admin/employees/{employee_id}", json=mapping).status_code == 200


def ping(aws: AwsStack, caller: str = "0 12 345 67 89") -> Any:
    return aws.post_webhook("/ringostat/routing", json={"from": caller, "direction": "in", "state": "ping"}).json


def pull(aws: AwsStack, full: bool = False) -> dict[str, Any]:
    response = aws.admin("POST", "/admin/crm/sync-contacts", json={"full": True} if full else {})
    assert response.status_code == 200, response.json
    answer: dict[str, Any] = response.json
    assert answer["done"] is True
    return answer


def requests_to(fake: FakeCrmServer) -> int:
    return len(fake.exchanges)


@pytest.mark.template_parameters(**KEYCRM_STACK)
def test_r2_keycrm_existing_buyer_is_routed_to_its_manager_and_follows_a_reassignment(
    aws: AwsStack, keycrm: keycrm_fake.FakeKeyCrm
) -> None:
    employees(aws, anna="1", piotr="2")
    buyer = keycrm.add_buyer("Hurtownia Kowalski", ["+48 123 456 789"], manager_id=1)
    keycrm.add_buyer("No number", [])
    assert ping(aws) != {"dst_phone": "company_anna"}  # before the import ringbridge does not know the buyer

    answer = pull(aws, full=True)
    assert answer["read"] == 2 and answer["changed"] == 1 and answer["full"] is True
    assert ping(aws) == {"dst_phone": "company_anna"}
    contact = aws.admin("GET", f"/admin/contacts/{PHONE}").json
    assert contact["manager_name"] == "Anna Nowak" and contact["crm_contact_id"] == str(buyer)
    # S1: an imported contact is in the contacts' name index like any other (the full push to Ringostat reads it)
    from ringbridge import wiring

    listed, _ = wiring.contacts().page()
    assert [c.phone for c in listed] == [PHONE]

    keycrm.set_manager(buyer, 2)  # reassigned in KeyCRM
    before = requests_to(keycrm)
    result = aws.functions["CrmContactsFunction"].invoke(SCHEDULE)  # the scheduled pull
    assert result["changed"] == 1 and result["full"] is False
    assert requests_to(keycrm) - before == 1  # one page of changed buyers
    [listed] = keycrm.requests_matching("GET", "/buyer")[-1:]
    assert "updated_between" in listed.query_string and "include=manager" in listed.query_string
    assert ping(aws) == {"dst_phone": "company_piotr"}

    assert pull(aws)["changed"] == 0  # nothing changed since: nothing rewritten


@pytest.mark.template_parameters(**KEYCRM_STACK)
def test_r2_keycrm_a_sync_writes_the_route_of_the_buyer_it_finds(aws: AwsStack, keycrm: keycrm_fake.FakeKeyCrm) -> None:
    employees(aws, anna="1", piotr="2")
    keycrm.add_buyer("Hurtownia Kowalski", [PHONE], manager_id=2)
    response = aws.http.post(
        "/ringostat/events",
        query_string={"token": WEBHOOK_TOKEN, "event": "after_call"},
        data={"call_id": "r2-sync", "direction": "in", "caller": "123456789", "status": "ANSWERED", "talk_time": "5"},
    )
    assert response.status_code == 200
    aws.drain()
    assert ping(aws) == {"dst_phone": "company_piotr"}


@pytest.mark.template_parameters(**NETHUNT_STACK)
def test_r2_nethunt_existing_contact_is_routed_to_its_manager_and_follows_a_reassignment(
    aws: AwsStack, nethunt: nethunt_fake.FakeNetHunt
) -> None:
    employees(aws, anna=nethunt_fake.ANNA_EMAIL, piotr=nethunt_fake.PIOTR_EMAIL)
    record = nethunt.add_record(
        nethunt_fake.CONTACTS, {"Name": "Hurtownia Kowalski", "Phone": PHONE, "Responsible": nethunt_fake.ANNA_EMAIL}
    )
    answer = pull(aws, full=True)
    assert answer["read"] == 1 and answer["changed"] == 1
    assert ping(aws) == {"dst_phone": "company_anna"}

    nethunt.change_record(record, {"Responsible": nethunt_fake.PIOTR_EMAIL})
    result = aws.functions["CrmContactsFunction"].invoke(SCHEDULE)
    assert result["changed"] == 1
    assert ping(aws) == {"dst_phone": "company_piotr"}


def test_r2_builtin_store_has_nothing_to_pull(aws: AwsStack) -> None:
    answer = pull(aws, full=True)
    assert answer == {"read": 0, "changed": 0, "pages": 0, "done": True, "truncated": False, "full": True, "crm": "builtin"}


def test_sync_contacts_refuses_a_body_it_does_not_know(aws: AwsStack) -> None:
    assert aws.admin("POST", "/admin/crm/sync-contacts", json={"full": "yes"}).status_code == 400
