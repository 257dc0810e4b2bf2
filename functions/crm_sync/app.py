"""CRM sync worker: queued call events -> contacts, funnel cards, tasks and call history in the CRM.

A step the CRM refuses for good (a card in a funnel that does not exist, …) is kept on
the call (``sync_failures``), logged and counted (metric ``CrmStepRefused``, dimension
``Step``, alarmed by ``CrmStepRefusedAlarm``); the message is not retried for it.

Batches use Powertools' partial failure reporting: a failed message alone is retried
(after a growing delay, set by the processor's failure handler) and, after the queue's
maxReceiveCount, moved to the DLQ, from which ``python -m ringbridge.cli dlq replay``
puts it back.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import BaseModel, ConfigDict, Field

from ringbridge import wiring
from ringbridge.domain.calls import CALL_ID_PATTERN
from ringbridge.observability import lambda_entry, logger, metrics
from ringbridge.storage.aws import client

wiring.init("crm_sync")


class CallMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    call_id: str = Field(pattern=CALL_ID_PATTERN)
    moment: str | None = None


REFUSED_METRIC = "CrmStepRefused"


def step_refused(step: str, reason: str) -> None:
    """A CRM step refused for good: logged, and counted per step (the alarm watches the sum)."""
    logger.error("CRM refused a step of the call: kept on the call, not retried", extra={"step": step, "reason": reason})
    metrics.add_metric(name=REFUSED_METRIC, unit=MetricUnit.Count, value=1)  # the total, by service
    with single_metric(name=REFUSED_METRIC, unit=MetricUnit.Count, value=1, namespace=metrics.namespace) as metric:
        metric.add_dimension(name="Step", value=step)  # and by step


def sync_record(record: SQSRecord) -> None:
    message = CallMessage.model_validate_json(record.body)
    logger.set_correlation_id(message.call_id)
    outcome = wiring.sync(message.call_id, on_refused=step_refused)
    wiring.after_sync(outcome, message.moment)
    logger.info(
        "call synced",
        extra={
            "state": outcome.state,
            "contact_created": outcome.contact_created,
            "card_created": outcome.card_created,
            "task_created": outcome.task_created,
            "refused": outcome.refused,
        },
    )


def retry_delay_seconds(receive_count: int) -> int:
    """5, 10, 20, 40… s (capped at 15 min): SQS's own retry would wait the whole visibility timeout."""
    delay: int = wiring.settings().retry_base_seconds * 2 ** max(0, receive_count - 1)
    return min(900, delay)


class BackingOffProcessor(BatchProcessor):
    """Partial batch failures whose failed messages come back after a growing delay, not the visibility timeout."""

    def failure_handler(self, record: SQSRecord, exception: Any) -> Any:
        failure = super().failure_handler(record, exception)
        config = wiring.settings()
        receive_count = int(record.attributes.approximate_receive_count or "1")
        logger.warning(
            "call sync failed", extra={"message_id": record.message_id, "reason": f"{exception[0].__name__}: {exception[1]}"}
        )
        if receive_count >= config.max_receive_count:
            # The next receive moves it to the dead-letter queue (redrive policy).
            logger.error("last attempt failed: the message goes to the DLQ", extra={"message_id": record.message_id})
        try:
            client("sqs").change_message_visibility(
                QueueUrl=config.call_queue_url,
                ReceiptHandle=record.receipt_handle,
                VisibilityTimeout=retry_delay_seconds(receive_count),
            )
        except Exception:  # noqa: BLE001 - without it the message is retried after the visibility timeout
            logger.exception("could not shorten the retry delay", extra={"message_id": record.message_id})
        return failure


processor = BackingOffProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return dict(process_partial_response(event=event, record_handler=sync_record, processor=processor, context=context))
