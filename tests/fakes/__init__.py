"""Stateful local fakes of the CRMs' HTTP APIs, for integration and contract tests.

Each fake is a werkzeug app served from a thread on 127.0.0.1. Besides its CRM's own
behaviour, every fake can: refuse a wrong key (401), throttle (429 with ``Retry-After``)
after N requests per window and key or for the next N requests, and fail with 500 for the
next N requests or until told otherwise. Every request and response is recorded for tests.

The fakes are strict: they refuse what the real services refuse (each rule names its
public source), and where a behaviour is undocumented they take the narrow reading, so
that the adapters cannot come to rely on it unnoticed.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response


class QuietHandler(WSGIRequestHandler):
    """No access log on stderr: tests read the fake's own record of exchanges."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class FakeClock:
    """A clock that only moves when someone sleeps: the client under test and the fake share it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.now += seconds

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


class VirtualClock:
    """Simulated time for several threads at once (a discrete-event clock), shared by clients and fakes.

    Time stands still while any taking part is running, and when all of them sleep it jumps to
    the earliest wake-up: threads that wait minutes for a rate limit finish in moments, and
    what happens between two sleeps (HTTP, DynamoDB) takes no simulated time at all. The
    threads that take part are announced first (``take_part``), each leaves when done.
    """

    # Not today's epoch (1.8e9 s, whose float steps are 0.24 us): at 1e6 s a step is 0.1 ns, so a
    # minute measured between two slots is 60 s to the nanosecond, as the fake's window counts it.
    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start
        self.start = start
        self._changed = threading.Condition()
        self._running = 0
        self._wakeups: list[float] = []

    def monotonic(self) -> float:
        with self._changed:
            return self.now

    def take_part(self, threads: int) -> None:
        with self._changed:
            self._running += threads

    def leave(self) -> None:
        with self._changed:
            self._running -= 1
            self._advance()

    def sleep(self, seconds: float) -> None:
        with self._changed:
            wake = self.now + seconds
            if wake <= self.now:  # no wait, or one below the float resolution of ``now``
                return
            heapq.heappush(self._wakeups, wake)
            self._running -= 1
            self._advance()
            while self.now < wake:
                self._changed.wait()

    def _advance(self) -> None:
        if self._running or not self._wakeups:
            return
        self.now = max(self.now, self._wakeups[0])
        while self._wakeups and self._wakeups[0] <= self.now:
            heapq.heappop(self._wakeups)
            self._running += 1  # counted here, before it wakes: time cannot move on without it
        self._changed.notify_all()


@dataclass
class Exchange:
    """One request the fake received and what it answered."""

    method: str
    path: str
    query_string: str
    headers: dict[str, str]
    body: bytes
    status: int
    response_body: bytes
    response_headers: dict[str, str] = field(default_factory=dict)
    at: float = 0.0  # when it arrived, on the fake's clock

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def response_json(self) -> Any:
        return json.loads(self.response_body) if self.response_body else None


class ApiError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, headers=headers, content_type="application/json")


class FakeCrmServer:
    """The transport part every CRM fake shares; subclasses implement ``authorized`` and ``route``."""

    name = "crm"

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self.exchanges: list[Exchange] = []
        self.lock = threading.RLock()
        self.rate_limit: tuple[int, float] | None = None  # (requests, window seconds), per API key
        self.retry_after: int | None = None  # None: the seconds left in the key's window
        self._windows: dict[str, deque[float]] = {}  # key -> times of its accepted requests in the window
        self._throttle_next = 0
        self._fail_next = 0
        self.failing = False
        self.fail_status = 500
        self.delay_seconds = 0.0  # a slow CRM: every answer waits this long
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # Switches for tests

    def limit(self, requests: int | None, window: float = 60.0, retry_after: int | None = None) -> None:
        """At most ``requests`` in any ``window`` seconds per API key, whichever client sends them (``None``: no limit).

        Strict: the window slides (a request is refused when the key's accepted requests of the
        last ``window`` seconds already number ``requests``). "60 requests a minute" read as any
        minute is the narrowest reading: a fixed window (Laravel's throttle, which KeyCRM's
        answers point to) refuses less, so what passes here passes there. A refused request does
        not count (Laravel's throttle refuses before it counts the hit). ``Retry-After`` is the
        seconds until the oldest counted request leaves the window, unless ``retry_after`` is given.
        """
        self.rate_limit = (requests, window) if requests is not None else None
        self.retry_after = retry_after
        self._windows.clear()

    def throttle_next(self, count: int, retry_after: int = 1) -> None:
        self._throttle_next, self.retry_after = count, retry_after

    def fail_next(self, count: int, status: int = 500) -> None:
        self._fail_next, self.fail_status = count, status

    def busiest_window(self, window: float = 60.0) -> int:
        """The most requests that reached the fake within any ``window`` seconds for any one key, refused ones included."""
        times: dict[str, list[float]] = {}
        for exchange in self.exchanges:
            times.setdefault(exchange.headers.get("Authorization", ""), []).append(exchange.at)
        return max(
            (
                sum(1 for t in moments if end - window + 1e-9 < t <= end)  # to the nanosecond, as the limit counts
                for moments in times.values()
                for end in moments
            ),
            default=0,
        )

    def requests_matching(self, method: str | None = None, path_part: str = "") -> list[Exchange]:
        return [e for e in self.exchanges if (method is None or e.method == method) and path_part in e.path]

    # Transport

    def authorized(self, request: Request) -> bool:
        raise NotImplementedError

    def route(self, request: Request) -> Response:
        raise NotImplementedError

    def unauthorized_body(self) -> dict[str, Any]:
        return {"message": "Unauthenticated."}

    def throttled_body(self) -> dict[str, Any]:
        return {"message": "Too Many Attempts."}

    def _throttled(self, key: str) -> int | None:
        """Seconds to wait when this request is over the limit, else ``None``."""
        if self._throttle_next > 0:
            self._throttle_next -= 1
            return self.retry_after if self.retry_after is not None else 1
        if self.rate_limit is None:
            return None
        requests, window = self.rate_limit
        now = self._monotonic()
        accepted = self._windows.setdefault(key, deque())
        while accepted and now - accepted[0] >= window - 1e-9:  # to the nanosecond: float sums of a fake clock
            accepted.popleft()
        if len(accepted) < requests:
            accepted.append(now)
            return None
        return self.retry_after if self.retry_after is not None else max(1, math.ceil(accepted[0] + window - now))

    def _answer(self, request: Request) -> Response:
        with self.lock:
            if not self.authorized(request):
                return json_response(self.unauthorized_body(), 401)
            wait = self._throttled(request.headers.get("Authorization", ""))
            if wait is not None:
                headers = {"Retry-After": str(wait)}
                if self.rate_limit is not None:
                    headers |= {"X-RateLimit-Limit": str(self.rate_limit[0]), "X-RateLimit-Remaining": "0"}
                return json_response(self.throttled_body(), 429, headers)
            if self.failing or self._fail_next > 0:
                self._fail_next = max(0, self._fail_next - 1)
                return json_response({"message": "Server Error"}, self.fail_status)
            try:
                return self.route(request)
            except ApiError as error:
                return json_response(error.body, error.status)
            except HTTPException as error:
                return json_response({"message": error.description or error.name}, error.code or 500)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        body = request.get_data(cache=True)
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        response = self._answer(request)
        with self.lock:
            self.exchanges.append(
                Exchange(
                    method=request.method,
                    path=request.path,
                    query_string=request.query_string.decode("latin-1"),
                    headers=dict(request.headers),
                    body=body,
                    status=response.status_code,
                    response_body=response.get_data(),
                    response_headers=dict(response.headers),
                    at=self._monotonic(),
                )
            )
        return response(environ, start_response)

    def start(self) -> str:
        self._server = make_server("127.0.0.1", 0, self, threaded=True, request_handler=QuietHandler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name=f"fake-{self.name}", daemon=True
        )
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeCrmServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def utc_stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def serve_forever(fake: FakeCrmServer, port: int, describe: Callable[[str], str]) -> None:
    """``python -m tests.fakes.<crm> --port N``: serve until Ctrl-C."""
    server = make_server("127.0.0.1", port, fake, threaded=True)
    fake.url = f"http://127.0.0.1:{server.server_port}"
    print(describe(fake.url), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def port_argument(description: str) -> int:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    return int(parser.parse_args().port)
