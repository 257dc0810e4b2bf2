"""One HTTP client for every CRM adapter: pooled session, timeouts, a rate limit shared by all containers, bounded retries.

A CRM write runs inside an SQS-triggered worker. When the CRM is down or keeps
throttling, the client gives up after a bounded number of attempts and a bounded total
wait and raises :class:`CrmUnavailable`: the message then goes back to the queue, is
retried later and finally lands in the DLQ. A failure is never swallowed.
"""

from __future__ import annotations

import hashlib
import math
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import requests
from requests.adapters import HTTPAdapter

from ringbridge.domain.crm import CrmRefusal
from ringbridge.domain.phones import mask_phone_numbers_in_text
from ringbridge.domain.ports import RateBudget
from ringbridge.observability import logger

_MAX_MESSAGE = 300
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
# A POST that hit these never reached the CRM's application (or was refused before it ran),
# so repeating it cannot create a duplicate. A plain 500 on a POST may have half-applied: it is
# left to the queue's retry, which runs the adapter's look-up before the create again.
_SAFE_TO_REPEAT_POST = frozenset({429, 502, 503, 504})


class CrmError(Exception):
    """Base class; the message is safe to log (no keys, phone numbers masked)."""

    def __init__(self, crm: str, message: str) -> None:
        super().__init__(f"{crm}: {message}")
        self.crm = crm


class CrmUnavailable(CrmError):
    """The CRM did not answer usefully within the retry budget: retry the whole message later."""


class CrmRejected(CrmError, CrmRefusal):
    """The CRM refused the request (4xx other than 429): retrying the same request will not help.

    408 and 409 are refusals too, but not ``permanent`` ones (:class:`CrmRefusal`): the
    pipeline retries them like an outage.
    """

    def __init__(self, crm: str, status: int, message: str) -> None:
        super().__init__(crm, f"HTTP {status}: {message}")
        self.status = status
        self.reason = message


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def budget_key(crm: str, api_key: str) -> str:
    """The name of a CRM key's shared budget: a hash of the key (the key itself is never stored)."""
    return f"{crm}#{hashlib.sha256(f'{crm}:{api_key}'.encode()).hexdigest()[:32]}"


