"""The installation's rules for the call pipeline (P2-P7, F1-F4, T1): template parameters, each switchable."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from ringbridge.domain.calls import CallRecord, Direction


class FunnelMode(StrEnum):
    ONE_TIME = "one_time"  # F2: a card on the first call with a number, never again
    REPEATABLE = "repeatable"  # F3: a card whenever the number has no active card


class CardCallTypes(StrEnum):
    INCOMING = "incoming"
    OUTGOING = "outgoing"
    BOTH = "both"


class UtmAttribution(StrEnum):
    """P8: which call's UTM tags a known contact keeps."""

    FIRST_TOUCH = "first_touch"  # the first call that brought tags; later calls never replace them
    LAST_TOUCH = "last_touch"  # every call with tags replaces them


class ImportedCallsCrmWork(StrEnum):
    """L1: what a call imported from Ringostat's call log (reconciliation) may do in the CRM once it
    is older than the cut-off; a recent one is a lost webhook and does everything."""

    HISTORY_ONLY = "history-only"  # the call's line in the CRM's history, on a contact that exists already
    CONTACTS = "contacts"  # that, and a contact for an unknown number (P2-P5); no card, task or tags
    FULL = "full"  # everything a webhook call does


class SyncRules(BaseModel):
    """The installation's choices (P7, F1-F4, T1); each rule can be switched off."""

    model_config = ConfigDict(frozen=True)

    contacts_from_incoming_answered: bool = True  # P2
    contacts_from_incoming_missed: bool = True  # P3
    contacts_from_outgoing: bool = False  # P5: off, as in NetHunt
    funnel_enabled: bool = True  # F1
    funnel_id: str = Field(default="1", min_length=1, max_length=64)
    funnel_mode: FunnelMode = FunnelMode.ONE_TIME
    funnel_call_types: CardCallTypes = CardCallTypes.INCOMING  # F4
    callback_tasks: bool = True  # T1
    default_task_employee_id: str | None = None
    callback_due_minutes: int = Field(default=60, ge=0, le=7 * 24 * 60)
    utm_attribution: UtmAttribution = UtmAttribution.FIRST_TOUCH  # P8
    # T1: a later outgoing call answered with this much talk (or an answered incoming one) closes the call-back.
    callback_close_min_talk_seconds: int = Field(default=10, ge=0, le=3600)
    # L1: calls imported from the call log and older than the cut-off do this much in the CRM; recent ones all.
    imported_calls_crm_work: ImportedCallsCrmWork = ImportedCallsCrmWork.CONTACTS
    imported_calls_max_age_hours: int = Field(default=24, ge=0, le=366 * 24)


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
