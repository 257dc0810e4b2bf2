"""Seeding and HTTP helpers shared by the CRM API tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import make_server
from werkzeug.test import TestResponse
from werkzeug.wrappers import Request, Response

from ringbridge.domain.calls import CallRecord, CallStatus, Direction, Utm
from ringbridge.domain.crm import ContactDraft
from ringbridge.storage.builtin_crm import BuiltinCrm
from ringbridge.storage.calls import DynamoCalls
from ringbridge.web import forget_api_keys
from tests.integration.conftest import AwsStack

PHONE = "+48221234567"


class Api:
    def __init__(self, aws: AwsStack, key: str) -> None:
        self.aws = aws
        self.key = key

    def __call__(
        self, method: str, path: str, json: Any = None, headers: dict[str, str] | None = None, **kw: Any
    ) -> TestResponse:
        return self.aws.http.open(path, method=method, json=json, headers={"X-Api-Key": self.key, **(headers or {})}, **kw)


def new_api(aws: AwsStack) -> Api:
    """A fresh API client (through the admin route), its key already cached like a warm container's."""
    forget_api_keys()
    created = aws.admin("POST", "/admin/api-clients", json={"name": "keycrm"})
    assert created.status_code == 201
    client = Api(aws, created.json["api_key"])
    assert client("GET", "/openapi.json").status_code == 200
    return client


def operations(aws: AwsStack) -> list[tuple[str, str]]:
    """Every DynamoDB operation the handlers make from now on: (operation, table)."""
    from ringbridge.storage.aws import client

    seen: list[tuple[str, str]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        # a batch names its table(s) in RequestItems
        seen.append((model.name, params.get("TableName") or ",".join(params.get("RequestItems", {}))))

    client("dynamodb").meta.events.register("before-parameter-build.dynamodb", record)
    return seen


def seed_contact(aws: AwsStack, phone: str = PHONE, name: str = "Biuro") -> str:
    env = aws.environment
    crm = BuiltinCrm(env["CONTACTS_TABLE"], env["CARDS_TABLE"], env["TASKS_TABLE"], env["CALLS_TABLE"])
    return crm.create_contact(ContactDraft(call_id="seed", phone=phone, name=name)).crm_id


def call(
    call_id: str,
    started_at: str,
    phone: str = "+48221234567",
    direction: Direction = Direction.INCOMING,
    status: CallStatus = CallStatus.ANSWERED,
    contact_id: str | None = None,
    manager: str | None = None,
    **extra: Any,
) -> CallRecord:
    return CallRecord(
        call_id=call_id,
        direction=direction,
        other_party=phone,
        started_at=started_at,
        call_day=started_at[:10],
        duration=60,
        talk_time=45 if status is CallStatus.ANSWERED else 0,
        status=status,
        contact_id=contact_id,
        contact_name="Biuro" if contact_id else None,
        manager_employee_id=manager,
        manager_name=manager.title() if manager else None,
        recording_url=f"https://app.ringostat.com/recordings/{call_id}.ogg?token=t" if status is CallStatus.ANSWERED else None,
        utm=Utm(source="google", medium="cpc", campaign="spring"),
        **extra,
    )


def seed_calls(table: str, records: list[CallRecord], dynamodb: Any | None = None) -> None:
    calls = DynamoCalls(table, dynamodb)
    for record in records:
        assert calls._write(record, None)


@dataclass
class FakeRingostat:
    """A local stand-in for api.ringostat.net: records requests, answers as told."""

    status: int = 200
    body: str = '{"status": "ok"}'
    delay_seconds: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        self.requests.append(
            {"method": request.method, "path": request.path, "form": dict(request.form), "headers": dict(request.headers)}
        )
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        return Response(self.body, status=self.status, content_type="application/json")(environ, start_response)


@contextmanager
def fake_ringostat() -> Iterator[FakeRingostat]:
    fake = FakeRingostat()
    server = make_server("127.0.0.1", 0, fake, threaded=True)
    fake.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
