"""What every HTTP function shares: authentication, payload parsing, errors as 4xx.

Handlers stay thin: ``new_resolver(...)`` gives a Powertools resolver with the right
authentication and the error mapping already installed.
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from ringbridge.config import settings
from ringbridge.domain.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    PreconditionRequired,
    Unavailable,
    UnknownEmployee,
    Unprocessable,
    UpstreamFailed,
    UpstreamTimeout,
)
from ringbridge.observability import logger
from ringbridge.secrets import get_secret
from ringbridge.storage.api_clients import DynamoApiClients, hash_api_key

HttpResponse = Response[Any]

_STATUS_OF: dict[type[DomainError], int] = {
    InvalidInput: 400,
    NotFound: 404,
    Conflict: 409,
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


class PayloadTooLarge(Exception):
    pass


class Unauthorized(Exception):
    pass


def presented_token(app: APIGatewayHttpResolver, *, allow_query: bool) -> str:
    """The token of ``Authorization: Bearer …`` or, for Ringostat, of ``?token=…``."""
    event = app.current_event
    authorization = event.headers.get("authorization") or ""
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    if allow_query:
        return (event.query_string_parameters or {}).get("token", "")
    return ""


def tokens_match(presented: str, expected: str) -> bool:
    """Constant-time comparison; an empty expected secret never matches."""
    if not expected or not presented:
        return False
    return hmac.compare_digest(presented.encode(), expected.encode())


def _token_middleware(parameter: Callable[[], str], *, allow_query: bool) -> Callable[..., HttpResponse]:
    def authenticate(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> HttpResponse:
        presented = presented_token(app, allow_query=allow_query)
        try:
            expected = get_secret(parameter())
        except Exception:  # noqa: BLE001 - the secrets store is down: refuse, fast and quietly
            logger.exception("secret unavailable")
            return error_response(503, "service unavailable")
        if not tokens_match(presented, expected):
            return error_response(401, "unauthorized")
        return next_middleware(app)

    return authenticate


webhook_auth = _token_middleware(lambda: settings().webhook_token_param, allow_query=True)
admin_auth = _token_middleware(lambda: settings().admin_token_param, allow_query=False)


# ---------------------------------------------------------------- API keys (CRM-facing routes)
MAX_API_KEY_LENGTH = 256
_API_KEY_CACHE_SIZE = 1024
# sha256 hex of a key -> (monotonic expiry, client name or None when unknown)
_api_key_cache: dict[str, tuple[float, str | None]] = {}


def forget_api_keys() -> None:
    """Drop the per-container cache (tests; a deleted key stops working here at once)."""
    _api_key_cache.clear()


def presented_api_key(app: APIGatewayHttpResolver, *, allow_query: bool) -> str:
    """The key of ``Authorization: Bearer …``, ``X-Api-Key: …`` or, where allowed, ``?key=…``."""
    event = app.current_event
    key = presented_token(app, allow_query=False) or (event.headers.get("x-api-key") or "").strip()
    if not key and allow_query:
        key = (event.query_string_parameters or {}).get("key", "")
    return key


def _api_client_of(key_hash: str) -> str | None:
    now = time.monotonic()
    cached = _api_key_cache.get(key_hash)
    if cached is not None and cached[0] > now:
        return cached[1]
    client_name = DynamoApiClients(settings().api_clients_table).name_of(key_hash)
    if len(_api_key_cache) >= _API_KEY_CACHE_SIZE:
        _api_key_cache.clear()
    _api_key_cache[key_hash] = (now + settings().api_key_cache_seconds, client_name)
    return client_name


def _is_page_request(app: APIGatewayHttpResolver) -> bool:
    event = app.current_event
    return event.http_method == "GET" and event.path == "/"


def api_key_auth(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> HttpResponse:
    """Per-client API keys, stored hashed in the API-clients table, looked up once a minute per container.

    Only ``GET /`` (the HTML page a browser opens) also takes the key as ``?key=…``.
    """
    logger.remove_keys(["api_client"])  # a warm container's previous caller
    key = presented_api_key(app, allow_query=_is_page_request(app))
    if not key or len(key) > MAX_API_KEY_LENGTH:
        return error_response(401, "unauthorized")
    try:
        client_name = _api_client_of(hash_api_key(key))
    except Exception:  # noqa: BLE001 - the key store is down: refuse, fast and quietly
        logger.exception("api key store unavailable")
        return error_response(503, "service unavailable")
    if client_name is None:
        return error_response(401, "unauthorized")
    logger.append_keys(api_client=client_name)
    return next_middleware(app)


def body_limit(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> HttpResponse:
    body = app.current_event.body or ""
    if len(body) > settings().max_body_bytes * (4 / 3 if app.current_event.is_base64_encoded else 1):
        return error_response(413, f"body larger than {settings().max_body_bytes} bytes")
    return next_middleware(app)


def request_payload(app: APIGatewayHttpResolver) -> dict[str, Any]:
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


def json_body(app: APIGatewayHttpResolver) -> dict[str, Any]:
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


def describe_validation_error(error: ValidationError) -> dict[str, Any]:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "body"
    return {"message": f"invalid field '{field}': {first['msg']}", "field": field}


def new_resolver(auth: Callable[..., HttpResponse]) -> APIGatewayHttpResolver:
    """A resolver with ``auth`` on every route, a body limit and errors mapped to 4xx."""
    app = APIGatewayHttpResolver()
    app.use(middlewares=[auth, body_limit])

    @app.exception_handler(DomainError)
    def _domain_error(error: DomainError) -> HttpResponse:
        status = next((code for kind, code in _STATUS_OF.items() if isinstance(error, kind)), 400)
        return error_response(status, error.reason)

    @app.exception_handler(ValidationError)
    def _validation_error(error: ValidationError) -> HttpResponse:
        return json_response(400, describe_validation_error(error))

    @app.exception_handler(BotoCoreError)
    @app.exception_handler(ClientError)
    def _aws_unavailable(error: Exception) -> HttpResponse:
        # DynamoDB/SQS throttled, timed out or failed: a 5xx makes Ringostat (or the CRM) retry,
        # and every write before it was conditional or idempotent, so the retry is safe.
        logger.exception("AWS dependency failed", extra={"error": type(error).__name__})
        return error_response(503, "temporarily unavailable; retry")

    return app
