"""The local stack's stand-in for the call-event bus's webhook rule (A1).

On AWS, the rule ``NotifyRule`` sends the events ``NotifyOn`` selects to ``NotifyWebhookUrl``
through an API destination. Here every ``PutEvents`` of the functions (which moto's server
accepts) is also matched against the same pattern, read from the template's ``NotifyFilters``
mapping, and each matching event is POSTed to the URL as EventBridge would send it.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from local.template import Template


def notify_pattern(template: Template, notify_on: str) -> dict[str, Any]:
    """The rule's event pattern for ``notify_on`` (the template's ``NotifyFilters`` mapping)."""
    lists = template.raw["Mappings"]["NotifyFilters"][notify_on]
    return {
        "source": ["ringbridge"],
        "detail-type": lists["DetailTypes"],
        "detail": {"status": lists["Statuses"], "direction": lists["Directions"]},
    }


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """EventBridge's matching for exact-value lists: every field of the pattern holds one of its values."""
    for key, wanted in pattern.items():
        value = event.get(key)
        if isinstance(wanted, dict):
            if not isinstance(value, dict) or not matches(wanted, value):
                return False
        elif value not in wanted:
            return False
    return True


class LocalBus:
    def __init__(self, url: str, pattern: dict[str, Any], timeout_seconds: float = 5.0) -> None:
        self.url = url
        self.pattern = pattern
        self.timeout_seconds = timeout_seconds
        self.delivered: list[dict[str, Any]] = []

    def attach(self) -> None:
        """Watch the functions' PutEvents calls (they share ringbridge's boto3 session in this process)."""
        from ringbridge.storage.aws import _session

        _session().events.register("provide-client-params.events.PutEvents", self._seen, unique_id="local-bus")

    def detach(self) -> None:
        from ringbridge.storage.aws import _session

        _session().events.unregister("provide-client-params.events.PutEvents", unique_id="local-bus")

    def _seen(self, params: dict[str, Any], **_: Any) -> None:
        for entry in params.get("Entries", []):
            event = {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": entry.get("DetailType"),
                "source": entry.get("Source"),
                "account": "123456789012",
                "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": "us-east-1",
                "resources": [],
                "detail": json.loads(entry.get("Detail") or "{}"),
            }
            if matches(self.pattern, event):
                threading.Thread(target=self._deliver, args=(event,), daemon=True).start()

    def _deliver(self, event: dict[str, Any]) -> None:
        import requests

        try:
            requests.post(self.url, json=event, timeout=self.timeout_seconds, headers={"X-Ringbridge-Key": "change-me"})
            self.delivered.append(event)
        except requests.RequestException:  # as EventBridge would retry; locally the event is dropped
            pass
