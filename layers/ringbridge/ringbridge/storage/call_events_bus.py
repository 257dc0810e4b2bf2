"""The stack's EventBridge bus of call events (A1)."""

from __future__ import annotations

import json
from typing import Any

from ringbridge.storage.aws import client
from ringbridge.usecases.call_announcements import SOURCE


class EventBridgeCalls:
    def __init__(self, bus_name: str) -> None:
        self.bus_name = bus_name

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        entry = {"Source": SOURCE, "DetailType": detail_type, "Detail": json.dumps(detail), "EventBusName": self.bus_name}
        response = client("events").put_events(Entries=[entry])
        if response.get("FailedEntryCount"):
            reason = response["Entries"][0].get("ErrorCode", "refused")
            raise RuntimeError(f"EventBridge refused the call event ({reason})")
