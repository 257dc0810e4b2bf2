"""Paths and fixtures every test layer shares."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
E2E = Path(__file__).resolve().parent / "e2e"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--dynamodb",
        choices=("moto", "dynalite"),
        default="moto",
        help="the DynamoDB the integration tests run on: moto in-process (default) or dynalite, an independent "
        "implementation (npm ci in tests/dynalite; started per test process). SQS and SSM stay on moto.",
    )


def pytest_report_header(config: pytest.Config) -> str:
    return f"DynamoDB: {config.getoption('dynamodb')}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``--dist loadgroup``) the end-to-end tests share one worker, and so
    one local stack (a session fixture is per worker); every other test goes where there is room."""
    for item in items:
        if item.path.is_relative_to(E2E):
            item.add_marker(pytest.mark.xdist_group("e2e"))


def load_event(name: str) -> dict[str, Any]:
    """A recorded event of ``events/`` (the same files ``sam local invoke -e`` takes)."""
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def ringostat_payload(name: str) -> dict[str, Any]:
    """A request body Ringostat sends, from ``tests/fixtures/ringostat/`` (its README says what each is)."""
    return json.loads((FIXTURES / "ringostat" / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="session", autouse=True)
def _one_botocore_loader() -> Iterator[None]:
    """Every boto3 session of a test process reads AWS's service models through one loader.

    moto resets boto3's default session for each test and Powertools makes a session per
    cache reset, so each new session would parse the same JSON models again (most of an AWS
    test's setup). In Lambda one container keeps one session; sharing the loader (which
    caches what it parsed) gives the tests the same.
    """
    import botocore.session
    from botocore.loaders import create_loader

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session, "create_loader", cache(create_loader))
        yield
