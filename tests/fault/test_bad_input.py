"""Issue 6 fault suite: hostile and broken input on every route of template.yaml.

Generated bodies (wrong types, missing fields, huge strings, invalid UTF-8, impossible
numbers, injection strings) never cause a 5xx; a refused body is a 4xx with a reason and
leaves nothing stored; and no log line ever carries a full phone number.
"""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.template import HttpRoute, load_template
from ringbridge.ringostat.webhook import FIELD_ALIASES
from tests.fault.hostile import QuietRingostat, concrete, credentials
from tests.integration.conftest import AwsStack
from tests.integration.pipeline_helpers import ANNA, after_call, counts

ROUTES = load_template().routes()
WRITE_ROUTES = [route for route in ROUTES if route.method in {"POST", "PUT", "PATCH"}]
INJECTIONS = [
    "' OR '1'='1",
    '"; DROP TABLE calls; --',
    "{{7*7}}",
    "${jndi:ldap://example.invalid/a}",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "\u202e\u0000",
    "+48 000",
    "+999 123456789",
    "sip:" + "a" * 300 + "@pbx",
    "9" * 40,
]
FIELD_NAMES = sorted(
    {alias for aliases in FIELD_ALIASES.values() for alias in aliases} | {"name", "phone", "sip_accounts", "comment"}
)
SETTINGS = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=40)
    | st.sampled_from(INJECTIONS)
    | st.text(min_size=3000, max_size=3000),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
objects = st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=12), values, max_size=8)
bodies = st.one_of(
    objects.map(lambda body: json.dumps(body).encode()),
    st.binary(max_size=300),  # mostly invalid UTF-8 and not JSON
    st.sampled_from(INJECTIONS).map(str.encode),
    st.lists(values, max_size=3).map(lambda body: json.dumps(body).encode()),
)


@pytest.fixture(autouse=True)
def _quiet_ringostat(monkeypatch: pytest.MonkeyPatch) -> None:
    from ringbridge import wiring

    monkeypatch.setattr(wiring, "ringostat", QuietRingostat)


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.route_key)
@SETTINGS
@given(
    body=bodies,
    path_value=st.sampled_from([*INJECTIONS, "x" * 400, "%00", "anna"]),
    content_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain"]),
)
def test_no_route_answers_5xx_to_hostile_input(
    aws: AwsStack, api: Any, route: HttpRoute, body: bytes, path_value: str, content_type: str
) -> None:
    headers, query = credentials(route, api.key)
    response = aws.http.open(
        concrete(route.path, path_value),
        method=route.method,
        data=body,
        headers={**headers, "Content-Type": content_type},
        query_string=query,
    )
    assert response.status_code < 500, (route.route_key, response.status_code, response.get_data()[:300])
    if 400 <= response.status_code < 500 and response.is_json:
        assert response.json.get("message"), "a refusal says why"


# Bodies that each write route must refuse: the one field it cannot do without is missing.
REQUIRED = {
    "POST /ringostat/routing": {"from"},
    "POST /ringostat/events": {"call_id", "uniqueid", "cdr_id"},
    "POST /ringostat/recordings": {"call_id", "uniqueid", "cdr_id"},
    "PUT /admin/employees/{employee_id}": {"name"},
    "POST /contacts": {"phone"},
    "POST /cards": {"phone"},
    "POST /calls/outgoing": {"phone"},
}


@pytest.mark.parametrize("route_key", sorted(REQUIRED))
@SETTINGS
@given(body=objects)
def test_refused_writes_store_nothing(aws: AwsStack, api: Any, route_key: str, body: dict[str, Any]) -> None:
    route = next(route for route in ROUTES if route.route_key == route_key)
    body = {key: value for key, value in body.items() if key not in REQUIRED[route_key]}
    headers, query = credentials(route, api.key)
    before = counts(aws), aws.queue_depth("CallQueue"), len(aws.admin("GET", "/admin/employees").json["employees"])
    response = aws.http.open(concrete(route.path, "anna"), method=route.method, json=body, headers=headers, query_string=query)
    assert 400 <= response.status_code < 500, (route_key, response.status_code, response.get_data()[:300])
    assert response.json["message"]
    after = counts(aws), aws.queue_depth("CallQueue"), len(aws.admin("GET", "/admin/employees").json["employees"])
    assert after == before


@pytest.mark.parametrize("route", WRITE_ROUTES, ids=lambda route: route.route_key)
def test_a_one_megabyte_body_is_413(aws: AwsStack, api: Any, route: HttpRoute) -> None:
    headers, query = credentials(route, api.key)
    body = json.dumps({"call_id": "c1", "pad": "x" * 1_048_576})
    response = aws.http.open(
        concrete(route.path, "anna"),
        method=route.method,
        data=body,
        headers={**headers, "Content-Type": "application/json"},
        query_string=query,
    )
    assert response.status_code == 413
    assert counts(aws)["calls"] == 0


# The numbers the day below uses, however they are written: none may reach a line (identifiers such as
# the account id in an ARN or a message id are long digit runs too, and stay whole on purpose).
DAY_NUMBERS = ("601555001", "601555002", "601555003", "602000111", "601 555 00", "602 000 111")


def test_no_log_line_carries_a_full_phone_number(aws: AwsStack) -> None:
    """What the functions' logger writes is what CloudWatch keeps: it is checked line by line."""
    from ringbridge.observability import logger

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)  # the masking formatter the functions use
    logging.getLogger(logger.name).addHandler(handler)
    try:
        _log_a_day_of_calls(aws)
    finally:
        logging.getLogger(logger.name).removeHandler(handler)
    logged = stream.getvalue()
    assert "routing decision" in logged  # the handlers did log
    from ringbridge.observability import mask_fields

    for line in logged.splitlines():
        assert not any(number in line for number in DAY_NUMBERS), line
        record = json.loads(line)
        assert mask_fields(record) == record, line  # nothing left that reads as a number, outside identifiers


def _log_a_day_of_calls(aws: AwsStack) -> None:
    aws.admin("PUT", "/admin/employees/anna", json={**ANNA, "fmc_number": "+48 602 000 111"})
    aws.admin("PUT", "/admin/contacts/+48 601 555 001", json={"responsible_employee_id": "anna"})
    aws.post_webhook("/ringostat/routing", json={"from": "+48 601 555 001", "state": "ping"})
    aws.post_webhook("/ringostat/routing", json={"from": "+48 000", "state": "ping"})
    aws.post_webhook("/ringostat/events", json=after_call("c1", "in", False, phone="+48601555002"))
    aws.post_webhook("/ringostat/events", json=after_call("c2", "in", True, phone="+48601555003", connected_with="602000111"))
    aws.drain()
