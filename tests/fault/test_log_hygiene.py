"""What leaves the process in logs and error reports: no full phone number, no key of an earlier request.

- An uncaught exception is logged through the masking formatter and reaches the Lambda runtime
  (which prints ``errorMessage`` and the stack trace itself) masked, without its cause.
- ``api_client`` is a request-scoped key: a later invocation in the same process does not carry it.
- The local gateway's access log names the route's template, or a masked path, never a number.
"""

from __future__ import annotations

import io
import json
import logging
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from werkzeug.test import Client

from local.gateway import Gateway
from tests.integration.conftest import ADMIN, WEBHOOK_TOKEN, AwsStack
from tests.integration.pipeline_helpers import ANNA, after_call

NUMBER = "+48 601 500 001"
DIGITS = ("601500001", "601 500 001", "48601500001")


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Every line ringbridge's logger writes while the test runs, as CloudWatch would keep it."""
    from ringbridge.observability import logger

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        logger.removeHandler(handler)


class _Context:
    """What ``inject_lambda_context`` reads of the runtime's context object."""

    function_name = "TestFunction"
    function_version = "$LATEST"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:TestFunction"
    aws_request_id = "req-1"


def test_an_uncaught_exception_reaches_the_runtime_without_a_full_number(log_lines: Any) -> None:
    """B (log masking): the runtime's own report of an uncaught error bypasses our formatter, so what we re-raise is masked."""
    from ringbridge.observability import UnhandledError, lambda_entry

    @lambda_entry
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise ValueError(f"no contact for {NUMBER} ({DIGITS[2]})")

    with pytest.raises(UnhandledError) as raised:
        handler({}, _Context())
    error = raised.value
    # What the runtime would print: errorType, errorMessage and the stack trace (the cause suppressed).
    report = "\n".join([type(error).__name__, str(error), *traceback.format_exception(error)])
    assert "ValueError: no contact for" in str(error)  # still says what went wrong
    assert error.__suppress_context__ and error.__cause__ is None
    assert not any(digits in report for digits in DIGITS), report
    lines = log_lines()
    assert [line["message"] for line in lines] == ["unhandled error"]
    assert "ValueError" in str(lines[0]["exception"]) and "handler" in str(lines[0]["exception"])  # the traceback is kept
    assert lines[0]["function_request_id"] == "req-1"
    assert not any(digits in json.dumps(lines) for digits in DIGITS)


def test_a_handled_answer_is_not_wrapped() -> None:
    """Only what escapes the handler is replaced: a normal answer passes through untouched."""
    from ringbridge.observability import lambda_entry

    @lambda_entry
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"statusCode": 200, "body": NUMBER}

    assert handler({}, _Context()) == {"statusCode": 200, "body": NUMBER}


def test_api_client_key_does_not_outlive_its_request(aws: AwsStack, api: Any, log_lines: Any) -> None:
    """A CRM-API request authenticated by a client key tags its lines ``api_client``; the webhook, admin and
    worker invocations after it in the same process (a warm container's logger) carry no such key."""
    from ringbridge.observability import logger

    logger.setLevel("DEBUG")
    try:
        assert api("GET", "/calls").status_code == 200
        logger.info("inside the API request's scope")  # the key is still set here, as the next check proves
        tagged = log_lines()
        assert tagged[-1].get("api_client") == "keycrm"
        mark = len(tagged)
        assert aws.admin("PUT", "/admin/employees/anna", json=ANNA).status_code == 200
        routed = aws.http.post("/ringostat/routing", query_string={"token": WEBHOOK_TOKEN}, json={"from": NUMBER})
        assert routed.status_code == 200
        accepted = aws.post_webhook("/ringostat/events", json=after_call("c1", "in", False))
        assert accepted.status_code == 200
        assert aws.drain() == 1
    finally:
        logger.setLevel("INFO")
    later = log_lines()[mark:]
    assert {"routing decision", "call event accepted"} <= {line["message"] for line in later}
    assert any(line.get("function_name") == "CrmSyncFunction" for line in later), "the worker logged"
    assert [line for line in later if "api_client" in line] == []


def test_the_local_access_log_masks_numbers(aws: AwsStack, capsys: pytest.CaptureFixture[str]) -> None:
    """The local gateway prints the route's template (``GET /admin/contacts/{phone}``); a path matching no route
    is printed masked: never the number a path carries."""
    logged = Client(Gateway(aws.functions, aws.template.routes(), access_log=True))
    assert logged.get("/admin/contacts/+48%20601%20500%20001", headers=ADMIN).status_code == 404
    assert logged.get("/admin/contacts/48601500001/cards", headers=ADMIN).status_code == 200
    assert logged.open("/admin/contacts/+48601500001", method="TRACE").status_code == 405
    assert logged.get("/no/such/+48601500001").status_code == 404
    printed = capsys.readouterr().out
    assert "GET /admin/contacts/{phone} 404" in printed
    assert "GET /admin/contacts/{phone}/cards 200" in printed
    assert "TRACE /admin/contacts/" in printed and "GET /no/such/" in printed
    assert not any(digits in printed for digits in DIGITS), printed
