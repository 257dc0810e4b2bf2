"""The one clock: aware UTC times, and the ISO form ringbridge stores (``2026-11-23T19:28:38.123Z``)."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def utc_stamp(moment: datetime | None = None) -> str:
    """``moment`` (default: now) as stored on items: UTC, milliseconds, ``Z``."""
    return (moment or utc_now()).astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
