"""CRM sync worker: queued call events -> contacts, funnel cards, tasks and call history in the CRM.

Batches use Powertools' partial failure reporting: a failed message alone is retried
(after a growing delay) and, after the queue's maxReceiveCount, moved to the DLQ, from
which ``python -m ringbridge.cli dlq replay`` puts it back.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import BaseModel, ConfigDict, Field

from ringbridge import pipeline
from ringbridge.config import settings
from ringbridge.observability import logger
from ringbridge.storage.aws import client

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


class CallMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    call_id: str = Field(min_length=1, max_length=128)
    moment: str | None = None


def sync_record(record: SQSRecord) -> None:
    message = CallMessage.model_validate_json(record.body)
    outcome = pipeline.sync(message.call_id)
    logger.info(
        "call synced",
        extra={
            "call_id": outcome.call_id,
            "state": outcome.state,
            "contact_created": outcome.contact_created,
            "card_created": outcome.card_created,
            "task_created": outcome.task_created,
        },
    )


def retry_delay_seconds(receive_count: int) -> int:
    """5, 10, 20, 40… s (capped at 15 min): SQS's own retry would wait the whole visibility timeout."""
    delay: int = settings().retry_base_seconds * 2 ** max(0, receive_count - 1)
    return min(900, delay)


def _back_off(event: dict[str, Any], failures: list[Any]) -> None:
    failed = {item["itemIdentifier"] for item in failures}
    config = settings()
    for raw in event.get("Records", []):
        if raw["messageId"] not in failed:
            continue
        receive_count = int(raw.get("attributes", {}).get("ApproximateReceiveCount", "1"))
        if receive_count >= config.max_receive_count:
            # The next receive moves it to the dead-letter queue (redrive policy).
            logger.error("last attempt failed: the message goes to the DLQ", extra={"message_id": raw["messageId"]})
        try:
            client("sqs").change_message_visibility(
                QueueUrl=config.call_queue_url,
                ReceiptHandle=raw["receiptHandle"],
                VisibilityTimeout=retry_delay_seconds(receive_count),
            )
        except Exception:  # noqa: BLE001 - without it the message is retried after the visibility timeout
            logger.exception("could not shorten the retry delay", extra={"message_id": raw["messageId"]})


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response = process_partial_response(event=event, record_handler=sync_record, processor=processor, context=context)
    failures = response.get("batchItemFailures", [])
    for record, (_, error, _) in zip(processor.fail_messages, processor.exceptions, strict=False):
        message_id = getattr(record, "message_id", "?")
        logger.warning("call sync failed", extra={"message_id": message_id, "reason": f"{type(error).__name__}: {error}"})
    if failures:
        _back_off(event, failures)
    return dict(response)
