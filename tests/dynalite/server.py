"""Start dynalite (tests/dynalite: ``npm ci`` there installs it) for one test process."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
STARTUP_SECONDS = 30


class DynaliteMissing(RuntimeError):
    pass


@contextmanager
def running_dynalite() -> Iterator[str]:
    """dynalite on a free loopback port, in memory; yields its endpoint URL, stops it afterwards."""
    if not (HERE / "node_modules" / "dynalite").is_dir():
        raise DynaliteMissing("dynalite is not installed: make dynalite (npm ci in tests/dynalite)")
    process = subprocess.Popen(
        ["node", "serve.js"],
        cwd=HERE,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    deadline, first = time.monotonic() + STARTUP_SECONDS, ""
    while time.monotonic() < deadline:
        first = process.stdout.readline()
        if first.startswith("LISTENING ") or (not first and process.poll() is not None):
            break
    if not first.startswith("LISTENING "):
        process.kill()
        output = first + (process.stdout.read() if process.poll() is not None else "")
        raise DynaliteMissing(f"dynalite did not start:\n{output}")
    try:
        yield f"http://127.0.0.1:{int(first.split()[1])}"
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
