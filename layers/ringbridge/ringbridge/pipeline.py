"""The call pipeline's glue: accept an event exactly once, queue it, sync it to the CRM.

Not domain: this is where the domain meets DynamoDB, SQS and Powertools' idempotency.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from ringbridge.config import settings, sync_rules
from ringbridge.domain.calls import CallEvent
from ringbridge.domain.crm import CrmPort
from ringbridge.domain.errors import Conflict, Unavailable
from ringbridge.domain.sync import SyncOutcome, sync_call
from ringbridge.storage.aws import client
from ringbridge.storage.builtin_crm import BuiltinCrm
from ringbridge.storage.calls import DynamoCalls
from ringbridge.storage.employees import DynamoEmployees
from ringbridge.storage.ledger import DynamoLedger

IDEMPOTENCY_SECONDS = 7 * 24 * 3600  # Ringostat's manual re-send from its error page comes days later


def enqueue(call_id: str, moment: str) -> None:
    client("sqs").send_message(QueueUrl=settings().call_queue_url, MessageBody=json.dumps({"call_id": call_id, "moment": moment}))


def _accept(event: CallEvent) -> dict[str, Any]:
    record, changed = DynamoCalls(settings().calls_table).apply(event)
    # Queued even when nothing changed: if an earlier try stored the event but failed to
    # queue it, Ringostat's retry must still reach the worker (which is idempotent).
    enqueue(record.call_id, event.moment.value)
    return {"call_id": record.call_id, "status": "accepted", "changed": changed}


@lru_cache(maxsize=1)
def _idempotent_accept() -> tuple[Callable[..., dict[str, Any]], Any]:
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    # Our shared client: one session, our timeouts and retries, and counted by the same hooks.
    persistence = DynamoDBPersistenceLayer(table_name=settings().dedup_table, boto3_client=client("dynamodb"))
    # The key is the hash of the parsed event (not the raw body): key order, spacing or an
    # alias name cannot make a replay look new. The prefix survives function renames.
    config = IdempotencyConfig(expires_after_seconds=IDEMPOTENCY_SECONDS)
    accept = idempotent_function(
        data_keyword_argument="event", persistence_store=persistence, config=config, key_prefix="call-event"
    )(_accept)
    return accept, config


def accept_event(event: CallEvent, lambda_context: Any | None) -> dict[str, Any]:
    """Store (merge) the event into its call record and queue it, once per distinct event."""
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyPersistenceLayerError,
    )

    accept, config = _idempotent_accept()
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)
    try:
        return accept(event=event)
    except IdempotencyAlreadyInProgressError as error:
        # A parallel delivery of the same event is being stored: a 409 makes Ringostat re-send it.
        raise Conflict("the same event is being processed; retry") from error
    except IdempotencyPersistenceLayerError as error:
        # The dedup table is throttled or unreachable: a 5xx, so Ringostat re-sends the event.
        raise Unavailable("temporarily unavailable; retry") from error


def reset() -> None:
    _idempotent_accept.cache_clear()
    build_crm.cache_clear()


def _builtin_crm() -> CrmPort:
    config = settings()
    return BuiltinCrm(config.contacts_table, config.cards_table, config.tasks_table, config.calls_table)


@lru_cache(maxsize=1)
def build_crm() -> CrmPort:
    """The CRM that receives the writes (C3), once per container: its rate limit must persist."""
    config = settings()
    if config.crm == "builtin":
        return _builtin_crm()
    from ringbridge import crm
    from ringbridge.secrets import get_secret

    api_key = get_secret(config.crm_api_key_param)
    return crm.build_crm(config.crm, api_key, managers=DynamoEmployees(config.sip_mappings_table), builtin=_builtin_crm)


def sync(call_id: str, crm: CrmPort | None = None) -> SyncOutcome:
    config = settings()
    return sync_call(
        call_id,
        calls=DynamoCalls(config.calls_table),
        crm=crm or build_crm(),
        employees=DynamoEmployees(config.sip_mappings_table),
        ledger=DynamoLedger(config.dedup_table),
        rules=sync_rules(),
        now=datetime.now(UTC),
    )
