"""CRM sync worker: declared in template.yaml; its rules are built by a later issue.

Until then every record is reported as failed, so nothing is lost: SQS retries it and
the dead-letter queue keeps it for a replay.
"""

from __future__ import annotations

from typing import Any


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"batchItemFailures": [{"itemIdentifier": record["messageId"]} for record in event.get("Records", [])]}
