"""The CRM HTTP client: backoff with Retry-After, bounded retries, token bucket (no network, no sleeping)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests

from ringbridge.crm.http import CrmHttpClient, CrmRejected, CrmUnavailable, RetryPolicy, TokenBucket, parse_retry_after
from tests.fakes import FakeClock


class ScriptedSession(requests.Session):
    """Answers from a script instead of the network; records what was asked."""

    def __init__(self, script: list[tuple[int, dict[str, str], Any] | Exception]) -> None:
        super().__init__()
        self.script = list(script)
        self.calls: list[tuple[str, str]] = []

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.calls.append((str(method), str(url)))
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(step, Exception):
            raise step
        status, headers, body = step
        response = requests.Response()
        response.status_code = status
        response.headers.update(headers)
        response._content = requests.compat.json.dumps(body).encode() if body is not None else b""
        return response


def client(session: ScriptedSession, clock: FakeClock, **policy: Any) -> CrmHttpClient:
    return CrmHttpClient(
        "testcrm",
        "https://crm.example/v1",
        requests.auth.HTTPBasicAuth("user", "secret"),
        retry=RetryPolicy(**policy),
        clock=clock,
        jitter=lambda delay: delay,
        session=session,
    )


def test_backoff_honours_retry_after_then_succeeds() -> None:
    clock = FakeClock()
    session = ScriptedSession([(429, {"Retry-After": "7"}, None), (503, {"Retry-After": "2"}, None), (200, {}, {"ok": True})])
    assert client(session, clock).get("buyer") == {"ok": True}
    assert clock.slept == [7.0, 2.0]
    assert len(session.calls) == 3


def test_backoff_is_exponential_without_retry_after() -> None:
    clock = FakeClock()
    session = ScriptedSession([(502, {}, None), (502, {}, None), (502, {}, None), (200, {}, [])])
    assert client(session, clock, base_delay=0.5).get("x") == []
    assert clock.slept == [0.5, 1.0, 2.0]


def test_gives_up_after_max_attempts_with_crm_unavailable() -> None:
    clock = FakeClock()
    session = ScriptedSession([(500, {}, {"message": "boom"})])
    with pytest.raises(CrmUnavailable, match="gave up after 4 attempts"):
        client(session, clock, max_attempts=4, base_delay=1).get("x")
    assert len(session.calls) == 4
    assert clock.slept == [1, 2, 4]


def test_gives_up_when_retry_after_exceeds_total_wait_budget() -> None:
    clock = FakeClock()
    session = ScriptedSession([(429, {"Retry-After": "10"}, None)])
    with pytest.raises(CrmUnavailable):
        client(session, clock, max_attempts=10, max_total_wait=25).get("x")
    assert sum(clock.slept) <= 25
    assert len(session.calls) == 3  # waited 10 + 10, a third wait would pass the budget


def test_post_is_not_repeated_after_a_plain_500() -> None:
    """A 500 may have half-applied a create: the queue's retry re-runs the look-up first."""
    clock = FakeClock()
    session = ScriptedSession([(500, {}, None), (201, {}, {"id": 1})])
    with pytest.raises(CrmUnavailable):
        client(session, clock).post("buyer", {"full_name": "x"})
    assert len(session.calls) == 1


def test_post_is_repeated_after_429() -> None:
    clock = FakeClock()
    session = ScriptedSession([(429, {"Retry-After": "1"}, None), (201, {}, {"id": 1})])
    assert client(session, clock).post("buyer", {"full_name": "x"}) == {"id": 1}


def test_connection_errors_are_retried_then_reported() -> None:
    clock = FakeClock()
    session = ScriptedSession([requests.ConnectionError("NewConnectionError: refused")])
    with pytest.raises(CrmUnavailable, match="ConnectionError"):
        client(session, clock, max_attempts=3).get("x")
    assert len(session.calls) == 3


def test_4xx_raises_rejected_with_the_crm_message_and_masked_numbers() -> None:
    clock = FakeClock()
    session = ScriptedSession([(422, {}, {"message": "phone +48123456789 is invalid"})])
    with pytest.raises(CrmRejected) as error:
        client(session, clock).post("buyer", {})
    assert error.value.status == 422
    assert "+48123456789" not in str(error.value)
    assert "is invalid" in error.value.reason
    assert "secret" not in str(error.value)
    assert len(session.calls) == 1  # never retried


def test_parse_retry_after() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") is None
    assert parse_retry_after("-1") is None
    assert parse_retry_after(None) is None


def test_token_bucket_limits_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(60, 60.0, clock=clock)  # KeyCRM: 60 per minute
    for _ in range(60):
        assert bucket.acquire() == 0.0  # a full bucket lets a burst through
    assert bucket.acquire() == pytest.approx(1.0)  # then one per second
    assert bucket.acquire() == pytest.approx(1.0)
    start = clock.now
    for _ in range(30):
        bucket.acquire()
    assert clock.now - start == pytest.approx(30.0)


def test_token_bucket_is_thread_safe() -> None:
    clock = FakeClock()
    bucket = TokenBucket(100, 60.0, clock=clock)
    threads = [threading.Thread(target=lambda: [bucket.acquire() for _ in range(25)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert clock.now - 1000.0 == pytest.approx(0.0)  # exactly 100 tokens: nobody waited
    assert bucket.acquire() > 0


def test_rate_limit_applies_to_every_attempt() -> None:
    clock = FakeClock()
    session = ScriptedSession([(200, {}, {})])
    http = CrmHttpClient(
        "testcrm",
        "https://crm.example",
        requests.auth.HTTPBasicAuth("u", "p"),
        rate_limit=TokenBucket(2, 60.0, clock=clock),
        clock=clock,
        session=session,
    )
    for _ in range(4):
        http.get("x")
    assert clock.now - 1000.0 == pytest.approx(60.0)  # 2 free, then 30 s per request
