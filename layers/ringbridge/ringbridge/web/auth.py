"""Who may call: Ringostat's webhook token, the admin token, the CRM-facing API's per-client keys."""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from ringbridge import wiring
from ringbridge.config import settings
from ringbridge.observability import logger
from ringbridge.secrets import get_secret
from ringbridge.storage.api_clients import hash_api_key
from ringbridge.web.responses import HttpResponse, error_response


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


@wiring.on_reset
def forget_api_keys() -> None:
    """Drop the per-container cache (a new container; a deleted key stops working here at once)."""
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
    client_name = wiring.api_clients().name_of(key_hash)
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
