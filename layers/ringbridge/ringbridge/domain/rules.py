"""The installation's rules for the call pipeline (P2-P7, F1-F4, T1): template parameters, each switchable.

Settings only (the routing ping loads them): how a call meets them is in ``domain/call_rules.py``.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


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
