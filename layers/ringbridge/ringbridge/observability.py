"""The one Logger and Metrics every function imports; log lines never carry a full number."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from ringbridge.domain.phones import mask_numbers_in_text


class MaskingFormatter(LambdaPowertoolsFormatter):
    """Masks every run of 7+ digits in the serialised line: a net under careless logging."""

    def serialize(self, log: Any) -> str:
        return mask_numbers_in_text(super().serialize(log))


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
