"""The OpenAPI 3.1 document: it describes every route of template.yaml, and the handlers answer what it says."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.conftest import ROOT
from tests.integration.conftest import WEBHOOK_TOKEN, AwsStack
from tests.integration.crm_api_helpers import PHONE, Api, call, seed_calls, seed_contact

DOCUMENT_PATH = ROOT / "functions" / "crm_api" / "openapi.json"
METHODS = {"get", "put", "post", "patch", "delete"}


def document() -> dict[str, Any]:
    return dict(json.loads(DOCUMENT_PATH.read_text(encoding="utf-8")))


def response_schema(doc: dict[str, Any], method: str, path: str, status: int) -> dict[str, Any] | None:
    """The schema the document gives this answer (None for a body-less answer); fails if the status is undocumented."""
    responses = doc["paths"][path][method.lower()]["responses"]
    assert str(status) in responses, f"{method} {path} answered {status}, not in the document"
    media = responses[str(status)].get("content", {})
    if not media:
        return None
    (kind,) = media
    escaped = path.replace("~", "~0").replace("/", "~1")
    pointer = f"/paths/{escaped}/{method.lower()}/responses/{status}/content/{kind.replace('/', '~1')}/schema"
    return {"$ref": f"urn:ringbridge:openapi#{pointer}"}


def check(doc: dict[str, Any], method: str, path: str, status: int, body: Any) -> None:
    schema = response_schema(doc, method, path, status)
    if schema is None:
        return
    registry: Registry[Any] = Registry().with_resource("urn:ringbridge:openapi", Resource(doc, DRAFT202012))  # type: ignore[arg-type]
    errors = sorted(Draft202012Validator(schema, registry=registry).iter_errors(body), key=str)
    assert not errors, f"{method} {path} {status}: {errors[0].message} at {list(errors[0].absolute_path)}"


def test_document_is_valid_openapi_31() -> None:
    doc = document()
    assert doc["openapi"].startswith("3.1")
    validate(doc)  # type: ignore[arg-type]


def test_document_paths_equal_the_template_routes(aws: AwsStack) -> None:
    documented = {(method.upper(), path) for path, item in document()["paths"].items() for method in item if method in METHODS}
    declared = {(route.method, route.path) for route in aws.template.routes()}
    assert documented == declared


def test_every_operation_names_its_security(aws: AwsStack) -> None:
    doc = document()
    schemes = set(doc["components"]["securitySchemes"])
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                assert operation["security"], f"{method} {path}"
                assert {name for entry in operation["security"] for name in entry} <= schemes


def test_served_document_is_the_file(api: Api) -> None:
    response = api("GET", "/openapi.json")
    assert response.status_code == 200
    assert response.json == document()


# (method, template path, concrete path, kwargs) of real requests; answers are checked against the document.
def scenario(aws: AwsStack, api: Api) -> list[tuple[str, str, int, Any]]:
    aws.admin("PUT", "/admin/employees/anna", json={"name": "Anna", "sip_accounts": ["company_anna"]})
    seed_contact(aws)
    seed_calls(aws.environment["CALLS_TABLE"], [call("c1", "2024-05-01T10:00:00Z", contact_id="contact-1", manager="anna")])
    answers: list[tuple[str, str, int, Any]] = []

    def record(method: str, template_path: str, response: Any) -> None:
        answers.append((method, template_path, response.status_code, response.json if response.is_json else None))

    record("GET", "/calls", api("GET", "/calls", query_string={"phone": PHONE, "limit": "1"}))
    record("GET", "/calls", api("GET", "/calls"))
    record("GET", "/calls", api("GET", "/calls", query_string={"limit": "500"}))
    record("GET", "/calls", aws.http.get("/calls"))
    record("GET", "/calls/{call_id}", api("GET", "/calls/c1"))
    record("GET", "/calls/{call_id}", api("GET", "/calls/nope"))
    record("PATCH", "/calls/{call_id}", api("PATCH", "/calls/c1", json={"comment": "hi"}))
    record("PATCH", "/calls/{call_id}", api("PATCH", "/calls/c1", json={"comment": "hi"}, headers={"If-Match": '"1"'}))
    record("PATCH", "/calls/{call_id}", api("PATCH", "/calls/c1", json={"comment": None}, headers={"If-Match": '"1"'}))
    record("GET", "/contacts", api("GET", "/contacts", query_string={"phone": PHONE}))
    record("GET", "/contacts", api("GET", "/contacts", query_string={"phone": "+48 601 999 888"}))
    record("POST", "/contacts", api("POST", "/contacts", json={"phone": "+48 601 999 888", "name": "New"}))
    record("POST", "/contacts", api("POST", "/contacts", json={"phone": PHONE, "name": "Again"}))
    record("POST", "/contacts", api("POST", "/contacts", json={"phone": "x", "name": "Bad"}))
    record("POST", "/cards", api("POST", "/cards", json={"phone": PHONE}))
    record("POST", "/cards", api("POST", "/cards", json={"phone": PHONE}))
    record("POST", "/cards", api("POST", "/cards", json={"phone": "+48 601 000 111"}))
    record("POST", "/calls/outgoing", api("POST", "/calls/outgoing", json={"phone": PHONE, "employee_id": "ghost"}))
    record("POST", "/admin/api-clients", aws.admin("POST", "/admin/api-clients", json={"name": "other"}))
    record("GET", "/admin/employees", aws.admin("GET", "/admin/employees"))
    record("GET", "/admin/employees/{employee_id}", aws.admin("GET", "/admin/employees/anna"))
    record("GET", "/admin/contacts/{phone}", aws.admin("GET", f"/admin/contacts/{PHONE}"))
    record("GET", "/admin/crm/check", aws.admin("GET", "/admin/crm/check"))
    routing = aws.http.post("/ringostat/routing", query_string={"token": WEBHOOK_TOKEN}, json={"from": PHONE})
    record("POST", "/ringostat/routing", routing)
    event = {"call_id": "doc-1", "event": "after_call", "direction": "in", "caller": "+48 601 555 001", "status": "NO ANSWER"}
    record("POST", "/ringostat/events", aws.http.post("/ringostat/events", query_string={"token": WEBHOOK_TOKEN}, json=event))
    bad = {**event, "caller": "+48 000"}
    record("POST", "/ringostat/events", aws.http.post("/ringostat/events", query_string={"token": WEBHOOK_TOKEN}, json=bad))
    link = {"call_id": "doc-1", "recording_url": "https://app.ringostat.com/recordings/doc-1.ogg?token=t"}
    record(
        "POST", "/ringostat/recordings", aws.http.post("/ringostat/recordings", query_string={"token": WEBHOOK_TOKEN}, json=link)
    )
    aws.drain()
    record("GET", "/admin/calls/{call_id}", aws.admin("GET", "/admin/calls/doc-1"))
    record("GET", "/admin/calls/{call_id}", aws.admin("GET", "/admin/calls/nope"))
    record("GET", "/admin/contacts/{phone}/cards", aws.admin("GET", "/admin/contacts/+48601555001/cards"))
    record("GET", "/admin/contacts/{phone}/tasks", aws.admin("GET", "/admin/contacts/+48601555001/tasks"))
    record("GET", "/cards", api("GET", "/cards"))
    record("GET", "/stats", api("GET", "/stats", query_string={"from": "2024-05-01", "to": "2024-05-02"}))
    record("GET", "/stats", api("GET", "/stats", query_string={"from": "2024-05-01", "to": "2024-07-01"}))
    record("GET", "/config", api("GET", "/config"))
    record("GET", "/contacts", api("GET", "/contacts", query_string={"q": "bi", "limit": "1"}))
    contact_id = api("GET", "/contacts", query_string={"phone": PHONE}).json["contact_id"]
    record("PATCH", "/contacts/{contact_id}", api("PATCH", f"/contacts/{contact_id}", json={"name": "Biuro 2"}))
    record("PATCH", "/contacts/{contact_id}", api("PATCH", "/contacts/nobody", json={"name": "X"}))
    record("PATCH", "/contacts/{contact_id}", api("PATCH", f"/contacts/{contact_id}", json={"responsible_employee_id": "x"}))
    record("GET", "/cards", api("GET", "/cards", query_string={"status": "nope"}))
    card = api("GET", "/cards", query_string={"phone": "+48601555001"}).json["cards"][0]["card_id"]
    record("PATCH", "/cards/{card_id}", api("PATCH", f"/cards/{card}", json={"status": "won"}))
    record("PATCH", "/cards/{card_id}", api("PATCH", f"/cards/{card}", json={"status": "won"}, headers={"If-Match": '"0"'}))
    record("PATCH", "/cards/{card_id}", api("PATCH", f"/cards/{card}", json={"status": "lost"}, headers={"If-Match": '"0"'}))
    record("PATCH", "/cards/{card_id}", api("PATCH", "/cards/none", json={"status": "lost"}, headers={"If-Match": '"0"'}))
    record("GET", "/tasks", api("GET", "/tasks", query_string={"status": "open"}))
    task = api("GET", "/tasks", query_string={"phone": "+48601555001"}).json["tasks"][0]["task_id"]
    record("PATCH", "/tasks/{task_id}", api("PATCH", f"/tasks/{task}", json={"status": "done"}, headers={"If-Match": "*"}))
    return answers


def test_real_answers_match_the_document(aws: AwsStack, api: Api) -> None:
    doc = document()
    answers = scenario(aws, api)
    statuses = {status for _, _, status, _ in answers}
    assert {200, 201, 400, 401, 404, 409, 412, 422, 428} <= statuses
    for method, path, status, body in answers:
        check(doc, method, path, status, body)


@pytest.mark.parametrize(
    ("path", "method"), [("/calls/{call_id}", "get"), ("/cards/{card_id}", "patch"), ("/tasks/{task_id}", "patch")]
)
def test_etag_header_is_documented(path: str, method: str) -> None:
    assert "ETag" in document()["paths"][path][method]["responses"]["200"]["headers"]
