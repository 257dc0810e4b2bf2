"""Hostile parameters at the edge (L1, L2, L4): each repro ends as a 4xx with a reason, stores nothing, and
every listing stays readable.

Repros from a load run against the local stack: an empty parameter name poisoning a call,
deep JSON, non-finite ids, superscript digits, credentials in a recording link, control
characters in a SIP account.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.conftest import ADMIN, AwsStack
from tests.integration.pipeline_helpers import ANNA, CLIENT, after_call, counts


def _post(aws: AwsStack, body: str, content_type: str = "application/json", query: str = "") -> Any:
    from tests.integration.conftest import WEBHOOK_TOKEN

    return aws.http.post(f"/ringostat/events?token={WEBHOOK_TOKEN}{query}", data=body, headers={"Content-Type": content_type})


def _assert_refused(response: Any, status: int = 400) -> None:
    assert response.status_code == status, (response.status_code, response.get_data()[:300])
    assert response.json["message"]


@pytest.mark.parametrize(
    ("body", "content_type", "query"),
    [
        (json.dumps({**after_call("c1", "in", False), "": "x"}), "application/json", ""),
        (json.dumps(after_call("c1", "in", False)), "application/json", "&=x"),
        ("call_id=c1&event=after_call&direction=in&caller=%2B48123456789&=x", "application/x-www-form-urlencoded", ""),
        (json.dumps({**after_call("c1", "in", False), "a b": "x"}), "application/json", ""),
        (json.dumps({**after_call("c1", "in", False), "x" * 65: "x"}), "application/json", ""),
        (json.dumps({**after_call("c1", "in", False), "n\u0000": "x"}), "application/json", ""),
        (json.dumps({**after_call("c1", "in", False), "note": "x" * 3000}), "application/json", ""),
    ],
    ids=["json-empty-name", "query-empty-name", "form-empty-name", "space", "long-name", "nul-name", "long-value"],
)
def test_l1_bad_parameter_names_and_values_are_refused(aws: AwsStack, api: Any, body: str, content_type: str, query: str) -> None:
    """L1: an empty, unprintable or overlong parameter name is a 400 naming it; nothing is stored or queued."""
    _assert_refused(_post(aws, body, content_type, query))
    assert counts(aws)["calls"] == 0
    assert aws.queue_depth("CallQueue") == 0


@pytest.mark.parametrize("depth", [33, 30_000])
def test_l1_deep_json_is_refused_before_parsing(aws: AwsStack, depth: int) -> None:
    """L1: nesting is bounded by a linear pre-scan: 30 KB of '[' is a 400, not a RecursionError."""
    _assert_refused(_post(aws, "[" * depth + "]" * depth))
    _assert_refused(_post(aws, '{"call_id": "c1", "x": ' + "[" * depth + "]" * depth + "}"))
    brackets_in_strings = json.dumps({**after_call("c1", "in", False), "note": "[" * 2000})
    assert _post(aws, brackets_in_strings).status_code == 200  # brackets inside a string are not nesting


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity", "1e400", "1700000000.5"])
def test_l1_non_finite_or_fractional_call_ids_are_refused(aws: AwsStack, raw: str) -> None:
    """L1: ``call_id`` NaN / 1e400 were stored as 'nan' / 'inf'; a float id loses digits: all refused."""
    body = '{"call_id": ' + raw + ', "event": "after_call", "direction": "in", "caller": "' + CLIENT + '"}'
    _assert_refused(_post(aws, body))
    assert counts(aws)["calls"] == 0


@pytest.mark.parametrize(
    "field",
    [{"started_at": "²"}, {"caller": "601700001²"}, {"duration": "²"}, {"started_at": "9999-12-31T23:00:00-05:00"}],
)
def test_l1_non_ascii_digits_and_impossible_dates_are_400(aws: AwsStack, field: dict[str, str]) -> None:
    """L1: numbers and dates are read from ASCII digits only; a date outside the sane window is a 400."""
    _assert_refused(_post(aws, json.dumps({**after_call("c1", "in", False), **field})))
    assert counts(aws)["calls"] == 0


@pytest.mark.parametrize("query", ["limit=%C2%B2", "from=9999-12-31T23:00:00-05:00", "from=0001-01-01T00:00:00%2B05:00"])
def test_l2_listing_parameters_out_of_range_are_400(aws: AwsStack, api: Any, query: str) -> None:
    """L2: ``GET /calls`` with superscript digits or a year at the edge of datetime is a 400, not an OverflowError."""
    _assert_refused(aws.http.get(f"/calls?{query}", headers={"X-Api-Key": api.key}))


@pytest.mark.parametrize(
    "url", ["https://user:pw@rec.example.com/a.mp3", "https://@rec.example.com/a.mp3", "https://rec.example.com:x/a"]
)
def test_l4_recording_links_with_credentials_are_refused(aws: AwsStack, url: str) -> None:
    """L4: a recording link carrying ``user:pw@`` (or a broken port) is refused, not stored and shown to the CRM."""
    _assert_refused(_post(aws, json.dumps({**after_call("c1", "in", False), "recording_url": url})))
    assert counts(aws)["calls"] == 0


def test_c2_sip_account_with_control_characters_is_refused_at_the_mapping(aws: AwsStack) -> None:
    """C2/R2: a SIP account ``a\\u0000b`` would be answered to Ringostat as ``dst_phone``: the mapping refuses it."""
    response = aws.admin("PUT", "/admin/employees/anna", json={**ANNA, "sip_accounts": ["a\u0000b"]})
    _assert_refused(response)
    assert aws.admin("GET", "/admin/employees").json["employees"] == []
    webhook = _post(aws, json.dumps({**after_call("c1", "in", True), "sip_account": "a\u0000b"}))
    _assert_refused(webhook)


def test_l2_unknown_parameters_are_bounded_per_call_across_events(aws: AwsStack, api: Any) -> None:
    """L2: 40 unknown parameters per event are fine, but one call cannot collect more than the bound: 413."""
    first = {**after_call("c1", "in", False), **{f"a{n}": "v" for n in range(40)}}
    assert _post(aws, json.dumps(first)).status_code == 200
    second = {**after_call("c1", "in", False), **{f"b{n}": "v" for n in range(40)}}
    _assert_refused(_post(aws, json.dumps(second)), 413)
    big = {**after_call("c2", "in", False), **{f"a{n}": "v" * 2000 for n in range(10)}}
    _assert_refused(_post(aws, json.dumps(big)), 413)
    assert counts(aws)["calls"] == 1
    assert aws.http.get("/calls/c1", headers={"X-Api-Key": api.key}).json["id"] == "c1"


def test_l2_a_poisoned_record_already_stored_does_not_break_reads(aws: AwsStack, api: Any) -> None:
    """L2: a record stored before names were checked (extra with a bad name or a number) still reads as 200."""
    from ringbridge.storage.aws import to_item

    assert _post(aws, json.dumps(after_call("c1", "in", False))).status_code == 200
    item = aws.dynamodb.get_item(TableName=aws.environment_table("CallsTable"), Key={"call_id": {"S": "c1"}})["Item"]
    item["extra"] = to_item({"extra": {"a b": "x", "ok": 7, "fine": "y"}})["extra"]
    aws.dynamodb.put_item(TableName=aws.environment_table("CallsTable"), Item=item)
    headers = {"X-Api-Key": api.key}
    assert aws.http.get("/calls/c1", headers=headers).status_code == 200
    listing = aws.http.get("/calls", headers=headers, query_string={"phone": CLIENT})
    assert listing.status_code == 200 and [call["id"] for call in listing.json["calls"]] == ["c1"]
    assert aws.admin("GET", "/admin/calls/c1").json["extra"] == {"ok": "7", "fine": "y"}


def test_r2_an_empty_contact_seed_keeps_name_manager_and_route(aws: AwsStack) -> None:
    """R2: ``PUT /admin/contacts/{phone}`` with ``{}`` wiped name, manager and route; absent fields now keep their value."""
    aws.admin("PUT", "/admin/employees/anna", json=ANNA)
    seeded = aws.admin("PUT", f"/admin/contacts/{CLIENT}", json={"name": "Jan", "responsible_employee_id": "anna"})
    assert seeded.status_code == 200 and seeded.json["route_to"] == "company_anna"
    kept = aws.admin("PUT", f"/admin/contacts/{CLIENT}", json={})
    assert kept.status_code == 200
    assert (kept.json["name"], kept.json["responsible_employee_id"], kept.json["route_to"]) == ("Jan", "anna", "company_anna")
    renamed = aws.admin("PUT", f"/admin/contacts/{CLIENT}", json={"name": "Jan K"}).json
    assert (renamed["name"], renamed["route_to"]) == ("Jan K", "company_anna")
    cleared = aws.admin("PUT", f"/admin/contacts/{CLIENT}", json={"responsible_employee_id": None}).json
    assert (cleared["name"], cleared["responsible_employee_id"], cleared["route_to"]) == ("Jan K", None, None)


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_r2_a_double_encoded_phone_in_the_path_is_decoded_once(aws: AwsStack, method: str) -> None:
    """R2: ``/admin/contacts/%252B48…`` is the literal segment ``%2B48…``: refused as not a phone, never read as ``+48…``."""
    assert aws.admin("PUT", "/admin/contacts/%2B48123456789", json={"name": "Jan"}).status_code == 200  # encoded once: fine
    before = counts(aws)
    response = aws.admin(method, "/admin/contacts/%252B48123456789", json={"name": "Other"} if method == "PUT" else None)
    _assert_refused(response)
    assert counts(aws) == before
    assert aws.admin("GET", "/admin/contacts/%2B48123456789").json["name"] == "Jan"
    assert aws.admin("GET", "/admin/contacts/%252B48123456789/cards").status_code == 400


def test_the_event_keeps_the_raw_path_and_decodes_parameters_once(aws: AwsStack) -> None:
    """As API Gateway's HTTP API: ``rawPath`` keeps the percent-encoding, ``pathParameters`` are decoded once."""
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    from local.gateway import Gateway, build_event

    gateway = Gateway(aws.functions, aws.template.routes(), access_log=False)
    request = Request(EnvironBuilder(path="/admin/contacts/%252B48%20601", method="GET").get_environ())
    route, parameters = gateway.match("GET", "/admin/contacts/%252B48%20601") or (None, {})
    assert route is not None and parameters == {"phone": "%2B48 601"}
    event = build_event(request, route, parameters, b"")
    assert event["rawPath"] == "/admin/contacts/%252B48%20601"
    assert event["pathParameters"] == {"phone": "%2B48 601"}


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("TRACE", "/admin/contacts/%2B48123456789", "GET, PUT"),
        ("DELETE", "/calls", "GET"),
        ("GET", "/ringostat/events", "POST"),
        ("TRACE", "/", "GET"),
    ],
)
def test_a_method_not_allowed_on_a_known_path_is_405_with_allow(aws: AwsStack, method: str, path: str, allowed: str) -> None:
    """The local gateway: a known path with another method is 405 naming the methods it takes; nothing is invoked."""
    response = aws.http.open(path, method=method, headers=ADMIN)
    assert response.status_code == 405
    assert response.headers["Allow"] == allowed
    assert method in response.json["message"] and allowed in response.json["message"]
    assert counts(aws)["contacts"] == 0


@pytest.mark.parametrize("method", ["GET", "TRACE", "POST"])
def test_an_unknown_path_stays_404(aws: AwsStack, method: str) -> None:
    response = aws.http.open("/no/such/route", method=method)
    assert response.status_code == 404
    assert "Allow" not in response.headers
    assert response.json["message"]
