"""How a call meets the installation's rules (T1 closing call-backs, L1 imported calls): the sync's decisions.

Apart from ``domain/rules.py`` so that what loads the settings (the routing ping) does not load the call model.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ringbridge.domain.calls import CallRecord, Direction
from ringbridge.domain.rules import ImportedCallsCrmWork, SyncRules


def closes_callback(call: CallRecord, rules: SyncRules) -> bool:
    """T1: does this call close the number's open call-back task? An outgoing call answered with at least
    ``callback_close_min_talk_seconds`` of talk, or an incoming call a manager answered."""
    if not call.ended or not call.answered:
        return False
    if call.direction is Direction.INCOMING:
        return True
    return call.direction is Direction.OUTGOING and (call.talk_time or 0) >= rules.callback_close_min_talk_seconds


def imported_call_work(call: CallRecord, rules: SyncRules, now: datetime) -> ImportedCallsCrmWork:
    """L1: how much of the CRM sync a call may do. A webhook call: everything. A call imported from
    Ringostat's call log that started at most ``imported_calls_max_age_hours`` before ``now``: a lost
    webhook, so everything too (its card and call-back task are still of use). An older one (or one
    whose start nobody knows, or the cut-off is 0): ``imported_calls_crm_work``, by default its
    history and a contact, no card and no task for a call long dealt with."""
    if not call.imported:
        return ImportedCallsCrmWork.FULL
    started = _moment(call.started_at) if call.started_at and not call.started_at_estimated else None
    if started is None or now - started > timedelta(hours=rules.imported_calls_max_age_hours):
        return rules.imported_calls_crm_work
    return ImportedCallsCrmWork.FULL


def _moment(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
