"""Inject AWS failures into ringbridge's own boto3 clients (not into the tests' reads)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import ClientError, ReadTimeoutError


def throttled(operation: str) -> ClientError:
    return ClientError(
        {
            "Error": {
                "Code": "ProvisionedThroughputExceededException",
                "Message": "Rate of requests exceeds the allowed throughput.",
            }
        },
        operation,
    )


def timed_out(operation: str) -> ReadTimeoutError:
    return ReadTimeoutError(endpoint_url=f"https://aws/{operation}")


@contextmanager
def failing(event: str, error: Callable[[str], Exception], times: int | None = None) -> Iterator[list[str]]:
    """Make ``before-call.<service>.<Operation>`` raise ``error`` (``times`` times, or always)."""
    from local.runtime import reset_function_state
    from ringbridge.storage.aws import _session

    raised: list[str] = []

    def fail(model: Any, **_: Any) -> None:
        if times is None or len(raised) < times:
            raised.append(model.name)
            raise error(model.name)

    session = _session()
    session.events.register(event, fail, unique_id=f"fault-{event}")
    reset_function_state()  # clients copy the session's hooks when they are created: make new ones
    try:
        yield raised
    finally:
        session.events.unregister(event, unique_id=f"fault-{event}")
        reset_function_state()


@contextmanager
def black_hole() -> Iterator[str]:
    """A TCP endpoint that accepts connections and never answers: the slowest DynamoDB there is."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
                held.append(connection)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=1)
        for connection in held:
            connection.close()
        listener.close()
