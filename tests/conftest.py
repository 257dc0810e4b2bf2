"""Paths and fixtures every test layer shares."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
SHARED = ROOT.parent / "shared"


def load_event(name: str) -> dict[str, Any]:
    """A recorded event of ``events/`` (the same files ``sam local invoke -e`` takes)."""
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def shared_text(relative: str) -> str:
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"{path} is not beside the checkout")
    return path.read_text(encoding="utf-8")


def reference_json_blocks(relative: str, heading: str) -> list[str]:
    """The fenced blocks under one heading of a reference document in ../shared."""
    text = shared_text(relative)
    start = text.index(heading)
    section = text[start : text.find("\n### ", start + len(heading))]
    return re.findall(r"```[a-z]*\n(.*?)```", section, flags=re.DOTALL)
