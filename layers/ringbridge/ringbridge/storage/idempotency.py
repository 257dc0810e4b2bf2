"""Powertools' idempotency over the dedup table: one effect per distinct call event, whatever the retries."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from ringbridge.domain.calls import CallEvent
from ringbridge.domain.errors import Conflict, Unavailable
from ringbridge.storage.aws import client

IDEMPOTENCY_SECONDS = 7 * 24 * 3600  # Ringostat's manual re-send from its error page comes days later


@lru_cache(maxsize=4)
def _guard(table: str) -> tuple[Any, Any]:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig

    # Our shared client: one session, our timeouts and retries, and counted by the same hooks.
    persistence = DynamoDBPersistenceLayer(table_name=table, boto3_client=client("dynamodb"))
    return persistence, IdempotencyConfig(expires_after_seconds=IDEMPOTENCY_SECONDS)


def once_per_event(
    table: str, accept: Callable[[CallEvent], dict[str, Any]], event: CallEvent, lambda_context: Any
) -> dict[str, Any]:
    """``accept(event)`` once per distinct event; a repeat gets the first answer back.

    The key is the hash of the parsed event (not the raw body): key order, spacing or an
    alias name cannot make a replay look new. The prefix survives function renames.
    """
    from aws_lambda_powertools.utilities.idempotency import idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyPersistenceLayerError,
    )

    persistence, config = _guard(table)
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)

    def _accept(event: CallEvent) -> dict[str, Any]:
        return accept(event)

    guarded = idempotent_function(
        data_keyword_argument="event", persistence_store=persistence, config=config, key_prefix="call-event"
    )(_accept)
    try:
        result: dict[str, Any] = guarded(event=event)
    except IdempotencyAlreadyInProgressError as error:
        # A parallel delivery of the same event is being stored: a 409 makes Ringostat re-send it.
        raise Conflict("the same event is being processed; retry") from error
    except IdempotencyPersistenceLayerError as error:
        # The dedup table is throttled or unreachable: a 5xx, so Ringostat re-sends the event.
        raise Unavailable("temporarily unavailable; retry") from error
    return result


def reset() -> None:
    _guard.cache_clear()
