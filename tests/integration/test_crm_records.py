"""The built-in store as a CRM people work in: cards won, lost and reopened (F2, F3), tasks done (T1), listings."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import WEBHOOK_TOKEN, AwsStack
from tests.integration.crm_api_helpers import Api, operations
from tests.integration.pipeline_helpers import ANNA, CLIENT, after_call, send, set_rules

OTHER = "+48601234567"


def card_of(api: Api, phone: str = CLIENT) -> dict[str, Any]:
    cards = api("GET", "/cards", query_string={"phone": phone}).json["cards"]
    assert len(cards) == 1, cards
    return dict(cards[0])


def patch(api: Api, path: str, body: dict[str, Any], version: int | None) -> Any:
    headers = {"If-Match": f'"{version}"'} if version is not None else {}
    return api("PATCH", path, json=body, headers=headers)


def test_f2_won_card_then_one_time_mode_opens_nothing_on_later_calls(aws: AwsStack, api: Api) -> None:
    send(aws, after_call("c1", "in", True))
    aws.drain()
    card = card_of(api)
    assert (card["status"], card["active"], card["version"]) == ("open", True, 0)
    won = patch(api, f"/cards/{card['card_id']}", {"status": "won"}, card["version"])
    assert won.status_code == 200, won.json
    assert won.json["status"] == "won" and won.json["active"] is False and won.json["closed_at"]
    assert won.headers["ETag"] == '"1"'
    assert api("GET", "/contacts", query_string={"phone": CLIENT}).json["open_card_id"] is None
    send(aws, after_call("c2", "in", True, started_at="2026-11-24 10:00:00"))
    send(aws, after_call("c3", "in", False, started_at="2026-11-25 10:00:00"))
    aws.drain()
    assert len(api("GET", "/cards", query_string={"phone": CLIENT}).json["cards"]) == 1


def test_f3_lost_card_then_repeatable_mode_opens_a_new_card_on_the_next_call(
    aws: AwsStack, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_rules(monkeypatch, funnel_mode="repeatable")
    send(aws, after_call("c1", "in", True))
    aws.drain()
    first = card_of(api)
    assert patch(api, f"/cards/{first['card_id']}", {"status": "lost"}, 0).status_code == 200
    send(aws, after_call("c2", "in", True, started_at="2026-11-24 10:00:00"))
    aws.drain()
    cards = api("GET", "/cards", query_string={"phone": CLIENT}).json["cards"]
    assert [(c["card_id"], c["status"]) for c in cards] == [("card-c2", "open"), ("card-c1", "lost")]
    assert api("GET", "/contacts", query_string={"phone": CLIENT}).json["open_card_id"] == "card-c2"
    # reopening the lost card while card-c2 is active is refused, and changes nothing
    refused = patch(api, "/cards/card-c1", {"status": "open"}, 1)
    assert refused.status_code == 409
    assert api("GET", "/cards", query_string={"phone": CLIENT, "status": "lost"}).json["cards"][0]["card_id"] == "card-c1"
    assert patch(api, "/cards/card-c2", {"status": "won"}, 0).status_code == 200
    reopened = patch(api, "/cards/card-c1", {"status": "open"}, 1)
    assert reopened.status_code == 200 and reopened.json["active"] is True and reopened.json["closed_at"] is None
    assert api("GET", "/contacts", query_string={"phone": CLIENT}).json["open_card_id"] == "card-c1"
    send(aws, after_call("c3", "in", True, started_at="2026-11-25 10:00:00"))
    aws.drain()
    assert len(api("GET", "/cards", query_string={"phone": CLIENT}).json["cards"]) == 2  # c1 is active again


def test_f3_card_change_needs_if_match_and_a_mapped_manager(aws: AwsStack, api: Api) -> None:
    aws.admin("PUT", "/admin/employees/anna", json=ANNA)
    send(aws, after_call("c1", "in", True))
    aws.drain()
    path = "/cards/card-c1"
    assert patch(api, path, {"status": "won"}, None).status_code == 428
    assert patch(api, path, {"status": "won"}, 7).status_code == 412
    assert patch(api, path, {"status": "done"}, 0).status_code == 400
    assert patch(api, path, {"manager_employee_id": "ghost"}, 0).status_code == 422
    assert patch(api, "/cards/card-nope", {"status": "won"}, 0).status_code == 404
    moved = patch(api, path, {"manager_employee_id": "anna"}, 0)
    assert moved.status_code == 200 and moved.json["manager_name"] == "Anna Nowak" and moved.json["status"] == "open"
    stale = patch(api, path, {"status": "won"}, 0)
    assert stale.status_code == 412 and stale.headers["ETag"] == '"1"'
    assert card_of(api)["status"] == "open"


def test_f1_cards_listed_by_status_manager_contact_and_number_with_queries_only(aws: AwsStack, api: Api) -> None:
    aws.admin("PUT", "/admin/employees/anna", json=ANNA)
    for index, phone in enumerate((CLIENT, OTHER, "+48601234568")):
        send(aws, after_call(f"c{index}", "in", True, phone=phone, started_at=f"2026-11-2{index} 10:00:00"))
    aws.drain()
    assert patch(api, "/cards/card-c1", {"status": "won"}, 0).status_code == 200
    seen = operations(aws)
    everything = api("GET", "/cards").json
    assert [c["card_id"] for c in everything["cards"]] == ["card-c2", "card-c0", "card-c1"]  # open first, newest first
    assert [c["card_id"] for c in api("GET", "/cards", query_string={"status": "won"}).json["cards"]] == ["card-c1"]
    mine = api("GET", "/cards", query_string={"manager": "anna", "status": "open"}).json["cards"]
    assert {c["card_id"] for c in mine} == {"card-c0", "card-c2"}
    contact_id = everything["cards"][1]["contact_id"]
    assert [c["card_id"] for c in api("GET", "/cards", query_string={"contact_id": contact_id}).json["cards"]] == ["card-c0"]
    assert api("GET", "/cards", query_string={"contact_id": "nobody"}).json == {"cards": [], "next_cursor": None}
    walked, cursor = [], None
    while True:
        page = api("GET", "/cards", query_string={"limit": "1", **({"cursor": cursor} if cursor else {})}).json
        walked += [c["card_id"] for c in page["cards"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert walked == ["card-c2", "card-c0", "card-c1"]
    assert {op for op, _ in seen} <= {"Query", "GetItem"} and "Scan" not in {op for op, _ in seen}
    first = api("GET", "/cards", query_string={"limit": "1"}).json["next_cursor"]
    foreign = api("GET", "/cards", query_string={"limit": "1", "status": "won", "cursor": first})
    assert foreign.status_code == 400 and "cursor" in foreign.json["message"]
    assert api("GET", "/tasks", query_string={"cursor": first}).status_code == 400
    assert api("GET", "/cards", query_string={"status": "closed"}).status_code == 400
    assert api("GET", "/cards", query_string={"colour": "red"}).status_code == 400


def test_t1_tasks_listed_and_done_releases_the_open_task(aws: AwsStack, api: Api) -> None:
    aws.admin("PUT", "/admin/employees/anna", json=ANNA)
    aws.admin("PUT", f"/admin/contacts/{CLIENT}", json={"responsible_employee_id": "anna"})
    send(aws, after_call("m1", "in", False))
    send(aws, after_call("m2", "in", False, phone=OTHER))
    aws.drain()
    tasks = api("GET", "/tasks", query_string={"status": "open"}).json["tasks"]
    assert {t["task_id"] for t in tasks} == {"task-m1", "task-m2"}
    assert [t["task_id"] for t in api("GET", "/tasks", query_string={"manager": "anna"}).json["tasks"]] == ["task-m1"]
    assert api("GET", "/tasks", query_string={"due_before": "2020-01-01"}).json["tasks"] == []
    assert len(api("GET", "/tasks", query_string={"due_before": "2100-01-01", "status": "open"}).json["tasks"]) == 2
    task = api("GET", "/tasks", query_string={"phone": CLIENT}).json["tasks"][0]
    assert patch(api, f"/tasks/{task['task_id']}", {"status": "done"}, None).status_code == 428
    assert patch(api, f"/tasks/{task['task_id']}", {"status": "open"}, 0).status_code == 400
    done = patch(api, f"/tasks/{task['task_id']}", {"status": "done"}, task["version"])
    assert done.status_code == 200 and done.json["status"] == "done" and done.json["closed_at"]
    assert patch(api, f"/tasks/{task['task_id']}", {"status": "done"}, 0).status_code == 412
    assert [t["task_id"] for t in api("GET", "/tasks", query_string={"status": "done"}).json["tasks"]] == ["task-m1"]
    send(aws, after_call("m3", "in", False, started_at="2026-11-24 10:00:00"))
    aws.drain()
    open_now = api("GET", "/tasks", query_string={"phone": CLIENT, "status": "open"}).json["tasks"]
    assert [t["task_id"] for t in open_now] == ["task-m3"]  # the done task no longer blocks a new one


# ---------------------------------------------------------------- T1: call-backs that close themselves
CALLBACK_CASES = [
    # (the later call, closes the open call-back?)
    (after_call("o1", "out", True, talk_time="10", started_at="2026-11-23 12:00:00"), True),
    (after_call("o1", "out", True, talk_time="9", started_at="2026-11-23 12:00:00"), False),
    (after_call("o1", "out", False, started_at="2026-11-23 12:00:00"), False),
    (after_call("i1", "in", True, started_at="2026-11-23 12:00:00"), True),
    (after_call("i1", "in", False, started_at="2026-11-23 12:00:00"), False),
    (after_call("o1", "out", True, talk_time="60", started_at="2026-11-23 11:00:00"), False),  # before the missed call
]


@pytest.mark.parametrize(("later", "closes"), CALLBACK_CASES)
def test_t1_call_back_closes_the_task_only_when_answered_long_enough_and_later(
    aws: AwsStack, api: Api, later: dict[str, Any], closes: bool
) -> None:
    aws.admin("PUT", "/admin/employees/anna", json=ANNA)
    send(aws, after_call("missed", "in", False))  # 11:15:02
    aws.drain()
    send(aws, later)
    aws.drain()
    tasks = api("GET", "/tasks", query_string={"phone": CLIENT}).json["tasks"]
    first = next(t for t in tasks if t["task_id"] == "task-missed")
    if closes:
        assert (first["status"], first["closed_by_call_id"]) == ("done", later["call_id"])
        assert first["closed_at"] and first["version"] == 1
        assert api("GET", "/tasks", query_string={"phone": CLIENT, "status": "open"}).json["tasks"] == []
    else:
        assert (first["status"], first["closed_by_call_id"]) == ("open", None)


def test_t1_call_back_to_a_number_without_contact_closes_its_task(aws: AwsStack, api: Api, monkeypatch: Any) -> None:
    set_rules(monkeypatch, contacts_from_incoming_missed="false")
    aws.admin("PUT", "/admin/employees/anna", json=ANNA)
    send(aws, after_call("missed", "in", False))
    aws.drain()
    send(aws, after_call("o1", "out", True, talk_time="30", started_at="2026-11-23 12:00:00"))
    send(aws, after_call("o1", "out", True, talk_time="30", started_at="2026-11-23 12:00:00"))  # a repeat changes nothing
    aws.drain()
    (task,) = api("GET", "/tasks", query_string={"phone": CLIENT}).json["tasks"]
    assert (task["status"], task["closed_by_call_id"], task["version"]) == ("done", "o1", 1)
    send(aws, after_call("missed-2", "in", False, started_at="2026-11-24 09:00:00"))
    aws.drain()
    assert len(api("GET", "/tasks", query_string={"phone": CLIENT, "status": "open"}).json["tasks"]) == 1


# ---------------------------------------------------------------- S1, R2: contacts listed, renamed, handed over
def test_s1_contacts_listed_by_name_or_number_prefix_and_manager_with_queries_only(aws: AwsStack, api: Api) -> None:
    aws.admin("PUT", "/admin/employees/anna", json=ANNA)
    for phone, name, manager in (
        ("+48221234567", "Łukasz Kowalski", "anna"),
        ("+48221234568", "Hurtownia Kowalska", None),
        ("+48601234567", "Ärzte Berlin", None),
        ("+48601234568", "biuro", "anna"),
    ):
        body = {"name": name, **({"responsible_employee_id": manager} if manager else {})}
        assert aws.admin("PUT", f"/admin/contacts/{phone}", json=body).status_code == 200
    seen = operations(aws)

    def names(**query: str) -> list[str]:
        response = api("GET", "/contacts", query_string=query)
        assert response.status_code == 200, response.json
        return [contact["name"] for contact in response.json["contacts"]]

    assert names() == ["Ärzte Berlin", "biuro", "Hurtownia Kowalska", "Łukasz Kowalski"]
    assert names(q="arz") == ["Ärzte Berlin"]  # case and accents ignored
    assert names(q="HURT") == ["Hurtownia Kowalska"]
    assert names(q="0 22 123") == ["Hurtownia Kowalska", "Łukasz Kowalski"]  # a number prefix, any format
    assert names(q="+48601") == ["Ärzte Berlin", "biuro"]
    assert names(manager="anna") == ["biuro", "Łukasz Kowalski"]
    assert names(q="zz") == []
    first = api("GET", "/contacts", query_string={"limit": "3"}).json
    rest = api("GET", "/contacts", query_string={"limit": "3", "cursor": first["next_cursor"]}).json
    assert [c["name"] for c in first["contacts"] + rest["contacts"]] == names() and rest["next_cursor"] is None
    assert api("GET", "/contacts", query_string={"q": "b", "cursor": first["next_cursor"]}).status_code == 400
    assert {op for op, _ in seen} == {"Query"}
    assert api("GET", "/contacts", query_string={"phone": CLIENT, "q": "x"}).status_code == 400
    assert api("GET", "/contacts", query_string={"colour": "red"}).status_code == 400


def test_r2_contact_renamed_and_handed_over_routes_to_the_new_manager_at_once(aws: AwsStack, api: Api) -> None:
    aws.admin("PUT", "/admin/employees/anna", json=ANNA)
    aws.admin("PUT", "/admin/employees/piotr", json={"name": "Piotr", "sip_accounts": ["company_piotr"]})
    created = api("POST", "/contacts", json={"phone": CLIENT, "name": "Biuro", "responsible_employee_id": "anna"}).json
    path = f"/contacts/{created['contact_id']}"
    moved = api("PATCH", path, json={"responsible_employee_id": "piotr"})
    assert moved.status_code == 200, moved.json
    assert (moved.json["name"], moved.json["manager_name"]) == ("Biuro", "Piotr")
    ping = aws.http.post("/ringostat/routing", query_string={"token": WEBHOOK_TOKEN}, json={"from": CLIENT})
    assert ping.json == {"dst_phone": "company_piotr"}
    renamed = api("PATCH", path, json={"name": "Biuro Nowak"})
    assert (renamed.json["name"], renamed.json["responsible_employee_id"]) == ("Biuro Nowak", "piotr")
    assert [c["name"] for c in api("GET", "/contacts", query_string={"q": "biuro n"}).json["contacts"]] == ["Biuro Nowak"]
    assert api("PATCH", path, json={"responsible_employee_id": "ghost"}).status_code == 422
    assert api("PATCH", "/contacts/nobody", json={"name": "X"}).status_code == 404
    assert api("PATCH", path, json={"colour": "red"}).status_code == 400


# ---------------------------------------------------------------- L1, T1: statistics from the by_day index
def test_l1_t1_stats_are_one_query_per_day_and_config_names_the_time_zone(aws: AwsStack, api: Api) -> None:
    from ringbridge.domain.calls import CallStatus, Direction
    from tests.integration.crm_api_helpers import call, seed_calls

    seed_calls(
        aws.environment["CALLS_TABLE"],
        [
            call("m1", "2026-11-16T09:00:00Z", status=CallStatus.MISSED),
            call("o1", "2026-11-16T09:30:00Z", direction=Direction.OUTGOING, manager="anna"),  # 45 s of talk
            call("m2", "2026-11-18T09:00:00Z", phone=OTHER, status=CallStatus.MISSED),
        ],
    )
    seen = operations(aws)
    response = api("GET", "/stats", query_string={"from": "2026-11-16", "to": "2026-11-22"})
    assert response.status_code == 200, response.json
    stats = response.json
    assert stats["total"]["calls"] == 3 and stats["total"]["callback_median_seconds"] == 1800
    assert stats["missed_not_called_back"]["count"] == 1
    assert [m["employee_id"] for m in stats["managers"]] == ["anna"]
    assert len(stats["per_day"]) == 7
    assert seen == [("Query", aws.environment["CALLS_TABLE"])] * 7  # one per day of the range, never a Scan
    assert api("GET", "/stats", query_string={"from": "2026-01-01", "to": "2026-03-01"}).status_code == 400
    assert api("GET", "/stats", query_string={"from": "2026-11-22", "to": "2026-11-16"}).status_code == 400
    assert api("GET", "/stats", query_string={"from": "yesterday"}).status_code == 400
    assert api("GET", "/config").json == {"timezone": "Europe/Warsaw", "crm": "builtin"}


def test_s1_f3_backfill_puts_older_contacts_and_cards_in_the_listings(aws: AwsStack, api: Api) -> None:
    from ringbridge import cli

    env = aws.environment
    aws.dynamodb.put_item(
        TableName=env["CONTACTS_TABLE"],
        Item={"phone": {"S": CLIENT}, "contact_id": {"S": "old"}, "name": {"S": "Stary Klient"}},
    )
    for card_id, active in (("card-old-open", True), ("card-old-won", False)):
        aws.dynamodb.put_item(
            TableName=env["CARDS_TABLE"],
            Item={
                "card_id": {"S": card_id},
                "phone": {"S": CLIENT},
                "active": {"BOOL": active},
                "created_at": {"S": "2024-01-01T00:00:00.000Z"},
            },
        )
    assert api("GET", "/contacts").json["contacts"] == []
    assert api("GET", "/cards").json["cards"] == []
    # The operator's one-off is the one place that may Scan: the request paths' guard is lifted for it only.
    from ringbridge.storage.aws import _session, reset_clients
    from tests.integration.conftest import _refuse_scan

    _session().events.unregister("before-call.dynamodb.Scan", unique_id="ringbridge-no-scan")
    reset_clients()
    try:
        args = ["--contacts-table", env["CONTACTS_TABLE"], "--cards-table", env["CARDS_TABLE"], "backfill"]
        assert cli.main(args) == 0
        assert cli.main(args) == 0  # again: nothing left to do
    finally:
        _session().events.register("before-call.dynamodb.Scan", _refuse_scan, unique_id="ringbridge-no-scan")
        reset_clients()
    assert [c["name"] for c in api("GET", "/contacts", query_string={"q": "stary"}).json["contacts"]] == ["Stary Klient"]
    cards = {c["card_id"]: c["status"] for c in api("GET", "/cards").json["cards"]}
    assert cards == {"card-old-open": "open", "card-old-won": "won"}
