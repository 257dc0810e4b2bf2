"""The composition root: every store, CRM and client a function uses, built here from one configuration.

Handlers and the CLI ask this module for what a use case needs (``wiring.calls()``,
``wiring.crm()``, …); nothing else constructs a store. What a container caches (settings,
clients, secrets, the CRM with its rate limit, the API-key cache) is forgotten by one
``reset()`` — a new moto in a test, or a second local stack, is a new container.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ringbridge.config import Settings
from ringbridge.config import settings as _settings

if TYPE_CHECKING:
    from ringbridge.crm import RateSettings
    from ringbridge.domain.calls import CallEvent
    from ringbridge.domain.contacts import Contact
    from ringbridge.domain.crm import CrmPort
    from ringbridge.domain.ports import EmployeeDirectory
    from ringbridge.ringostat.client import RingostatClient
    from ringbridge.storage.api_clients import DynamoApiClients
    from ringbridge.storage.builtin_records import BuiltinRecords
    from ringbridge.storage.call_history import DynamoCallHistory
    from ringbridge.storage.calls import DynamoCalls
    from ringbridge.storage.contact_push import SqsContactPush
    from ringbridge.storage.contacts import DynamoContacts, DynamoRouteLookup
    from ringbridge.storage.employees import DynamoEmployees
    from ringbridge.storage.ledger import DynamoLedger
    from ringbridge.storage.queue import SqsCallQueue
    from ringbridge.usecases.contact_push import ContactChange
    from ringbridge.usecases.crm_check import CrmCheckReport
    from ringbridge.usecases.crm_contacts import PullOutcome
    from ringbridge.usecases.reconcile import Progress, Reconciled
    from ringbridge.usecases.sync import RefusalHook, SyncOutcome

_resets: list[Callable[[], None]] = []
_chosen: list[Settings] = []  # settings given by a caller (the CLI's flags) instead of the environment


def on_reset(forget: Callable[[], None]) -> Callable[[], None]:
    """Register a per-container cache kept outside this module, so ``reset()`` forgets it too."""
    _resets.append(forget)
    return forget


def settings() -> Settings:
    """The validated configuration of this container."""
    return _chosen[-1] if _chosen else _settings()


def use(chosen: Settings) -> None:
    """Run with ``chosen`` instead of the environment's settings (the CLI, whose flags override it)."""
    reset()
    _chosen.append(chosen)


# The AWS clients each function's requests use, created in Lambda's init phase (full CPU, before the
# first request) instead of on the first request. Creating a client makes no network call.
_INIT_CLIENTS: dict[str, tuple[str, ...]] = {
    "routing": ("dynamodb-routing", "ssm"),
    "call_events": ("dynamodb", "sqs", "ssm"),
    "recordings": ("dynamodb", "sqs", "ssm"),
    "crm_sync": ("dynamodb", "sqs", "ssm"),
    "crm_api": ("dynamodb", "ssm"),
    "admin": ("dynamodb", "ssm"),
    "crm_contacts": ("dynamodb", "ssm"),
}


def init(function: str) -> Settings:
    """Called by each handler at import (Lambda's init phase): fail now if a setting it needs is missing,
    and create the function's AWS clients now rather than on its first request."""
    config = settings().require(function)
    from ringbridge.secrets import secrets_client
    from ringbridge.storage.aws import client

    for name in _INIT_CLIENTS.get(function, ()):
        if name == "dynamodb-routing":
            client("dynamodb", config.routing_store_timeout_ms)
        elif name == "ssm":
            secrets_client()
        else:
            client(name)
    if function in _WEBHOOK_FUNCTIONS and config.webhook_token_param:
        _read_webhook_secret(config.webhook_token_param)
    return config


# The functions Ringostat calls: their secret is read in the init phase, so the first ping makes no SSM call.
_WEBHOOK_FUNCTIONS = frozenset({"routing", "call_events", "recordings"})


