"""The CRM HTTP client: backoff with Retry-After, bounded retries, the rate limit's slots (no network, no sleeping)."""

from __future__ import annotations

import itertools
import threading
from typing import Any

import pytest
import requests

from ringbridge.crm.http import (
    CrmHttpClient,
    CrmRejected,
    CrmUnavailable,
    LocalRateBudget,
    RateLimit,
    RetryPolicy,
    budget_key,
    parse_retry_after,
)
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


def requests_per_sliding_window(times: list[float], window: float = 60.0) -> int:
    """The most requests any ``window`` seconds hold (a window ends at each request; times to the nanosecond)."""
    return max(sum(1 for t in times if end - window + 1e-9 < t <= end) for end in times)


def test_rate_limit_has_no_first_minute_burst() -> None:
    clock = FakeClock()
    limit = RateLimit("testcrm", 60, 60.0, clock=clock)  # KeyCRM: 60 per minute, no margin
    sent = []
    for _ in range(150):
        limit.acquire()
        sent.append(clock.now)
    assert sum(1 for t in sent if t < sent[0] + 60.0) == 60  # a token bucket starting full let ~120 through
    assert requests_per_sliding_window(sent) == 60
    assert [round(b - a, 6) for a, b in itertools.pairwise(sent)] == [1.0] * 149  # evenly spread


def test_rate_limit_margin_leaves_part_of_the_limit_unused() -> None:
    clock = FakeClock()
    limit = RateLimit("testcrm", 60, 60.0, margin=0.1, clock=clock)
    sent = []
    for _ in range(120):
        limit.acquire()
        sent.append(clock.now)
    assert limit.allowed == 54
    assert requests_per_sliding_window(sent) == 54


def test_rate_limit_gives_up_beyond_its_wait() -> None:
    """No free slot within the wait: CrmUnavailable at once (the message goes back to the queue), nothing slept."""
    clock = FakeClock()
    budget = LocalRateBudget()
    first = RateLimit("testcrm", 6, 60.0, budget=budget, key="k", max_wait=30.0, clock=clock)
    for _ in range(4):  # slots at 0, 10, 20, 30 s from now
        first.acquire()
    second = RateLimit("testcrm", 6, 60.0, budget=budget, key="k", max_wait=5.0, clock=clock)  # another container
    before = list(clock.slept)
    with pytest.raises(CrmUnavailable, match="no request slot"):
        second.acquire()
    assert clock.slept == before


def test_rate_limit_is_thread_safe() -> None:
    clock = FakeClock()
    limit = RateLimit("testcrm", 100, 60.0, clock=clock)
    waits: list[float] = []
    threads = [threading.Thread(target=lambda: waits.extend(limit.acquire() for _ in range(25))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(waits) == 100
    assert clock.now - 1000.0 == pytest.approx(sum(waits))  # every request had a slot of its own


def test_budget_key_is_a_hash_never_the_key() -> None:
    key = budget_key("keycrm", "secret-api-key")
    assert "secret-api-key" not in key and key.startswith("keycrm#")
    assert key == budget_key("keycrm", "secret-api-key") != budget_key("keycrm", "other-key")


def test_rate_limit_applies_to_every_attempt() -> None:
    clock = FakeClock(start=1020.0)  # on the grid of 30 s slots: the first request goes at once
    session = ScriptedSession([(200, {}, {})])
    http = CrmHttpClient(
        "testcrm",
        "https://crm.example",
        requests.auth.HTTPBasicAuth("u", "p"),
        rate_limit=RateLimit("testcrm", 2, 60.0, max_wait=30.0, clock=clock),
        clock=clock,
        session=session,
    )
    for _ in range(4):
        http.get("x")
    assert clock.now - 1020.0 == pytest.approx(90.0)  # one slot every 30 s


def test_limits_of_other_slot_lengths_count_apart() -> None:
    """A function configured with another limit or margin must not read this budget's slots as its own times."""
    clock = FakeClock(start=1020.0)
    budget = LocalRateBudget()
    sixty = RateLimit("testcrm", 60, 60.0, budget=budget, key="k", clock=clock)
    thirty = RateLimit("testcrm", 30, 60.0, budget=budget, key="k", max_wait=5.0, clock=clock)
    for _ in range(5):
        sixty.acquire()
    assert thirty.acquire() == 0.0  # its own slot 2 s long, not the sixtieth-of-a-minute count of the other


def test_a_failing_budget_is_an_unavailable_crm() -> None:
    """The shared budget's store failing (DynamoDB throttled) fails the request like an outage: the queue retries it."""

    class Broken:
        def claim(self, key: str, current: int, latest: int) -> int | None:
            raise TimeoutError("dynamodb")

    with pytest.raises(CrmUnavailable, match="budget is unavailable"):
        RateLimit("testcrm", 60, 60.0, budget=Broken(), clock=FakeClock()).acquire()
