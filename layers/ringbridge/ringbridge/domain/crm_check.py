"""``crm check``: what the configured CRM says about the installation's settings, one finding per check."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Severity = Literal["error", "warning"]


class CheckFinding(BaseModel):
    """One check: whether it holds, what was found, and what the admin should change when it does not.

    ``severity`` ``error``: the sync fails or writes nowhere until it is fixed; ``warning``: the
    sync works but leaves something out. ``fix`` names the template parameter, variable or mapping.
    """

    model_config = ConfigDict(frozen=True)

    check: str
    ok: bool
    severity: Severity = "error"
    found: Any = None
    fix: str = ""
