"""Issue 4: the CRM-facing API (L1-L3, S1, X1-X3, P5) through the gateway, against moto."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ringbridge.domain.calls import CallStatus, Direction
from ringbridge.storage.calls import DynamoCalls
from ringbridge.web import forget_api_keys
from tests.integration.conftest import AwsStack
from tests.integration.crm_api_helpers import PHONE, Api, call, fake_ringostat, operations, seed_calls, seed_contact


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------- API keys
def test_api_key_required_on_every_crm_route(aws: AwsStack, api: Api) -> None:
    for route in aws.template.routes():
        if route.function != "CrmApiFunction":
            continue
        path = route.path.replace("{call_id}", "c1")
        response = aws.http.open(path, method=route.method, json={})
        assert response.status_code == 401, route.route_key
        assert response.json == {"message": "unauthorized"}
        wrong = aws.http.open(path, method=route.method, json={}, headers={"X-Api-Key": "rbk_wrong"})
        assert wrong.status_code == 401, route.route_key


def test_api_key_as_bearer_or_header_and_query_only_for_the_page(aws: AwsStack, api: Api) -> None:
    assert aws.http.get("/calls", headers={"Authorization": f"Bearer {api.key}"}).status_code == 200
    assert aws.http.get("/calls", headers={"X-Api-Key": api.key}).status_code == 200
    assert aws.http.get("/calls", query_string={"key": api.key}).status_code == 401
    assert aws.http.get("/", query_string={"key": api.key}).status_code == 200


def test_api_key_stored_hashed_looked_up_once_and_revocable(aws: AwsStack, api: Api) -> None:
    from ringbridge.storage.api_clients import hash_api_key

    key_id = hash_api_key(api.key)
    item = aws.dynamodb.get_item(TableName=aws.environment["API_CLIENTS_TABLE"], Key={"key_hash": {"S": key_id}})["Item"]
    assert item["name"] == {"S": "keycrm"}
    assert api.key not in str(item)
    seen = operations(aws)
    for _ in range(3):
        assert api("GET", "/calls").status_code == 200
    assert [op for op in seen if op[1] == aws.environment["API_CLIENTS_TABLE"]] == []
    forget_api_keys()
    assert api("GET", "/calls").status_code == 200
    assert [op for op in seen if op[1] == aws.environment["API_CLIENTS_TABLE"]] == [("GetItem", "ApiClientsTable")]
    assert aws.admin("DELETE", f"/admin/api-clients/{key_id}").status_code == 204
    assert aws.admin("DELETE", f"/admin/api-clients/{key_id}").status_code == 404
    assert aws.admin("DELETE", "/admin/api-clients/nothex").status_code == 400
    assert api("GET", "/calls").status_code == 401


def test_api_client_creation_needs_admin_and_a_name(aws: AwsStack) -> None:
    assert aws.http.post("/admin/api-clients", json={"name": "x"}).status_code == 401
    response = aws.admin("POST", "/admin/api-clients", json={})
    assert response.status_code == 400
    assert response.json["field"] == "name"


# ---------------------------------------------------------------- L1, L2: the call history
@pytest.fixture
def history(aws: AwsStack) -> list[str]:
    """Twelve calls over the last six days, newest first by id: c11 ... c00."""
    now = datetime.now(UTC).replace(microsecond=0)
    records = []
    for number in range(12):
        records.append(
            call(
                f"c{number:02d}",
                iso(now - timedelta(hours=12 * (12 - number))),
                phone=PHONE if number % 2 == 0 else "+48601234567",
                direction=Direction.INCOMING if number % 3 else Direction.OUTGOING,
                status=CallStatus.ANSWERED if number % 4 else CallStatus.MISSED,
                contact_id="contact-1" if number % 2 == 0 else None,
                manager="anna" if number % 4 else None,
            )
        )
    records.append(call("old", iso(now - timedelta(days=40)), phone=PHONE, contact_id="contact-1"))
    seed_calls(aws.environment["CALLS_TABLE"], records)
    return [f"c{number:02d}" for number in reversed(range(12))]


def test_l1_lists_recent_calls_newest_first_day_by_day_without_scan(aws: AwsStack, api: Api, history: list[str]) -> None:
    seen = operations(aws)
    response = api("GET", "/calls")
    assert response.status_code == 200
    assert [c["id"] for c in response.json["calls"]] == history
    assert response.json["next_cursor"] is None
    assert {op for op, _ in seen} == {"Query"}


def test_l2_call_item_carries_every_field(api: Api, history: list[str]) -> None:
    item = api("GET", "/calls", query_string={"limit": "1"}).json["calls"][0]
    assert item == {
        "id": "c11",
        "direction": "incoming",
        "other_party": "+48601234567",
        "started_at": item["started_at"],
        "duration": 60,
        "talk_time": 45,
        "status": "answered",
        "contact_id": None,
        "contact_name": None,
        "manager_employee_id": "anna",
        "manager_name": "Anna",
        "recording_url": "https://app.ringostat.com/recordings/c11.ogg?token=t",
        "utm": {"source": "google", "medium": "cpc", "campaign": "spring", "term": None, "content": None},
        "comment": None,
        "version": 1,
    }


@pytest.mark.parametrize("limit", [1, 5, 7, 100])
def test_l1_cursor_pagination_walks_everything_once(api: Api, history: list[str], limit: int) -> None:
    ids: list[str] = []
    cursor = None
    for _ in range(20):
        query = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
        page = api("GET", "/calls", query_string=query).json
        assert len(page["calls"]) <= limit
        ids += [c["id"] for c in page["calls"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert ids == history


@pytest.mark.parametrize("written", ["+48 22 123 45 67", "0 22 123 45 67", "48221234567", "0048221234567"])
def test_l1_by_phone_in_any_format_uses_the_number_index(aws: AwsStack, api: Api, history: list[str], written: str) -> None:
    seen = operations(aws)
    response = api("GET", "/calls", query_string={"phone": written})
    assert [c["id"] for c in response.json["calls"]] == [*[i for i in history if int(i[1:]) % 2 == 0], "old"]
    assert seen == [("Query", aws.environment["CALLS_TABLE"])]


def test_l1_by_contact_manager_direction_status_and_range(api: Api, history: list[str]) -> None:
    by_contact = api("GET", "/calls", query_string={"contact_id": "contact-1"}).json["calls"]
    assert [c["id"] for c in by_contact] == ["c10", "c08", "c06", "c04", "c02", "c00", "old"]
    by_manager = api("GET", "/calls", query_string={"manager": "anna", "direction": "incoming"}).json["calls"]
    assert [c["id"] for c in by_manager] == ["c11", "c10", "c07", "c05", "c02", "c01"]
    missed = api("GET", "/calls", query_string={"status": "missed"}).json["calls"]
    assert [c["id"] for c in missed] == ["c08", "c04", "c00"]
    both = api("GET", "/calls", query_string={"contact_id": "contact-1", "manager": "anna"}).json["calls"]
    assert [c["id"] for c in both] == ["c10", "c06", "c02"]
    since = (datetime.now(UTC) - timedelta(hours=30)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    recent = api("GET", "/calls", query_string={"from": since}).json["calls"]
    assert [c["id"] for c in recent] == ["c11", "c10"]
    long_ago = api("GET", "/calls", query_string={"phone": PHONE, "to": iso(datetime.now(UTC) - timedelta(days=30))})
    assert [c["id"] for c in long_ago.json["calls"]] == ["old"]


def test_l1_filtered_pages_still_fill_up(api: Api, history: list[str]) -> None:
    page = api("GET", "/calls", query_string={"status": "answered", "limit": "4"}).json
    assert [c["id"] for c in page["calls"]] == ["c11", "c10", "c09", "c07"]
    rest = api("GET", "/calls", query_string={"status": "answered", "limit": "4", "cursor": page["next_cursor"]}).json
    assert [c["id"] for c in rest["calls"]] == ["c06", "c05", "c03", "c02"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"phone": "12"}, "phone"),
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"direction": "sideways"}, "direction"),
        ({"status": "happy"}, "status"),
        ({"from": "yesterday"}, "from"),
        ({"from": "2024-05-02", "to": "2024-05-01"}, "from"),
        ({"from": "2024-01-01", "to": "2024-03-01"}, "from"),
        ({"cursor": "!!!"}, "cursor"),
        ({"cursor": "eyJrIjp7ImNhbGxfaWQiOiJ4In19"}, "cursor"),
        ({"contact_id": "a b"}, "contact_id"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_l1_bad_filters_are_400_naming_the_field(api: Api, query: dict[str, str], field: str) -> None:
    response = api("GET", "/calls", query_string=query)
    assert response.status_code == 400
    assert f"'{field}'" in response.json["message"]


def test_l1_a_cursor_of_another_listing_is_400(api: Api, history: list[str]) -> None:
    cursor = api("GET", "/calls", query_string={"phone": PHONE, "limit": "1"}).json["next_cursor"]
    response = api("GET", "/calls", query_string={"contact_id": "contact-1", "cursor": cursor})
    assert response.status_code == 400
    assert "cursor" in response.json["message"]


# ---------------------------------------------------------------- L3: comments with optimistic concurrency
def test_l3_get_call_has_etag_and_patch_sets_the_comment(aws: AwsStack, api: Api, history: list[str]) -> None:
    got = api("GET", "/calls/c05")
    assert got.status_code == 200
    assert got.headers["ETag"] == '"1"'
    patched = api("PATCH", "/calls/c05", json={"comment": "Wants a quote"}, headers={"If-Match": got.headers["ETag"]})
    assert patched.status_code == 200
    assert patched.headers["ETag"] == '"2"'
    assert patched.json["comment"] == "Wants a quote"
    stored = DynamoCalls(aws.environment["CALLS_TABLE"]).get("c05")
    assert stored is not None
    assert (stored.comment, stored.version, stored.manager_employee_id) == ("Wants a quote", 2, "anna")


def test_l3_patch_without_if_match_is_428_and_stale_is_412(aws: AwsStack, api: Api, history: list[str]) -> None:
    missing = api("PATCH", "/calls/c05", json={"comment": "x"})
    assert missing.status_code == 428
    stale = api("PATCH", "/calls/c05", json={"comment": "x"}, headers={"If-Match": '"7"'})
    assert stale.status_code == 412
    assert stale.headers["ETag"] == '"1"'
    stored = DynamoCalls(aws.environment["CALLS_TABLE"]).get("c05")
    assert stored is not None
    assert (stored.comment, stored.version) == (None, 1)


@pytest.mark.parametrize(
    ("path", "body", "headers", "status"),
    [
        ("/calls/c05", {"comment": "x" * 2001}, {"If-Match": '"1"'}, 400),
        ("/calls/c05", {"comment": "x", "colour": "red"}, {"If-Match": '"1"'}, 400),
        ("/calls/c05", {"comment": "x"}, {"If-Match": "soon"}, 400),
        ("/calls/nope", {"comment": "x"}, {"If-Match": '"1"'}, 404),
        ("/calls/a%20b", {"comment": "x"}, {"If-Match": '"1"'}, 400),
    ],
)
def test_l3_bad_comment_requests(
    api: Api, history: list[str], path: str, body: Any, headers: dict[str, str], status: int
) -> None:
    assert api("PATCH", path, json=body, headers=headers).status_code == status


def test_l2_unknown_call_is_404(api: Api) -> None:
    assert api("GET", "/calls/nope").status_code == 404


# ---------------------------------------------------------------- S1, X3: caller look-up in one read
def test_s1_caller_lookup_is_one_getitem(aws: AwsStack, api: Api) -> None:
    contact_id = seed_contact(aws)
    seen = operations(aws)
    response = api("GET", "/contacts", query_string={"phone": "0 22 123 45 67"})
    assert response.status_code == 200
    assert response.json["contact_id"] == contact_id
    assert response.json["name"] == "Biuro"
    assert set(response.json) >= {"responsible_employee_id", "manager_name", "open_card_id", "last_calls"}
    assert seen == [("GetItem", aws.environment["CONTACTS_TABLE"])]


def test_s1_unknown_number_404_and_bad_number_400(api: Api) -> None:
    assert api("GET", "/contacts", query_string={"phone": "+48 601 999 888"}).status_code == 404
    bad = api("GET", "/contacts", query_string={"phone": "abc"})
    assert bad.status_code == 400
    assert "'phone'" in bad.json["message"]
    assert api("GET", "/contacts").json == {"contacts": [], "next_cursor": None}  # without a number: the listing


def test_x3_create_contact_then_same_number_returns_it(aws: AwsStack, api: Api) -> None:
    aws.admin("PUT", "/admin/employees/anna", json={"name": "Anna", "sip_accounts": ["company_anna"]})
    first = api("POST", "/contacts", json={"phone": "0 22 123 45 67", "name": "Biuro", "responsible_employee_id": "anna"})
    assert first.status_code == 201
    assert first.json["phone"] == PHONE
    assert first.json["manager_name"] == "Anna"
    again = api("POST", "/contacts", json={"phone": "+48 22 123-45-67", "name": "Other"})
    assert again.status_code == 200
    assert again.json["contact_id"] == first.json["contact_id"]
    assert again.json["name"] == "Biuro"
    assert api("GET", "/contacts", query_string={"phone": PHONE}).json["contact_id"] == first.json["contact_id"]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"name": "X"}, 400, "phone"),
        ({"phone": "12", "name": "X"}, 400, "phone"),
        ({"phone": PHONE}, 400, "name"),
        ({"phone": PHONE, "name": "X", "responsible_employee_id": "ghost"}, 422, "responsible_employee_id"),
    ],
)
def test_x3_bad_contact_is_4xx_and_nothing_written(aws: AwsStack, api: Api, body: Any, status: int, field: str) -> None:
    response = api("POST", "/contacts", json=body)
    assert response.status_code == status
    assert field in response.json["message"]
    assert api("GET", "/contacts", query_string={"phone": PHONE}).status_code == 404


def test_x3_card_only_when_no_active_card(aws: AwsStack, api: Api) -> None:
    assert api("POST", "/cards", json={"phone": PHONE}).status_code == 422  # no contact yet
    contact_id = seed_contact(aws)
    created = api("POST", "/cards", json={"phone": "0 22 123 45 67", "title": "Quote", "call_id": "ua0-1.2"})
    assert created.status_code == 201
    assert created.json == {
        "card_id": "card-ua0-1.2",
        "contact_id": contact_id,
        "title": "Quote",
        "funnel_id": "1",  # the pipeline's funnel (FunnelId) unless the request names one
        "active": True,
    }
    again = api("POST", "/cards", json={"phone": PHONE})
    assert again.status_code == 409
    assert again.json["card"]["card_id"] == "card-ua0-1.2"
    assert api("GET", "/contacts", query_string={"phone": PHONE}).json["open_card_id"] == "card-ua0-1.2"


# ---------------------------------------------------------------- X1, X2: click-to-call
@pytest.fixture
def ringostat(aws: AwsStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from ringbridge.config import settings

    aws.admin("PUT", "/admin/employees/anna", json={"name": "Anna", "sip_accounts": ["company_anna"]})
    aws.admin("PUT", "/admin/employees/piotr", json={"name": "Piotr", "fmc_number": "+48 601 234 567"})
    with fake_ringostat() as fake:
        monkeypatch.setenv("RINGOSTAT_API_URL", fake.url)
        monkeypatch.setenv("RINGOSTAT_TIMEOUT_MS", "500")
        settings.cache_clear()
        yield fake
    settings.cache_clear()


def test_x1_click_to_call_rings_the_managers_sip_then_the_client(aws: AwsStack, api: Api, ringostat: Any) -> None:
    response = api("POST", "/calls/outgoing", json={"phone": "0 22 123 45 67", "employee_id": "anna"})
    assert response.status_code == 202
    assert response.json == {"mode": "callback", "phone": PHONE, "sip_account": "company_anna", "status": "ringing_manager"}
    (sent,) = ringostat.requests
    assert (sent["method"], sent["path"]) == ("POST", "/callback/outward_call")
    assert sent["form"] == {"extension": "company_anna", "destination": "48221234567"}
    assert sent["headers"]["Auth-Key"] == "test-ringostat_auth_key_param"
    assert sent["headers"]["X-Project-Id"] == "test-ringostat_project_id_param"
    intent = aws.dynamodb.get_item(TableName=aws.environment["DEDUP_TABLE"], Key={"id": {"S": f"click_to_call#{PHONE}"}})
    assert intent["Item"]["employee_id"]["S"] == "anna"
    assert intent["Item"]["mode"]["S"] == "callback"


@pytest.mark.parametrize(
    ("status", "body", "delay", "expected", "reason"),
    [
        (401, '{"error": "bad key"}', 0.0, 502, "HTTP 401"),
        (500, "oops", 0.0, 502, "HTTP 500"),
        (
            200,
            '{"jsonrpc": "2.0", "error": {"code": -32000, "message": "extension is not in the project"}}',
            0.0,
            502,
            "extension",
        ),
        (200, '{"status": "error", "message": "destination forbidden"}', 0.0, 502, "destination forbidden"),
        (200, "{}", 1.5, 504, "did not answer"),
    ],
)
def test_x1_ringostat_failures_are_502_or_504_never_a_hang(
    aws: AwsStack, api: Api, ringostat: Any, status: int, body: str, delay: float, expected: int, reason: str
) -> None:
    ringostat.status, ringostat.body, ringostat.delay_seconds = status, body, delay
    response = api("POST", "/calls/outgoing", json={"phone": PHONE, "employee_id": "anna"})
    assert response.status_code == expected
    assert reason in response.json["message"]
    intent = aws.dynamodb.get_item(TableName=aws.environment["DEDUP_TABLE"], Key={"id": {"S": f"click_to_call#{PHONE}"}})
    assert "Item" not in intent


def test_x1_ringostat_unreachable_is_502(api: Api, ringostat: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from local.stack import free_port
    from ringbridge.config import settings

    monkeypatch.setenv("RINGOSTAT_API_URL", f"http://127.0.0.1:{free_port()}")
    settings.cache_clear()
    response = api("POST", "/calls/outgoing", json={"phone": PHONE, "employee_id": "anna"})
    assert response.status_code == 502
    assert "unreachable" in response.json["message"]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"phone": PHONE, "employee_id": "ghost"}, 422, "employee_id"),
        ({"phone": PHONE, "employee_id": "piotr"}, 422, "SIP"),
        ({"phone": "101", "employee_id": "anna"}, 400, "phone"),
        ({"phone": PHONE}, 400, "employee_id"),
    ],
)
def test_x1_bad_requests_never_reach_ringostat(api: Api, ringostat: Any, body: Any, status: int, field: str) -> None:
    response = api("POST", "/calls/outgoing", json=body)
    assert response.status_code == status
    assert field in response.json["message"]
    assert ringostat.requests == []


def test_x2_deep_link_answers_the_softphone_uri_and_records_the_intent(
    aws: AwsStack, api: Api, ringostat: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ringbridge.config import settings

    monkeypatch.setenv("DEEP_LINK", "true")
    settings.cache_clear()
    response = api("POST", "/calls/outgoing", json={"phone": "0 22 123 45 67", "employee_id": "anna"})
    assert response.status_code == 200
    assert response.json["tel_uri"] == f"tel:{PHONE}"
    assert response.json["sip_uri"] == "sip:48221234567"
    assert ringostat.requests == []
    intent = aws.dynamodb.get_item(TableName=aws.environment["DEDUP_TABLE"], Key={"id": {"S": f"click_to_call#{PHONE}"}})
    assert intent["Item"]["mode"]["S"] == "deep_link"
    assert int(intent["Item"]["expiration"]["N"]) > datetime.now(UTC).timestamp()


def test_x1_logs_never_carry_the_full_number(api: Api, ringostat: Any, capsys: pytest.CaptureFixture[str]) -> None:
    api("POST", "/calls/outgoing", json={"phone": PHONE, "employee_id": "anna"})
    output = capsys.readouterr()
    assert "221234567" not in output.out + output.err