def _read_webhook_secret(parameter: str) -> None:
    """Warm the secrets cache; a store that is down now is asked again by the first request."""
    from ringbridge.secrets import get_secret

    try:
        get_secret(parameter)
    except Exception:  # noqa: BLE001 - never fail the cold start on it: the request's check refuses quietly
        from ringbridge.observability import logger

        logger.warning("webhook secret not read at init; the first request reads it")


# ---------------------------------------------------------------- stores
def calls() -> DynamoCalls:
    from ringbridge.storage.calls import DynamoCalls

    return DynamoCalls(settings().calls_table)


def call_history() -> DynamoCallHistory:
    from ringbridge.storage.call_history import DynamoCallHistory

    return DynamoCallHistory(settings().calls_table)


def contacts() -> DynamoContacts:
    from ringbridge.storage.contacts import DynamoContacts

    return DynamoContacts(settings().contacts_table)


def route_lookup() -> DynamoRouteLookup:
    from ringbridge.storage.contacts import DynamoRouteLookup

    config = settings()
    return DynamoRouteLookup(config.contacts_table, config.routing_store_timeout_ms)


def employees() -> DynamoEmployees:
    from ringbridge.storage.employees import DynamoEmployees

    return DynamoEmployees(settings().sip_mappings_table)


# How long the CRM sync worker trusts an employee it looked up (a remapped SIP account reaches it within this).
WORKER_EMPLOYEE_CACHE_SECONDS = 60


@lru_cache(maxsize=1)
def worker_employees() -> EmployeeDirectory:
    """The sync worker's employee directory: look-ups remembered per container (``RecentEmployees``)."""
    from ringbridge.storage.employees import RecentEmployees

    return RecentEmployees(employees(), WORKER_EMPLOYEE_CACHE_SECONDS)


def ledger() -> DynamoLedger:
    from ringbridge.storage.ledger import DynamoLedger

    return DynamoLedger(settings().dedup_table)


def queue() -> SqsCallQueue:
    from ringbridge.storage.queue import SqsCallQueue

    return SqsCallQueue(settings().call_queue_url)


def contact_push_queue() -> SqsContactPush:
    from ringbridge.storage.contact_push import SqsContactPush

    config = settings()
    return SqsContactPush(config.contact_push_queue_url, enabled=config.contact_push and bool(config.contact_push_queue_url))


def api_clients() -> DynamoApiClients:
    from ringbridge.storage.api_clients import DynamoApiClients

    return DynamoApiClients(settings().api_clients_table)


def builtin_store() -> BuiltinRecords:
    from ringbridge.storage.builtin_records import BuiltinRecords

    config = settings()
    return BuiltinRecords(
        config.contacts_table, config.cards_table, config.tasks_table, config.calls_table, country=config.default_country
    )


# ---------------------------------------------------------------- outside services
@lru_cache(maxsize=1)
def crm() -> CrmPort:
    """The CRM that receives the writes (C3), once per container: its rate limit must persist."""
    config = settings()
    if config.crm == "builtin":
        return builtin_store()
    from ringbridge import crm as adapters
    from ringbridge.secrets import get_secret

    api_key = get_secret(config.crm_api_key_param)
    return adapters.build_crm(
        config.crm, api_key, config.crm_environment, managers=employees(), builtin=builtin_store, rate=crm_rate()
    )


def crm_rate() -> RateSettings:
    """The CRM key's rate limit: slots shared by every container through the dedup table (none without one)."""
    from ringbridge.crm import RateSettings
    from ringbridge.storage.rate_budget import DynamoRateBudget

    config = settings()
    return RateSettings(
        budget=DynamoRateBudget(config.dedup_table) if config.dedup_table else None,
        margin=config.crm_rate_margin_percent / 100,
        max_wait=float(config.crm_rate_wait_seconds),
    )


