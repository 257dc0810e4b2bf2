"""The OpenAPI document refuses what the handlers refuse (L1, L3, R1, R2, S1).

Each hostile request is validated against ``functions/crm_api/openapi.json`` with
``openapi-core`` (the document must refuse it) and sent to the handlers (they must answer 4xx
with a reason). Its well-formed twin passes the same validation, so the refusal is the value's
doing, not a missing credential or an unknown path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urlencode

import pytest
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from tests.integration.conftest import ADMIN, WEBHOOK_TOKEN, AwsStack
from tests.integration.crm_api_helpers import PHONE, Api, call, seed_calls
from tests.integration.pipeline_helpers import counts
from tests.integration.test_openapi import document

ZEROS = "0" * 64
API = "api"  # the test's API key, filled in per test


@dataclass(frozen=True)
class Sent:
    method: str
    path: str
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)

    def with_key(self, key: str) -> Sent:
        headers = {name: (key if value == API else value) for name, value in self.headers.items()}
        return Sent(self.method, self.path, self.body, headers, self.query)

    def environ(self) -> EnvironBuilder:
        data = None if self.body is None else json.dumps(self.body)
        headers = {**self.headers, **({"Content-Type": "application/json"} if data is not None else {})}
        return EnvironBuilder(path=self.path, method=self.method, data=data, headers=headers, query_string=urlencode(self.query))


WEBHOOK = {"token": WEBHOOK_TOKEN}
KEY = {"X-Api-Key": API}
EVENT = {"call_id": "c1", "event": "after_call", "direction": "in", "caller": PHONE, "status": "NO ANSWER"}
# (what is refused, the hostile request, its well-formed twin)
CASES = [
    (
        "a phone of 64 zeros in the admin path (R2)",
        Sent("GET", f"/admin/contacts/{ZEROS}", headers=ADMIN),
        Sent("GET", f"/admin/contacts/{PHONE}", headers=ADMIN),
    ),
    (
        "a phone of 64 zeros seeded (R2)",
        Sent("PUT", f"/admin/contacts/{ZEROS}", {"name": "Jan"}, ADMIN),
        Sent("PUT", f"/admin/contacts/{PHONE}", {"name": "Jan"}, ADMIN),
    ),
    (
        "a phone of 64 zeros looked up (S1)",
        Sent("GET", "/contacts", headers=KEY, query={"phone": ZEROS}),
        Sent("GET", "/contacts", headers=KEY, query={"phone": PHONE}),
    ),
    (
        "a phone of 64 zeros in the history filter (L2)",
        Sent("GET", "/calls", headers=KEY, query={"phone": ZEROS}),
        Sent("GET", "/calls", headers=KEY, query={"phone": PHONE}),
    ),
    (
        "a contact of 64 zeros created (X3)",
        Sent("POST", "/contacts", {"phone": ZEROS, "name": "Jan"}, KEY),
        Sent("POST", "/contacts", {"phone": PHONE, "name": "Jan"}, KEY),
    ),
    (
        "an empty object to the call-events webhook (L1)",
        Sent("POST", "/ringostat/events", {}, query=WEBHOOK),
        Sent("POST", "/ringostat/events", EVENT, query=WEBHOOK),
    ),
    (
        "an empty parameter name to the call-events webhook (L1)",
        Sent("POST", "/ringostat/events", {**EVENT, "": "x"}, query=WEBHOOK),
        Sent("POST", "/ringostat/events", {**EVENT, "x": "x"}, query=WEBHOOK),
    ),
    (
        "an empty object to the routing webhook (R1)",
        Sent("POST", "/ringostat/routing", {}, query=WEBHOOK),
        Sent("POST", "/ringostat/routing", {"from": PHONE}, query=WEBHOOK),
    ),
    (
        'If-Match: W/"" on a call (L3)',
        Sent("PATCH", "/calls/c1", {"comment": "hi"}, {**KEY, "If-Match": 'W/""'}),
        Sent("PATCH", "/calls/c1", {"comment": "hi"}, {**KEY, "If-Match": 'W/"1"'}),
    ),
    (
        'If-Match: W/"" on a card (F2)',
        Sent("PATCH", "/cards/card-c1", {"status": "won"}, {**KEY, "If-Match": 'W/""'}),
        Sent("PATCH", "/cards/card-c1", {"status": "won"}, {**KEY, "If-Match": '"0"'}),
    ),
    (
        'If-Match: W/"" on a task (T1)',
        Sent("PATCH", "/tasks/task-c1", {"status": "done"}, {**KEY, "If-Match": 'W/""'}),
        Sent("PATCH", "/tasks/task-c1", {"status": "done"}, {**KEY, "If-Match": "*"}),
    ),
]


@cache
def _openapi() -> OpenAPI:
    return OpenAPI.from_dict(document())


def document_errors(sent: Sent) -> list[str]:
    request = Request(sent.environ().get_environ())
    result = _openapi().unmarshal_request(WerkzeugOpenAPIRequest(request))
    return [f"{error}: {error.__cause__}" for error in result.errors]


@pytest.mark.parametrize(("what", "hostile", "twin"), CASES, ids=[case[0] for case in CASES])
def test_the_document_refuses_what_the_handler_refuses(aws: AwsStack, api: Api, what: str, hostile: Sent, twin: Sent) -> None:
    seed_calls(aws.environment["CALLS_TABLE"], [call("c1", "2024-05-01T10:00:00Z")])
    hostile, twin = hostile.with_key(api.key), twin.with_key(api.key)
    assert document_errors(twin) == [], f"the document refuses the well-formed twin of {what}"
    assert document_errors(hostile), f"the document allows {what}"
    before = counts(aws), aws.queue_depth("CallQueue")
    response = aws.http.open(
        hostile.path,
        method=hostile.method,
        data=None if hostile.body is None else json.dumps(hostile.body),
        headers={**hostile.headers, "Content-Type": "application/json"},
        query_string=hostile.query,
    )
    assert 400 <= response.status_code < 500, (what, response.status_code, response.get_data()[:300])
    assert response.json["message"]
    assert (counts(aws), aws.queue_depth("CallQueue")) == before  # refused: nothing stored, nothing queued
