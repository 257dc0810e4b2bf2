"""Request parameters: Ringostat's query/JSON/form webhooks, the JSON bodies of admin and CRM routes."""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import parse_qsl

from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

from ringbridge.domain.errors import InvalidInput
from ringbridge.domain.parameters import PARAMETER_NAME

MAX_PARAMETER_VALUE = 2048
MAX_PARAMETERS = 100
# Deeper JSON than this is refused before parsing (json.loads recurses: 30 KB of "[" is a RecursionError).
MAX_JSON_DEPTH = 32


def check_json_depth(raw: str, limit: int = MAX_JSON_DEPTH) -> None:
    """Refuse JSON nested deeper than ``limit`` with one linear scan (strings skipped), never recursion."""
    if raw.count("[") + raw.count("{") <= limit:
        return
    depth, in_string, escaped = 0, False, False
    for char in raw:  # one pass, no backtracking: a hostile body cannot make it quadratic
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                raise InvalidInput(f"body is nested deeper than {limit} levels")
        elif char in "]}":
            depth -= 1


def _refuse_constant(name: str) -> Any:
    raise InvalidInput(f"body is not valid JSON: {name} is not a number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InvalidInput(f"body is not valid JSON: {text[:40]} is out of range")
    return value


def parse_json(raw: str) -> Any:
    """Strict JSON: bounded nesting, no NaN/Infinity, no number that overflows to infinity."""
    check_json_depth(raw)
    try:
        return json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)
    except json.JSONDecodeError as error:
        raise InvalidInput(f"body is not valid JSON: {error.msg} at position {error.pos}") from error
    except RecursionError:  # pragma: no cover - the depth check comes first
        raise InvalidInput(f"body is nested deeper than {MAX_JSON_DEPTH} levels") from None


def check_parameters(payload: dict[str, Any]) -> dict[str, Any]:
    """L1: webhook parameter names non-empty, printable and bounded; values bounded; not too many."""
    if len(payload) > MAX_PARAMETERS:
        raise InvalidInput(f"too many parameters (more than {MAX_PARAMETERS})")
    for name, value in payload.items():
        if not isinstance(name, str) or not PARAMETER_NAME.match(name):
            shown = ascii(name)[:40]
            raise InvalidInput(f"invalid parameter name {shown}: 1-64 letters, digits or _.-[] (an empty name is refused)")
        if isinstance(value, str) and len(value) > MAX_PARAMETER_VALUE:
            raise InvalidInput(f"invalid field '{name}': longer than {MAX_PARAMETER_VALUE} characters")
    return payload


def request_payload(app: BaseRouter) -> dict[str, Any]:
    """The request's parameters as one flat dict: query string, then JSON or form body.

    Ringostat sends static parameters in the URL and the rest as JSON or as a form,
    depending on the admin's choice, so all three are merged (the body wins).
    """
    event = app.current_event
    payload: dict[str, Any] = {k: v for k, v in (event.query_string_parameters or {}).items() if k != "token"}
    try:
        raw = event.decoded_body or ""
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidInput("body is not valid UTF-8") from error
    if not raw.strip():
        return check_parameters(payload)
    content_type = (event.headers.get("content-type") or "").lower()
    if "application/x-www-form-urlencoded" in content_type or (
        "json" not in content_type and not raw.lstrip().startswith(("{", "["))
    ):
        payload.update(dict(parse_qsl(raw, keep_blank_values=True)))
        return check_parameters(payload)
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise InvalidInput("body must be a JSON object")
    payload.update(body)
    return check_parameters(payload)


def json_body(app: BaseRouter) -> dict[str, Any]:
    """A JSON object body (admin and CRM routes take JSON only)."""
    try:
        raw = app.current_event.decoded_body or ""
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidInput("body is not valid UTF-8") from error
    body = parse_json(raw or "{}")
    if not isinstance(body, dict):
        raise InvalidInput("body must be a JSON object")
    return body
