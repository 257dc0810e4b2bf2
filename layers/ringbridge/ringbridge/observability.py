"""The one Logger and Metrics every function imports; log lines never carry a full number."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from ringbridge.domain.phones import mask_phone_numbers_in_text

# Keys whose values are identifiers, never phone numbers: they stay whole, so a log line can be matched
# with the message it is about (``python -m ringbridge.cli dlq replay <message_id>``) and with its trace.
ID_KEYS = frozenset(
    {
        "message_id",
        "messageId",
        "call_id",
        "correlation_id",
        "function_request_id",
        "request_id",
        "xray_trace_id",
        "key_id",
        "card_id",
        "task_id",
        "contact_id",
        "employee_id",
        "function_arn",
        "timestamp",
    }
)


def mask_fields(value: Any, key: str | None = None) -> Any:
    """A log record with phone numbers masked: by field (identifiers stay whole) and by what reads as a number."""
    if (key in ID_KEYS and isinstance(value, str | int)) or value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, str):
        return mask_phone_numbers_in_text(value)
    if isinstance(value, dict):
        return {mask_phone_numbers_in_text(str(k)): mask_fields(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [mask_fields(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return int(masked) if (masked := mask_phone_numbers_in_text(str(value))).isdigit() else masked
    return mask_phone_numbers_in_text(str(value))  # an object logged as its str (an exception in stack_trace)


class MaskingFormatter(LambdaPowertoolsFormatter):
    """Masks phone numbers field by field, tracebacks included (``exception`` is a field of the record)."""

    def serialize(self, log: Any) -> str:
        return super().serialize(mask_fields(log))


logger = Logger(logger_formatter=MaskingFormatter())
metrics = Metrics()


Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def lambda_entry(handler: Handler) -> Handler:
    """Every function's entry point: Powertools' context in each line (state cleared per request), metrics flushed.

    Powertools keeps a disabled run's metrics (the local stack disables them), so they are
    also dropped after each invocation.
    """
    flushed = metrics.log_metrics(handler)
    logged: Handler = logger.inject_lambda_context(flushed, clear_state=True)

    @functools.wraps(handler)
    def run(event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            return logged(event, context)
        finally:
            metrics.clear_metrics()

    return run
