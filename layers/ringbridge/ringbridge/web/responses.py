"""HTTP answers: JSON bodies, errors with a reason, the domain-error -> status table, and the resolver.

Every function's resolver comes from ``new_resolver``: authentication, the body limit and
the error mapping installed once, so every refusal has the same shape ``{"message": …}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from ringbridge.config import settings
from ringbridge.domain.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    PreconditionRequired,
    Unavailable,
    UnknownEmployee,
    Unprocessable,
    UpstreamFailed,
    UpstreamTimeout,
)
from ringbridge.observability import logger
from ringbridge.storage.aws import AwsFailure, classify_aws_error

HttpResponse = Response[Any]

_STATUS_OF: dict[type[DomainError], int] = {
    InvalidInput: 400,
    NotFound: 404,
    Conflict: 409,
    PreconditionFailed: 412,
    PayloadTooLarge: 413,
    UnknownEmployee: 422,
    Unprocessable: 422,
    PreconditionRequired: 428,
    UpstreamFailed: 502,
    Unavailable: 503,
    UpstreamTimeout: 504,
}


def json_response(status: int, body: dict[str, Any]) -> HttpResponse:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body))


def error_response(status: int, message: str, **details: Any) -> HttpResponse:
    return json_response(status, {"message": message, **details})


def with_etag(response: HttpResponse, version: int) -> HttpResponse:
    response.headers["ETag"] = f'"{version}"'
    return response


def describe_validation_error(error: ValidationError) -> dict[str, Any]:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "body"
    return {"message": f"invalid field '{field}': {first['msg']}", "field": field}


def body_limit(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> HttpResponse:
    """Refuse a body over ``MAX_BODY_BYTES`` (413) before any handler reads it."""
    limit = settings().max_body_bytes
    body = app.current_event.body or ""
    if len(body) > limit * (4 / 3 if app.current_event.is_base64_encoded else 1):
        return error_response(413, f"body larger than {limit} bytes")
    return next_middleware(app)


def new_router() -> APIGatewayHttpRouter:
    """A Router for one resource's routes; the function's resolver includes it (and its auth and errors)."""
    return APIGatewayHttpRouter()  # type: ignore[no-untyped-call]


# Where a webhook delivery AWS refused for good is kept: (path, parameters, body, reason) -> its key.
Parker = Callable[[str, dict[str, str], str, str], str]


def new_resolver(auth: Callable[..., HttpResponse], park: Parker | None = None) -> APIGatewayHttpResolver:
    """A resolver with ``auth`` on every route, a body limit and errors mapped to 4xx.

    ``park`` (webhooks only) keeps a delivery that AWS refused for good: the 4xx it gets is
    not re-sent by Ringostat, so the delivery is stored for an operator instead of lost.
    """
    app = APIGatewayHttpResolver()
    app.use(middlewares=[auth, body_limit])

    @app.exception_handler(DomainError)
    def _domain_error(error: DomainError) -> HttpResponse:
        status = next((code for kind, code in _STATUS_OF.items() if isinstance(error, kind)), 400)
        response = error_response(status, error.reason)
        if isinstance(error, PreconditionFailed) and error.current_version is not None:
            return with_etag(response, error.current_version)
        return response

    @app.not_found
    def _no_route(_: Exception) -> HttpResponse:
        return error_response(404, "no such route")

    @app.exception_handler(ValidationError)
    def _validation_error(error: ValidationError) -> HttpResponse:
        return json_response(400, describe_validation_error(error))

    @app.exception_handler(BotoCoreError)
    @app.exception_handler(ClientError)
    def _aws_error(error: Exception) -> HttpResponse:
        failure = classify_aws_error(error)
        if not failure.permanent:
            # DynamoDB/SQS throttled, timed out or failed: a 5xx makes Ringostat (or the CRM) retry,
            # and every write before it was conditional or idempotent, so the retry is safe.
            logger.exception("AWS dependency failed", extra={"error": type(error).__name__, "error_code": failure.code})
            return error_response(503, "temporarily unavailable; retry")
        logger.exception("AWS refused the request for good", extra={"error_code": failure.code})
        if park is None:
            return error_response(failure.status, failure.reason)
        return _parked(app, park, failure, str(error))

    return app


def _parked(app: APIGatewayHttpResolver, park: Parker, failure: AwsFailure, detail: str) -> HttpResponse:
    event = app.current_event
    try:
        raw = event.decoded_body or ""
    except (ValueError, UnicodeDecodeError):  # pragma: no cover - the handler read it before AWS refused it
        raw = event.body or ""
    try:
        key = park(event.path, dict(event.query_string_parameters or {}), raw, f"{failure.code}: {detail}"[:1000])
    except (BotoCoreError, ClientError):
        # Not even parked: a 5xx, so Ringostat re-sends the delivery rather than it being lost.
        logger.exception("parking a refused delivery failed")
        return error_response(503, "temporarily unavailable; retry")
    logger.warning("delivery parked for an operator", extra={"parked": key, "error_code": failure.code})
    return error_response(failure.status, f"{failure.reason}; the delivery is parked for an operator", parked=key)
