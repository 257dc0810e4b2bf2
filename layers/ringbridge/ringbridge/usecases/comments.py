"""A manager's comment on a call (L3), saved only over the version the manager read."""

from __future__ import annotations

from ringbridge.domain.calls import CallRecord
from ringbridge.domain.errors import NotFound, PreconditionFailed
from ringbridge.domain.ports import CallStore

STALE = "the call changed since you read it; read it again"


def comment_call(call_id: str, comment: str | None, expected_version: int | None, calls: CallStore) -> CallRecord:
    """Set (or with ``None`` clear) the comment; ``expected_version`` None means any version (``If-Match: *``)."""
    record = calls.get(call_id)
    if record is None:
        raise NotFound("no call with this id")
    if expected_version is not None and expected_version != record.version:
        raise PreconditionFailed(STALE, current_version=record.version)
    updated = record.model_copy(update={"comment": comment})
    if not calls.save(updated, record.version):
        current = calls.get(call_id)
        raise PreconditionFailed(STALE, current_version=current.version if current else None)
    return updated.model_copy(update={"version": record.version + 1})
