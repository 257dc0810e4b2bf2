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


class UnhandledError(Exception):
    """What the Lambda runtime sees in place of an uncaught exception: the type and the masked message only.

    The runtime prints ``errorMessage`` and the stack trace itself, past our formatter, so the
    original (which may name a caller's number) is logged through ``logger`` and not re-raised.
    """


def unhandled(error: Exception) -> UnhandledError:
    """Log ``error`` with its traceback through the masking formatter; the masked stand-in to raise ``from None``."""
    logger.exception("unhandled error", extra={"error": type(error).__name__})
    return UnhandledError(f"{type(error).__name__}: {mask_phone_numbers_in_text(str(error))}")


def lambda_entry(handler: Handler) -> Handler:
    """Every function's entry point: Powertools' context in each line (state cleared per request), metrics flushed.

    Powertools keeps a disabled run's metrics (the local stack disables them), so they are
    also dropped after each invocation. An uncaught exception is logged masked and re-raised as
    ``UnhandledError`` without its cause, so no full number reaches the runtime's own error report.
    """
    flushed = metrics.log_metrics(handler)
    logged: Handler = logger.inject_lambda_context(flushed, clear_state=True)

    @functools.wraps(handler)
    def run(event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            return logged(event, context)
        except Exception as error:  # noqa: BLE001 - every uncaught error: logged masked, re-raised masked
            raise unhandled(error) from None
        finally:
            metrics.clear_metrics()

    return run
