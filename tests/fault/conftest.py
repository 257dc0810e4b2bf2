"""The fault suite runs the real handlers against moto, like the integration tests.

The hostile walk's counters (``tests/fault/hostile.py``) are summed over pytest-xdist workers,
printed in the terminal summary and written to ``.artifacts/hostile-counts.json``.
"""

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fault.hostile import COUNTS, write_counts
from tests.integration.conftest import api, aws  # noqa: F401 - fixtures shared with the integration tests

_WORKER_KEY = "hostile_counts"
_FROM_WORKERS: Counter[str] = Counter()


@pytest.fixture(scope="session")
def dynamodb_endpoint() -> Iterator[None]:
    """Always moto's DynamoDB, whatever ``--dynamodb`` says: the faults are injected into moto."""
    yield None


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A pytest-xdist worker hands its counts to the controller (``workeroutput``)."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[_WORKER_KEY] = dict(COUNTS)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    _FROM_WORKERS.update(getattr(node, "workeroutput", {}).get(_WORKER_KEY, {}))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    total = COUNTS + _FROM_WORKERS
    if not total["requests sent"]:
        return  # the hostile walk did not run here
    report = write_counts(total)
    terminalreporter.write_sep("-", "hostile input counts (.artifacts/hostile-counts.json)")
    for name, value in report.items():
        terminalreporter.write_line(f"{name:>32}: {value}")