class LocalRateBudget:
    """The slots of one container, in memory: the budget when no shared one is given (tests, tools)."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}
        self._lock = threading.Lock()

    def claim(self, key: str, current: int, latest: int) -> int | None:
        with self._lock:
            slot = max(self._next.get(key, current), current)
            if slot > latest:
                return None
            self._next[key] = slot + 1
            return slot


class RateLimit:
    """At most ``requests`` per ``per`` seconds in *any* window of ``per`` seconds, for all holders of ``budget``.

    Design (one request per time slot, not a token bucket): the window is cut into slots of
    ``per / allowed`` seconds, ``allowed`` being ``requests`` less the safety ``margin``. Every
    request claims the earliest free slot that starts now or later from the budget (a counter
    in DynamoDB that every container of the key takes from, see ``storage/rate_budget.py``;
    in memory without one) and is sent when its slot starts. Slots are distinct, so whatever
    the number of containers, any ``per`` seconds hold at most ``allowed`` slot starts: no
    burst, not even from a fresh container (a token bucket that starts full lets a whole
    window through at once and refills meanwhile: twice the limit in the first minute). The
    margin absorbs what slot timing cannot see: clocks of containers a little apart, and
    requests reaching the CRM later than they left. A request that finds no free slot within
    ``max_wait`` seconds raises :class:`CrmUnavailable` (the message goes back to the queue).
    ``now`` is the time line the slots are counted on, shared by every container: the epoch
    (an injected clock's ``monotonic`` in tests).
    """

    def __init__(
        self,
        crm: str,
        requests: int,
        per: float = 60.0,
        *,
        budget: RateBudget | None = None,
        key: str | None = None,
        margin: float = 0.0,
        max_wait: float = 20.0,
        clock: Clock | None = None,
    ) -> None:
        if requests <= 0 or per <= 0:
            raise ValueError("requests and per must be positive")
        if not 0 <= margin < 1:
            raise ValueError("margin is a fraction of the limit, from 0 up to (not including) 1")
        self.crm = crm
        self.allowed = max(1, math.floor(requests * (1 - margin) + 1e-9))
        self.slot_seconds = per / self.allowed
        self.max_wait = max_wait
        self._budget: RateBudget = budget if budget is not None else LocalRateBudget()
        # Slots of another length number other times: a function configured with another limit or
        # margin counts in a budget of its own instead of misreading this one's.
        self._key = f"{key or crm}#{self.allowed}/{per:g}s"
        self._clock = clock or SystemClock()
        self._now: Callable[[], float] = self._clock.monotonic if clock is not None else time.time

    def acquire(self) -> float:
        """Wait for this request's slot; return the seconds waited. Raise :class:`CrmUnavailable` when none is free."""
        now = self._now()
        current = math.ceil(now / self.slot_seconds - 1e-9)  # the first slot starting now or later
        latest = math.floor((now + self.max_wait) / self.slot_seconds)
        try:
            slot = self._budget.claim(self._key, current, latest)
        except Exception as error:  # the budget's store failed (DynamoDB throttled, unreachable): retry later
            raise CrmUnavailable(self.crm, f"the rate limit's budget is unavailable ({type(error).__name__})") from error
        if slot is None:
            raise CrmUnavailable(self.crm, f"no request slot free within {self.max_wait:g}s: the key's rate limit is taken")
        delay = max(0.0, slot * self.slot_seconds - now)
        if delay > 0:
            self._clock.sleep(delay)
        return delay


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 20.0
    # Keep well under the worker's timeout: a message that cannot finish is better retried by SQS.
    max_total_wait: float = 45.0


def _full_jitter(delay: float) -> float:
    # Spreads retries of concurrent workers; not security-sensitive.
    return random.uniform(delay / 2, delay)  # noqa: S311


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds (the HTTP-date form is not used by the CRMs we talk to)."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _field_reasons(errors: Any) -> str:
    """A validation answer's per-field reasons (``{"field": ["reason", ...]}``) as one line."""
    if isinstance(errors, dict):
        return "; ".join(
            f"{field}: {' '.join(map(str, reasons)) if isinstance(reasons, list) else reasons}"
            for field, reasons in errors.items()
        )
    if isinstance(errors, list):
        return "; ".join(map(str, errors))
    return str(errors) if errors else ""


def _error_message(response: requests.Response) -> str:
    """The CRM's own explanation, short and with numbers masked; never request headers.

    A validation answer (KeyCRM's 422: ``{"message": "The given data was invalid.", "errors":
    {field: [reasons]}}``) keeps its per-field reasons: they are the useful part.
    """
    try:
        body = response.json()
    except ValueError:
        body = None
    message: Any = None
    if isinstance(body, dict):
        message = body.get("message") or body.get("error")
        reasons = _field_reasons(body.get("errors"))
        if reasons:
            message = f"{message} ({reasons})" if message else reasons
    if message is None:
        message = response.text or response.reason or "no message"
    return mask_phone_numbers_in_text(str(message))[:_MAX_MESSAGE]


class CrmHttpClient:
    """JSON over HTTPS to one CRM. ``auth`` adds the credentials; they never reach a log line."""

    def __init__(
        self,
        crm: str,
        base_url: str,
        auth: requests.auth.AuthBase,
        *,
        rate_limit: RateLimit | None = None,
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
        timeout: tuple[float, float] = (3.05, 15.0),
        jitter: Callable[[float], float] = _full_jitter,
        session: requests.Session | None = None,
    ) -> None:
        self.crm = crm
        self.base_url = base_url.rstrip("/")
        self._rate_limit = rate_limit
        self._retry = retry or RetryPolicy()
        self._clock = clock or SystemClock()
        self._timeout = timeout
        self._jitter = jitter
        self._session = session or requests.Session()
        self._session.auth = auth
        self._session.headers.update({"Accept": "application/json", "User-Agent": "ringbridge"})
        # Retries are ours (they honour Retry-After and the total budget), not urllib3's.
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=10, max_retries=0)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)

    def get(self, path: str, params: Mapping[str, str | int] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, json: Any = None, params: Mapping[str, str | int] | None = None) -> Any:
        return self.request("POST", path, params=params, json=json)

    def put(self, path: str, json: Any = None) -> Any:
        return self.request("PUT", path, json=json)

    def request(self, method: str, path: str, *, params: Mapping[str, str | int] | None = None, json: Any = None) -> Any:
        url = f"{self.base_url}/{path.lstrip('/')}"
        method = method.upper()
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            if self._rate_limit is not None:
                self._rate_limit.acquire()
            try:
                response = self._session.request(method, url, params=params, json=json, timeout=self._timeout)
            except requests.ConnectionError as error:
                # A refused/failed connection never reached the CRM; a read timeout might have.
                repeatable = method in _IDEMPOTENT or isinstance(error, requests.ConnectTimeout)
                problem, retry_after = f"{type(error).__name__} on {method} {path}", None
                if not repeatable and not _is_connect_error(error):
                    raise CrmUnavailable(self.crm, problem) from error
            except requests.Timeout as error:
                if method not in _IDEMPOTENT:
                    raise CrmUnavailable(self.crm, f"timeout on {method} {path}") from error
                problem, retry_after = f"timeout on {method} {path}", None
            else:
                status = response.status_code
                if status < 400:
                    return _json_or_none(response)
                if status != 429 and status < 500:
                    raise CrmRejected(self.crm, status, _error_message(response))
                problem = f"HTTP {status} on {method} {path}"
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                if method not in _IDEMPOTENT and status not in _SAFE_TO_REPEAT_POST:
                    raise CrmUnavailable(self.crm, problem)
            delay = retry_after if retry_after is not None else self._backoff(attempt)
            if attempt >= self._retry.max_attempts or waited + delay > self._retry.max_total_wait:
                raise CrmUnavailable(self.crm, f"{problem}; gave up after {attempt} attempts and {waited:.1f}s of waiting")
            logger.warning("CRM request will be retried", crm=self.crm, problem=problem, attempt=attempt, delay=delay)
            self._clock.sleep(delay)
            waited += delay

    def _backoff(self, attempt: int) -> float:
        return self._jitter(min(self._retry.max_delay, self._retry.base_delay * 2 ** (attempt - 1)))


def _is_connect_error(error: requests.ConnectionError) -> bool:
    text = str(error)
    return "NewConnectionError" in text or "Connection refused" in text or "Name or service not known" in text


def _json_or_none(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None
