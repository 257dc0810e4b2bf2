"""End-to-end tests: real HTTP against the local stack (``python -m local``), started once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from local.stack import DEFAULT_SECRETS, free_port
from tests.conftest import ROOT

STARTUP_SECONDS = 60


@dataclass
class RunningStack:
    base_url: str
    moto_url: str
    webhook_token: str
    admin_token: str
    output: list[str]

    def admin(self, method: str, path: str, **kwargs: object) -> requests.Response:
        return requests.request(
            method, self.base_url + path, headers={"Authorization": f"Bearer {self.admin_token}"}, timeout=10, **kwargs
        )  # type: ignore[arg-type]

    def webhook(self, path: str, **kwargs: object) -> requests.Response:
        return requests.post(self.base_url + path, params={"token": self.webhook_token}, timeout=10, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def local_stack() -> Iterator[RunningStack]:
    port, moto_port = free_port(), free_port()
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "RINGBRIDGE_WEBHOOK_TOKEN": "e2e-webhook-secret",
        "RINGBRIDGE_ADMIN_TOKEN": "e2e-admin-secret",
    }
    env.pop("AWS_ENDPOINT_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "local", "--port", str(port), "--moto-port", str(moto_port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    deadline = time.monotonic() + STARTUP_SECONDS
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        output.append(line)
        if line.strip() == "READY":
            break
    else:
        process.kill()
    if not output or output[-1].strip() != "READY":
        process.kill()
        pytest.fail("local stack did not start:\n" + "".join(output))
    # Keep reading its output: a full pipe would block the stack's next log line (and so its answer).
    threading.Thread(target=lambda: output.extend(process.stdout or []), name="stack-output", daemon=True).start()
    yield RunningStack(
        f"http://127.0.0.1:{port}", f"http://127.0.0.1:{moto_port}", "e2e-webhook-secret", "e2e-admin-secret", output
    )
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    assert DEFAULT_SECRETS  # the defaults exist for `make run`; e2e uses its own secrets
