"""End-to-end tests: real HTTP against the local stack (``python -m local``) in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import requests

from local.stack import free_port
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
        headers = {"Authorization": f"Bearer {self.admin_token}"}
        return requests.request(method, self.base_url + path, headers=headers, timeout=10, **kwargs)  # type: ignore[arg-type]

    def webhook(self, path: str, **kwargs: object) -> requests.Response:
        return requests.post(self.base_url + path, params={"token": self.webhook_token}, timeout=10, **kwargs)  # type: ignore[arg-type]


@contextmanager
def local_stack_process(
    parameters: dict[str, str] | None = None, secrets: dict[str, str] | None = None
) -> Iterator[RunningStack]:
    """Start ``python -m local`` with template parameters and local secrets; stop it afterwards."""
    port, moto_port = free_port(), free_port()
    params = {"RetryBaseSeconds": "0", **(parameters or {})}
    secret_env = {"WEBHOOK_TOKEN": "e2e-webhook-secret", "ADMIN_TOKEN": "e2e-admin-secret", **(secrets or {})}
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **{f"RINGBRIDGE_{key}": value for key, value in secret_env.items()}}
    env.pop("AWS_ENDPOINT_URL", None)
    command = [sys.executable, "-m", "local", "--port", str(port), "--moto-port", str(moto_port)]
    for name, value in params.items():
        command += ["--param", f"{name}={value}"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
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
    if not output or output[-1].strip() != "READY":
        process.kill()
        pytest.fail("local stack did not start:\n" + "".join(output))
    # Keep reading its output: a full pipe would block the stack's next log line (and so its answer).
    threading.Thread(target=lambda: output.extend(process.stdout or []), name="stack-output", daemon=True).start()
    try:
        yield RunningStack(
            f"http://127.0.0.1:{port}",
            f"http://127.0.0.1:{moto_port}",
            secret_env["WEBHOOK_TOKEN"],
            secret_env["ADMIN_TOKEN"],
            output,
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def local_stack() -> Iterator[RunningStack]:
    with local_stack_process() as stack:
        yield stack
