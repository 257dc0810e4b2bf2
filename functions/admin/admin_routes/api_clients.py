"""The CRM-facing API's keys: created (shown once), revoked."""

from __future__ import annotations

import re

from aws_lambda_powertools.event_handler import Response

from ringbridge import wiring
from ringbridge.domain.errors import InvalidInput, NotFound
from ringbridge.observability import logger
from ringbridge.storage.api_clients import ApiClientCreate
from ringbridge.web import HttpResponse, forget_api_keys, json_body, json_response, new_router

router = new_router()


@router.post("/admin/api-clients")
def create_api_client() -> HttpResponse:
    """A new key for a CRM-facing API client: shown once here, only its sha256 is stored."""
    request = ApiClientCreate.model_validate(json_body(router))
    created = wiring.api_clients().create(request.name)
    logger.info("api client created", extra={"api_client": created.name, "key_id": created.key_id[:12]})
    return json_response(201, created.model_dump())


@router.delete("/admin/api-clients/<key_id>")
def delete_api_client(key_id: str) -> HttpResponse:
    """Revoke a key (warm containers may accept it for up to API_KEY_CACHE_SECONDS more)."""
    if not re.fullmatch(r"[0-9a-f]{64}", key_id):
        raise InvalidInput("invalid field 'key_id': the 64 hex digits returned when the key was created")
    if not wiring.api_clients().delete(key_id):
        raise NotFound("no API client with this key id")
    forget_api_keys()
    return Response(status_code=204)