def ringostat() -> RingostatClient:
    """Ringostat's REST API (click-to-call, staff, call log, contacts); credentials read now, from SSM (cached)."""
    from ringbridge.domain.errors import Unavailable
    from ringbridge.observability import logger
    from ringbridge.ringostat.client import RingostatClient  # requests is loaded by click-to-call only (cold start)
    from ringbridge.secrets import get_secret

    config = settings()
    try:
        auth_key = get_secret(config.ringostat_auth_key_param)
        project_id = get_secret(config.ringostat_project_id_param) if config.ringostat_project_id_param else None
    except Exception as error:
        logger.exception("ringostat secrets unavailable")
        raise Unavailable("Ringostat credentials are unavailable; retry") from error
    return RingostatClient(
        config.ringostat_api_url, auth_key, project_id, config.ringostat_timeout_ms / 1000, timezone=config.project_timezone
    )


# ---------------------------------------------------------------- use cases that need more than stores
def accept_event(event: CallEvent) -> dict[str, Any]:
    """Ingestion: merge the event into its call (the versioned write recognises a replay) and queue it."""
    from ringbridge.usecases.ingest import accept_event as accept

    return accept(event, calls(), queue()).answer()


def park_event(path: str, parameters: dict[str, str], body: str, reason: str) -> str:
    """T1: keep a webhook delivery AWS refused for good in the dedup table (``parked#…``) for an operator."""
    from ringbridge.storage.parked import DynamoParkedEvents

    return DynamoParkedEvents(settings().dedup_table).park(path, parameters, body, reason)


def reconcile(start: datetime, end: datetime, progress: Progress | None = None) -> Reconciled:
    """L1: Ringostat's call log for [start, end] fed into the webhook pipeline where a call is missing or incomplete."""
    from ringbridge.ringostat.call_log import RingostatCallLog
    from ringbridge.usecases.reconcile import reconcile as run

    config = settings()
    call_log = RingostatCallLog(ringostat(), config.default_country, config.project_timezone)
    outcome = run(start, end, call_log, calls(), accept_event, progress)
    from ringbridge.observability import logger

    logger.info("reconciled", extra={"window_from": start.isoformat(), "window_to": end.isoformat(), "counts": outcome.answer()})
    return outcome


def pull_crm_contacts(full: bool, owner: str, out_of_time: Callable[[], bool] = lambda: False) -> PullOutcome | None:
    """R2: the CRM's contacts changed since the last run (all with ``full``) into the contacts table; None: built-in store."""
    from ringbridge.domain.clock import utc_now
    from ringbridge.domain.crm import ContactSource
    from ringbridge.usecases.crm_contacts import pull_contacts

    config = settings()
    source = crm()
    if config.crm == "builtin" or not isinstance(source, ContactSource):
        return None  # the built-in store's contacts are the routing table: nothing to pull
    return pull_contacts(
        source,
        employees(),
        contacts(),
        ledger(),
        config.default_country,
        utc_now(),
        owner,
        full=full,
        out_of_time=out_of_time,
    )


def crm_check() -> CrmCheckReport:
    """``crm check``: the settings against the configured CRM, through the sync's own client (its rate limit)."""
    from ringbridge.crm.checks import CrmNotBuilt, build_check
    from ringbridge.domain.ports import CrmConfigurationCheck
    from ringbridge.observability import logger
    from ringbridge.usecases.crm_check import check_crm

    config = settings()
    if config.crm == "builtin":
        return check_crm(config.crm, None, [])
    check: CrmConfigurationCheck | None
    try:
        check = build_check(crm(), config.rules)
    except Exception as error:  # noqa: BLE001 - no key, an unreadable key, settings the adapter refuses: a finding
        logger.exception("CRM not built for its check")
        check = CrmNotBuilt(error)
    return check_crm(config.crm, check, employees().list(), config.crm_problems())


def sync(call_id: str, on_refused: RefusalHook | None = None) -> SyncOutcome:
    """The worker's use case with the installation's stores, CRM and rules; ``on_refused`` hears of refused steps."""
    from ringbridge.domain.clock import utc_now
    from ringbridge.usecases.sync import sync_call

    return sync_call(
        call_id,
        calls=calls(),
        crm=crm(),
        employees=worker_employees(),
        ledger=ledger(),
        rules=settings().rules,
        now=utc_now(),
        on_refused=on_refused,
        # With KeyCRM or NetHunt the contacts table is a projection of the CRM's contacts (R2).
        projection=contacts() if settings().crm != "builtin" else None,
    )


