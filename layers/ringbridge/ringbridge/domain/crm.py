"""The CRM port: what the call pipeline asks of a CRM (built-in store, KeyCRM, NetHunt).

Each adapter translates these calls to one CRM. Every method may be called again for
the same call after a crash or a retry, so each must be safe to repeat: look up before
creating, and use the ``call_id`` carried by every draft as the CRM-side idempotency key
where the CRM has one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from ringbridge.domain.calls import CallRecord, Utm
from ringbridge.domain.employees import Employee


class CrmContact(BaseModel):
    """A contact as the CRM knows it (KeyCRM: buyer; NetHunt: contact record)."""

    model_config = ConfigDict(frozen=True)

    crm_id: str
    phone: str
    name: str | None = None
    responsible_employee_id: str | None = None
    # P8: whether the contact carries UTM tags already (None: this CRM cannot tell).
    has_utm: bool | None = None
    # Whether this CRM can tell the responsible manager at all (NetHunt: only with a responsible
    # field configured): when it cannot, the routing projection keeps the route it has.
    manager_known: bool = True


class CrmCard(BaseModel):
    """A funnel card (lead or deal) in the CRM."""

    model_config = ConfigDict(frozen=True)

    crm_id: str
    phone: str
    active: bool = True


class CrmTask(BaseModel):
    model_config = ConfigDict(frozen=True)

    crm_id: str
    phone: str
    open: bool = True


class ContactDraft(BaseModel):
    """A contact to create from a call (P2, P3, P8)."""

    model_config = ConfigDict(frozen=True)

    call_id: str
    phone: str
    name: str
    source: str = "Ringostat"
    utm: Utm = Field(default_factory=Utm)
    keyword: str | None = None
    responsible: Employee | None = None


class CardDraft(BaseModel):
    """A funnel card to open from a call (F1, F6)."""

    model_config = ConfigDict(frozen=True)

    call_id: str
    phone: str
    contact: CrmContact
    funnel_id: str
    title: str
    manager: Employee | None = None
    utm: Utm = Field(default_factory=Utm)
    summary: str


class TaskDraft(BaseModel):
    """A call-back task for a missed call (T1)."""

    model_config = ConfigDict(frozen=True)

    call_id: str
    phone: str
    contact: CrmContact | None = None
    assignee: Employee | None = None
    assignee_id: str | None = None
    due_at: str
    text: str
    # F2/T1 in one-time mode: the number's one card (the one ringbridge opened), which takes the
    # call-back even when closed; and whether an adapter may open a card to hold it (never then).
    card_id: str | None = None
    new_card_allowed: bool = True


class CrmRefusal(Exception):
    """A CRM's answer to one request (HTTP ``status``): adapters raise subclasses of this.

    A 4xx other than 408 (timeout), 409 (conflict) and 429 (throttling) is *permanent*:
    the same request will be refused again, so the pipeline records it on the call instead
    of retrying the whole message.
    """

    TRANSIENT_STATUSES = frozenset({408, 409, 429})

    status: int = 400
    reason: str = ""

    @property
    def permanent(self) -> bool:
        return 400 <= self.status < 500 and self.status not in self.TRANSIENT_STATUSES


class CrmPort(Protocol):
    """One CRM. ``phone`` is always E.164 (P1)."""

    def find_contact(self, phone: str) -> CrmContact | None: ...

    def create_contact(self, draft: ContactDraft) -> CrmContact: ...

    def find_active_card(self, phone: str, contact: CrmContact, known_id: str | None = None) -> CrmCard | None:
        """The contact's open card (not in a final stage), if any (F3).

        ``known_id``: the card ringbridge last opened for this number. An adapter whose search may
        miss it (a deals folder without a phone field, a bounded scan) looks it up by id first and
        decides from its stage; it searches only when there is no known id or the card is gone.
        """

    def create_card(self, draft: CardDraft) -> CrmCard: ...

    def find_open_task(self, phone: str, known_id: str | None = None) -> CrmTask | None:
        """The number's open call-back task (T1); ``known_id`` (the last one ringbridge created) is looked up first."""

    def create_task(self, draft: TaskDraft) -> CrmTask: ...

    def log_call(self, call: CallRecord, contact: CrmContact | None, manager: Employee | None) -> None:
        """Put the call in the CRM's call history (L1, L2, L4); repeating it updates, never duplicates."""

    def write_utm(self, contact: CrmContact, utm: Utm, keyword: str | None) -> None:
        """P8: put the call's UTM tags (and keyword) on a known contact, replacing the ones it has."""

    def close_callback(self, phone: str, call: CallRecord, known_id: str | None = None) -> str | None:
        """T1: close the number's open call-back task if it is for a missed call before ``call``; its id, or None.

        ``call`` is one the rules say closes call-backs (``rules.closes_callback``); repeating it changes nothing.
        ``known_id``: the task ringbridge last created for this number, found by id before any search.
        """


class SourcedContact(BaseModel):
    """A contact as a CRM lists it when asked what changed (R2: the routing projection's input)."""

    model_config = ConfigDict(frozen=True)

    crm_id: str
    phones: tuple[str, ...] = ()  # as stored in the CRM; the use case normalises them (P1)
    name: str | None = None
    manager_id: str | None = None  # the CRM's own manager id (KeyCRM user id, NetHunt user e-mail)
    manager_known: bool = True


class ContactPage(BaseModel):
    """One page of contacts changed in a window; ``next_page`` continues the same window."""

    model_config = ConfigDict(frozen=True)

    contacts: list[SourcedContact] = Field(default_factory=list)
    next_page: str | None = None
    # The CRM answered fewer than changed (NetHunt's triggers have no paging): some were not read.
    truncated: bool = False


@runtime_checkable
class ContactSource(Protocol):
    """A CRM that can list its contacts changed since a time (R2: the CRM is the source of truth).

    ``since`` None lists every contact (the full import); ``until`` bounds the window so that
    a run resumed from a stored ``page`` reads the same window. The built-in store has none:
    its contacts are the routing table itself.
    """

    def changed_since(self, since: datetime | None, until: datetime, page: str | None) -> ContactPage: ...


# ---------------------------------------------------------------- the call note (the one owner of its format)
CALL_NOTE_PREFIX = "Ringostat call "


def call_marker(call_id: str) -> str:
    """The text that starts every note ringbridge writes about one call: its idempotency key in a CRM."""
    return f"{CALL_NOTE_PREFIX}{call_id};"


def call_summary(call: CallRecord, manager: Employee | None) -> str:
    """The one-line call note written where a CRM has no call object; starts with :func:`call_marker`."""
    parts = [
        f"{(call.direction.value if call.direction else 'unknown')} {call.status.value if call.status else 'unknown status'}",
        f"at {call.started_at or 'unknown time'}",
        f"duration {call.duration or 0}s, talk {call.talk_time or 0}s",
        f"manager {manager.name if manager else 'none'}",
    ]
    if call.recording_url:
        parts.append(f"recording {call.recording_url}")
    return f"{call_marker(call.call_id)} " + "; ".join(parts)


def card_title(client: str) -> str:
    """The title of a card opened by a call (F6)."""
    return f"{CALL_NOTE_PREFIX}from {client}"
