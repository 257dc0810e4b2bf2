"""What every HTTP function shares; this module only re-exports (see auth, payload, responses, views)."""

from ringbridge.web.auth import admin_auth, api_key_auth, forget_api_keys, webhook_auth
from ringbridge.web.payload import json_body, request_payload
from ringbridge.web.responses import HttpResponse, error_response, json_response, new_resolver, new_router, with_etag

__all__ = [
    "HttpResponse",
    "admin_auth",
    "api_key_auth",
    "error_response",
    "forget_api_keys",
    "json_body",
    "json_response",
    "new_resolver",
    "new_router",
    "request_payload",
    "webhook_auth",
    "with_etag",
]