# ---------------------------------------------------------------- caller ID in Ringostat (S1)
def contact_change(contact: Contact) -> ContactChange:
    """A contact of the built-in table as Ringostat should show it (no CRM page: contactLink stays empty)."""
    from ringbridge.usecases.contact_push import ContactChange

    return ContactChange(
        external_id=contact.contact_id,
        phone=contact.phone,
        name=contact.name,
        responsible_employee_id=contact.responsible_employee_id,
        changed_at=contact.updated_at,
    )


def queue_contact_push(changes: list[ContactChange]) -> int:
    """Queue contacts for Ringostat's contact book; a failure is logged, never raised (the full push repairs it)."""
    from ringbridge.observability import logger

    try:
        return contact_push_queue().push(changes)
    except Exception:  # noqa: BLE001 - the contact itself is saved; POST /admin/ringostat/push-contacts sends it later
        logger.exception("contact push not queued", extra={"contacts": len(changes)})
        return 0


def after_sync(outcome: SyncOutcome, moment: str | None = None) -> None:
    """What follows a call's CRM sync: its moment on the event bus (A1); a contact it created to Ringostat (S1)."""
    if outcome.contact_created and settings().contact_push:
        _push_created_contact(outcome)  # first: it never raises, and a retried sync no longer reports the contact
    if moment and settings().call_event_bus and outcome.state != "unknown_call":
        announce_call(outcome.call_id, moment, outcome)  # raises on failure: the queue retries the message


def _push_created_contact(outcome: SyncOutcome) -> None:
    from ringbridge.domain.clock import utc_stamp
    from ringbridge.usecases.contact_push import ContactChange, contact_link

    contact = outcome.contact  # the sync found or created it: no second read
    if contact is None:
        return
    link = contact_link(settings().crm_contact_url, contact.crm_id) if settings().crm != "builtin" else None
    change = ContactChange(
        external_id=contact.crm_id,
        phone=contact.phone,
        name=contact.name,
        responsible_employee_id=contact.responsible_employee_id,
        link=link,
        changed_at=utc_stamp(),
    )
    queue_contact_push([change])


def announce_call(call_id: str, moment: str, synced: SyncOutcome | None = None) -> bool:
    """A1: publish this moment of the call to the event bus, once (a retry after a failure publishes it then).

    ``synced``: the sync that just ran; the call as it left it (and its manager) is not read again.
    """
    import uuid

    from ringbridge.storage.call_events_bus import EventBridgeCalls
    from ringbridge.usecases.call_announcements import ANNOUNCED_SECONDS, announcement_key, call_event
    from ringbridge.usecases.sync import resolve_manager

    call = synced.call if synced is not None else None
    manager = synced.manager if synced is not None and call is not None else None
    if call is None:
        call = calls().get(call_id)
        if call is None:
            return False
        manager = resolve_manager(call, worker_employees())
    key, owner = announcement_key(call_id, moment), uuid.uuid4().hex
    marks = ledger()
    if not marks.claim(key, owner, ttl_seconds=ANNOUNCED_SECONDS):
        return False
    try:
        detail_type, detail = call_event(call, moment, manager)
        EventBridgeCalls(settings().call_event_bus).publish(detail_type, detail)
    except Exception:
        marks.release(key, owner)
        raise
    return True


def reset() -> None:
    """Forget everything cached per container (settings, clients, secrets, CRM, API keys)."""
    from aws_lambda_powertools.utilities import parameters

    from ringbridge.secrets import reset_secrets
    from ringbridge.storage.aws import reset_clients

    _settings.cache_clear()
    _chosen.clear()
    crm.cache_clear()
    worker_employees.cache_clear()
    reset_clients()
    reset_secrets()
    parameters.clear_caches()  # type: ignore[no-untyped-call]
    for forget in _resets:
        forget()
