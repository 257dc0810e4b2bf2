"""Log lines: phone numbers masked by field and by what reads as a number; identifiers stay whole (B)."""

from __future__ import annotations

import io
import json
import logging

import pytest

from ringbridge.domain.phones import mask_phone_numbers_in_text
from ringbridge.observability import logger

MESSAGE_ID = "pl5_-1700000043.2500000042"


def _lines(emit: object) -> list[dict[str, object]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    try:
        emit()  # type: ignore[operator]
    finally:
        logger.removeHandler(handler)
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.parametrize("written", ["+48 601 500 001", "48601500001", "+48601500001", "(22) 123 45 67"])
def test_numbers_are_masked_however_written(written: str) -> None:
    assert not any(run in mask_phone_numbers_in_text(f"caller {written}.") for run in ("601500001", "601 500 001", "123 45 67"))


@pytest.mark.parametrize("token", [MESSAGE_ID, "card-1700000000", "ua0-1700000000.1", "v1.2.3456789"])
def test_identifier_like_tokens_are_left_whole(token: str) -> None:
    assert mask_phone_numbers_in_text(f"replay {token} now") == f"replay {token} now"


def test_ids_survive_unmasked_in_a_log_line() -> None:
    lines = _lines(
        lambda: logger.info(
            "retrying %s for +48601500001",
            MESSAGE_ID,
            extra={"message_id": MESSAGE_ID, "call_id": "1700000043", "correlation_id": "2500000042", "phone": "+48601500001"},
        )
    )
    line = lines[0]
    assert line["message_id"] == MESSAGE_ID
    assert line["call_id"] == "1700000043"
    assert line["correlation_id"] == "2500000042"
    assert MESSAGE_ID in str(line["message"])
    assert "601500001" not in json.dumps(line)


def test_a_traceback_is_masked() -> None:
    def fail() -> None:
        try:
            raise ValueError("no contact for +48 601 500 001 (48601500001)")
        except ValueError:
            logger.exception("sync failed", extra={"message_id": MESSAGE_ID})

    line = _lines(fail)[0]
    assert "ValueError" in str(line["exception"])
    serialized = json.dumps(line)
    assert "601500001" not in serialized and "601 500 001" not in serialized
    assert line["message_id"] == MESSAGE_ID
