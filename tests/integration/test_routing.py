"""SPEC R1-R4 and C1 through the real routing and admin handlers, against moto."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ConnectTimeoutError

from tests.conftest import load_event, ringostat_payload
from tests.integration.conftest import WEBHOOK_TOKEN, AwsStack

ANNA = {"name": "Anna Nowak", "crm_manager_id": "17", "ringostat_employee_id": "111111", "sip_accounts": ["company_anna"]}


def seed(aws: AwsStack, phone: str = "+48123456789", employee: str = "anna", mapping: dict[str, Any] | None = None) -> None:
    assert aws.admin("PUT", f"/admin/employees/{employee}", json=mapping or ANNA).status_code == 200
    assert (
        aws.admin("PUT", f"/admin/contacts/{phone}", json={"name": "Kowalski", "responsible_employee_id": employee}).status_code
        == 200
    )


def ping(aws: AwsStack, caller: str, **extra: Any) -> Any:
    return aws.post_webhook("/ringostat/routing", json={"from": caller, "direction": "in", "state": "ping", **extra})


@pytest.mark.parametrize("written", ["0 12 345 67 89", "48123456789", "+48 123-456-789", "0048123456789"])
def test_r2_known_caller_in_any_form_reaches_manager(aws: AwsStack, written: str) -> None:
    seed(aws)
    response = ping(aws, written)
    assert response.status_code == 200
    assert response.json == {"dst_phone": "company_anna"}


def test_r1_keycrm_style_wire_form(aws: AwsStack) -> None:
    """The request Ringostat sends a webhook number configured as for KeyCRM (from, direction, state: ping)."""
    body = ringostat_payload("routing-ping-keycrm.json")
    assert body["state"] == "ping"
    seed(aws, phone=body["from"])
    response = aws.post_webhook("/ringostat/routing", json=body)
    assert response.json == {"dst_phone": "company_anna"}


def test_r1_form_encoded_ping_is_accepted(aws: AwsStack) -> None:
    seed(aws)
    response = aws.post_webhook("/ringostat/routing", data={"from": "48123456789", "direction": "in", "state": "ping"})
    assert response.json == {"dst_phone": "company_anna"}


def test_r1_recorded_event_file_is_routed(aws: AwsStack) -> None:
    seed(aws)
    result = aws.functions["RoutingFunction"].invoke(load_event("routing-ping.json"))
    assert result["statusCode"] == 200
    assert json.loads(result["body"]) == {"dst_phone": "company_anna"}


def test_r3_unknown_caller_falls_through_with_empty_dst_phone(aws: AwsStack) -> None:
    response = ping(aws, "+48 601 000 001")
    assert response.status_code == 200
    assert response.json == {"dst_phone": ""}


@pytest.mark.parametrize(
    ("mode", "status", "body"), [("omit", 200, {}), ("not_found", 404, {"message": "no responsible manager"})]
)
def test_r3_no_target_answer_is_configurable(
    aws: AwsStack, monkeypatch: pytest.MonkeyPatch, mode: str, status: int, body: Any
) -> None:
    from ringbridge.config import settings

    monkeypatch.setenv("ROUTING_NO_TARGET", mode)
    settings.cache_clear()
    response = ping(aws, "+48 601 000 001")
    assert (response.status_code, response.json) == (status, body)


def test_r3_contact_without_manager_falls_through(aws: AwsStack) -> None:
    aws.admin("PUT", "/admin/contacts/+48123456789", json={"name": "Kowalski"})
    assert ping(aws, "+48123456789").json == {"dst_phone": ""}


def test_r4_fmc_only_manager_is_not_a_target(aws: AwsStack) -> None:
    seed(aws, employee="piotr", mapping={"name": "Piotr", "sip_accounts": [], "fmc_number": "+48 601 234 567"})
    assert ping(aws, "+48123456789").json == {"dst_phone": ""}


def test_r2_route_follows_the_employee_mapping(aws: AwsStack) -> None:
    seed(aws)
    aws.admin("PUT", "/admin/employees/anna", json={**ANNA, "sip_accounts": ["company_anna_new"]})
    assert ping(aws, "+48123456789").json == {"dst_phone": "company_anna_new"}
    assert aws.admin("DELETE", "/admin/employees/anna").status_code == 204
    assert ping(aws, "+48123456789").json == {"dst_phone": ""}


def test_r_hot_path_is_exactly_one_dynamodb_read(aws: AwsStack) -> None:
    seed(aws)
    from ringbridge.storage.aws import client

    calls: list[str] = []
    dynamodb = client("dynamodb", 400)
    dynamodb.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
    assert ping(aws, "+48123456789").json == {"dst_phone": "company_anna"}
    assert calls == ["GetItem"]


def test_r_slow_store_falls_through_fast(aws: AwsStack) -> None:
    seed(aws)
    from ringbridge.storage.aws import client

    def timeout(**_: Any) -> None:
        raise ConnectTimeoutError(endpoint_url="https://dynamodb")

    client("dynamodb", 400).meta.events.register("before-call.dynamodb.GetItem", timeout)
    response = ping(aws, "+48123456789")
    assert response.status_code == 200
    assert response.json == {"dst_phone": ""}


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ({}, {}),
        ({"token": "wrong"}, {}),
        ({}, {"Authorization": "Bearer wrong"}),
        ({}, {"Authorization": "Basic " + WEBHOOK_TOKEN}),
    ],
)
def test_c1_wrong_or_missing_token_is_401(aws: AwsStack, query: dict[str, str], headers: dict[str, str]) -> None:
    response = aws.http.post("/ringostat/routing", query_string=query, headers=headers, json={"from": "+48123456789"})
    assert response.status_code == 401
    assert response.json == {"message": "unauthorized"}


def test_c1_bearer_token_is_accepted(aws: AwsStack) -> None:
    response = aws.http.post(
        "/ringostat/routing", headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"}, json={"from": "+48123456789"}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        ("{not json", "application/json", "not valid JSON"),
        ('{"direction": "in"}', "application/json", "from"),
        ('{"from": "+48 000"}', "application/json", "not a valid phone number"),
        ('["+48123456789"]', "application/json", "JSON object"),
        ('{"from": "' + "9" * 100 + '"}', "application/json", "from"),
    ],
)
def test_bad_ping_is_400_with_reason(aws: AwsStack, body: str, content_type: str, reason: str) -> None:
    response = aws.http.post("/ringostat/routing", query_string={"token": WEBHOOK_TOKEN}, data=body, content_type=content_type)
    assert response.status_code == 400
    assert reason in response.json["message"]


def test_huge_body_is_413(aws: AwsStack) -> None:
    response = aws.post_webhook("/ringostat/routing", json={"from": "+48123456789", "pad": "x" * 200_000})
    assert response.status_code == 413


@pytest.mark.parametrize("function", ["routing", "call_events", "recordings"])
def test_r1_the_webhook_secret_is_read_at_init_so_the_first_ping_asks_no_secrets_store(aws: AwsStack, function: str) -> None:
    """Lambda's init phase reads the secret: with the store gone after init, the first ping still passes its check."""
    import boto3

    from ringbridge import wiring

    seed(aws)
    wiring.reset()  # a new container
    wiring.init(function)
    boto3.client("ssm").delete_parameter(Name=aws.environment["WEBHOOK_TOKEN_PARAM"])
    assert ping(aws, "+48123456789").json == {"dst_phone": "company_anna"}


def test_r1_a_secret_missing_at_init_does_not_fail_the_cold_start(aws: AwsStack) -> None:
    import boto3

    from ringbridge import wiring

    seed(aws)
    ssm, name = boto3.client("ssm"), aws.environment["WEBHOOK_TOKEN_PARAM"]
    secret = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    wiring.reset()
    ssm.delete_parameter(Name=name)
    wiring.init("routing")  # logs a warning, raises nothing
    ssm.put_parameter(Name=name, Value=secret, Type="SecureString")
    assert ping(aws, "+48123456789").json == {"dst_phone": "company_anna"}  # the first ping reads it itself
