"""Call events for automations (A1): the stack's bus, and the NotifyWebhookUrl rule as the local stack applies it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from local.bus import matches, notify_pattern
from local.stack import LocalStack
from local.template import load_template
from tests.integration.pipeline_helpers import after_call


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    @Request.application  # type: ignore[misc]
    def app(request: Request) -> Response:
        received.append({"headers": dict(request.headers), "body": json.loads(request.get_data(as_text=True))})
        return Response("ok")

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


def test_a1_notify_on_missed_sends_a_missed_call_and_not_an_answered_one(receiver: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = receiver
    with LocalStack(port=0, moto_port=0, parameters={"NotifyWebhookUrl": url, "NotifyOn": "missed"}) as stack:
        events = f"{stack.base_url}/ringostat/events?token=local-webhook-secret"
        for payload in (after_call("a1-missed", "in", answered=False), after_call("a1-answered", "in", answered=True)):
            assert requests.post(events, json=payload, timeout=10).status_code == 200
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not received:
            time.sleep(0.2)
        time.sleep(1.5)  # the answered call's turn, had it matched
    assert [r["body"]["detail"]["call_id"] for r in received] == ["a1-missed"]
    event = received[0]["body"]
    assert (event["source"], event["detail-type"]) == ("ringbridge", "ringbridge.call.after_call")
    detail = event["detail"]
    assert (detail["direction"], detail["status"], detail["other_party"]) == ("incoming", "missed", "+48123456789")
    assert detail["utm"]["source"] == "google" and detail["manager"] is None


@pytest.mark.parametrize(
    ("notify_on", "status", "direction", "moment", "sent"),
    [
        ("all", "answered", "outgoing", "after_outgoing", True),
        ("missed", "answered", "incoming", "after_call", False),
        ("missed", "missed", "incoming", "call_taken", False),
        ("incoming", "busy", "incoming", "after_call", True),
        ("outgoing", "busy", "incoming", "after_call", False),
        ("ended", "missed", "incoming", "after_call", True),
    ],
)
def test_a1_notify_on_is_a_filter_on_status_direction_and_moment(
    notify_on: str, status: str, direction: str, moment: str, sent: bool
) -> None:
    event = {
        "source": "ringbridge",
        "detail-type": f"ringbridge.call.{moment}",
        "detail": {"status": status, "direction": direction},
    }
    assert matches(notify_pattern(load_template(), notify_on), event) is sent


def test_a1_every_notify_on_value_has_a_filter() -> None:
    template = load_template()
    allowed = template.raw["Parameters"]["NotifyOn"]["AllowedValues"]
    assert sorted(allowed) == sorted(template.raw["Mappings"]["NotifyFilters"])
