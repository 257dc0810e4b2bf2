"""Request parameters: Ringostat's query/JSON/form webhooks, the JSON bodies of admin and CRM routes, the size limit."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from ringbridge.config import settings
from ringbridge.domain.errors import InvalidInput


def _too_large(limit: int) -> Response[Any]:
    from ringbridge.web.responses import error_response

    return error_response(413, f"body larger than {limit} bytes")


def body_limit(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
    body = app.current_event.body or ""
    if len(body) > settings().max_body_bytes * (4 / 3 if app.current_event.is_base64_encoded else 1):
        return _too_large(settings().max_body_bytes)
    return next_middleware(app)


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
        return payload
    content_type = (event.headers.get("content-type") or "").lower()
    if "application/x-www-form-urlencoded" in content_type or (
        "json" not in content_type and not raw.lstrip().startswith(("{", "["))
    ):
        payload.update(dict(parse_qsl(raw, keep_blank_values=True)))
        return payload
    try:
        body = json.loads(raw)
    except json.JSONDecodeError as error:
        raise InvalidInput(f"body is not valid JSON: {error.msg} at position {error.pos}") from error
    if not isinstance(body, dict):
        raise InvalidInput("body must be a JSON object")
    payload.update(body)
    return payload


def json_body(app: BaseRouter) -> dict[str, Any]:
    """A JSON object body (admin and CRM routes take JSON only)."""
    try:
        raw = app.current_event.decoded_body or ""
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidInput("body is not valid UTF-8") from error
    try:
        body = json.loads(raw or "{}")
    except json.JSONDecodeError as error:
        raise InvalidInput(f"body is not valid JSON: {error.msg} at position {error.pos}") from error
    if not isinstance(body, dict):
        raise InvalidInput("body must be a JSON object")
    return body
