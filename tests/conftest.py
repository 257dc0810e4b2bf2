"""Paths and fixtures every test layer shares."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def load_event(name: str) -> dict[str, Any]:
    """A recorded event of ``events/`` (the same files ``sam local invoke -e`` takes)."""
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def ringostat_payload(name: str) -> dict[str, Any]:
    """A request body Ringostat sends, from ``tests/fixtures/ringostat/`` (its README says what each is)."""
    return json.loads((FIXTURES / "ringostat" / name).read_text(encoding="utf-8"))
