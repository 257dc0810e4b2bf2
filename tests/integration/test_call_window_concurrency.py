"""X3: the call window's writes for one number are serialised: parallel clicks make one contact, one card.

``POST /cards`` and ``POST /contacts`` run under the per-number lock (usecases/call_window.py);
these tests send twelve at once and count what is stored.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.integration.conftest import AwsStack
from tests.integration.crm_api_helpers import PHONE, Api, call, seed_calls, seed_contact

PARALLEL = 12


def _at_once(api: Api, path: str, body: dict[str, Any]) -> list[Any]:
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        return list(pool.map(lambda _: api("POST", path, json=body), range(PARALLEL)))


def test_x3_twelve_parallel_cards_for_one_number_make_exactly_one_active_card(aws: AwsStack, api: Api) -> None:
    seed_contact(aws)
    responses = _at_once(api, "/cards", {"phone": PHONE, "title": "Quote"})
    statuses = sorted(response.status_code for response in responses)
    assert statuses.count(201) == 1, statuses
    assert set(statuses) <= {201, 409}, [r.get_data()[:200] for r in responses if r.status_code not in (201, 409)]
    created = next(response for response in responses if response.status_code == 201).json["card_id"]
    # A 409 names the active card, or (lock held by a parallel click) says to retry.
    assert all(r.json.get("card", {"card_id": created})["card_id"] == created for r in responses if r.status_code == 409)
    assert all(r.json["message"] for r in responses if r.status_code == 409)
    assert len(aws.items("CardsTable")) == 1
    assert api("GET", "/contacts", query_string={"phone": PHONE}).json["open_card_id"] == created


def test_x3_twelve_parallel_contacts_for_one_new_number_make_one_contact(aws: AwsStack, api: Api) -> None:
    responses = _at_once(api, "/contacts", {"phone": PHONE, "name": "Biuro"})
    statuses = sorted(response.status_code for response in responses)
    assert statuses.count(201) == 1, statuses
    assert set(statuses) <= {200, 201, 409}, statuses
    ids = {response.json["contact_id"] for response in responses if response.status_code in (200, 201)}
    assert len(ids) == 1
    assert len(aws.items("ContactsTable")) == 1


def test_x3_a_card_for_another_numbers_call_is_422_and_nothing_is_stored(aws: AwsStack, api: Api) -> None:
    seed_contact(aws)
    seed_calls(aws.environment["CALLS_TABLE"], [call("other-1", "2026-11-20T10:00:00Z", phone="+48601555999")])
    before = api("GET", "/contacts", query_string={"phone": PHONE}).json["open_card_id"]
    response = api("POST", "/cards", json={"phone": PHONE, "call_id": "other-1"})
    assert response.status_code == 422, response.get_data()[:300]
    assert response.json["message"]
    assert aws.items("CardsTable") == []
    assert api("GET", "/contacts", query_string={"phone": PHONE}).json["open_card_id"] == before
