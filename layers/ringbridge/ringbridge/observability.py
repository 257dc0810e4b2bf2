"""The one Logger and Metrics every function imports; log lines never carry a full number."""

from __future__ import annotations

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


def publish_metrics() -> None:
    """Flush this invocation's metrics (EMF on stdout), and drop them when metrics are disabled.

    Powertools keeps a disabled run's metrics and prints them once 100 pile up; the local
    stack disables metrics, so they are cleared here after every invocation.
    """
    metrics.flush_metrics()
    metrics.clear_metrics()
