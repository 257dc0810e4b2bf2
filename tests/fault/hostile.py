"""What the hostile-input tests share: Ringostat answering nothing, credentials per route, and the run's counters.

The counters add up over a test run (and over pytest-xdist workers, see ``conftest.py``); the
terminal summary prints them and ``.artifacts/hostile-counts.json`` keeps them.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

from local.template import HttpRoute
from tests.conftest import ROOT
from tests.integration.conftest import ADMIN, WEBHOOK_TOKEN

COUNTS_FILE = ROOT / ".artifacts" / "hostile-counts.json"
COUNTER_NAMES = (
    "requests sent",
    "accepted (2xx)",
    "refused (4xx)",
    "5xx seen",
    "4xx without reason",
    "refusals that stored something",
    "read-backs done",
    "read-backs failed",
)
# What the hostile walk counted in this process.
COUNTS: Counter[str] = Counter()


def write_counts(counts: Counter[str], path: Path = COUNTS_FILE) -> dict[str, int]:
    """The counters as a dict (every name, zeros included), written to ``path``."""
    report = {name: int(counts.get(name, 0)) for name in COUNTER_NAMES}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


class QuietRingostat:
    """Ringostat answering with nothing: the routes that read from it meet the input, not a missing network."""

    def staff_list(self) -> list[Any]:
        return []

    def calls_between(self, *_: Any, **__: Any) -> list[dict[str, Any]]:
        return []

    def calls_page(self, *_: Any, **__: Any) -> list[dict[str, Any]]:
        return []

    def outward_call(self, extension: str, destination: str) -> dict[str, Any]:
        return {}


def credentials(route: HttpRoute, api_key: str) -> tuple[dict[str, str], dict[str, str]]:
    """Valid credentials for the route's kind, so the handler itself meets the input."""
    if route.path.startswith("/ringostat/"):
        return {}, {"token": WEBHOOK_TOKEN}
    if route.path.startswith("/admin/"):
        return dict(ADMIN), {}
    return {"X-Api-Key": api_key}, {}


def concrete(path: str, value: str) -> str:
    """The route's path with every parameter set to ``value`` (percent-encoded)."""
    return re.sub(r"\{\w+\+?\}", quote(value, safe=""), path)
