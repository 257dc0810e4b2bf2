"""Contract tests: what our adapters send, and what our fakes answer, checked against the CRM's own API document.

KeyCRM's OpenAPI document (v1.2.0) is not valid OpenAPI 3.0 as published; ``load_keycrm_spec``
repairs only its form, never what it says about requests:

- response codes are YAML integers (``200:``); OpenAPI wants string keys;
- security requirements are written ``bearerAuth: {}``; OpenAPI wants a list of scopes (``[]``);
- one request schema says ``required: true`` (a boolean) inside a schema object; dropped;
- ``PaginatedResponse.next_page_url`` and ``PipelineCard*.communicate_at`` are not nullable, yet
  the API (a Laravel paginator; a card without a "next contact") answers ``null``: made nullable
  so the fake can answer as the API does.

The server URL in the document is ``https://openapi.keycrm.app/v1``; recorded requests went to
the local fake, so each is replayed against that base URL (same path, query and body).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests
import yaml
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

from tests.fakes import Exchange

KEYCRM_SPEC = Path(__file__).resolve().parents[1].parent.parent / "shared" / "reference" / "keycrm-openapi.yml"
KEYCRM_SERVER = "https://openapi.keycrm.app/v1"
_NULLABLE = {
    ("PaginatedResponse", "next_page_url"),
    ("PipelineCard", "communicate_at"),
    ("PipelineCardWithIncludes", "communicate_at"),
}


def _repair(node: Any, parent_key: str | None = None) -> Any:
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "required" and isinstance(value, bool) and "type" in node:
                continue  # a boolean "required" inside a schema object
            out[str(key)] = _repair(value, str(key))
        return out
    if isinstance(node, list):
        if parent_key == "security":
            return [{name: list(scopes or []) for name, scopes in requirement.items()} for requirement in node]
        return [_repair(item) for item in node]
    return node


def load_keycrm_spec(path: Path = KEYCRM_SPEC) -> OpenAPI:
    document = _repair(yaml.safe_load(path.read_text(encoding="utf-8")))
    schemas = document["components"]["schemas"]
    for schema, field in _NULLABLE:
        schemas[schema]["properties"][field]["nullable"] = True
    return OpenAPI.from_dict(document)


def _as_server_url(exchange: Exchange, local_prefix: str) -> str:
    path = exchange.path.removeprefix(local_prefix)
    query = f"?{exchange.query_string}" if exchange.query_string else ""
    return f"{KEYCRM_SERVER}{path}{query}"


def request_errors(api: OpenAPI, exchange: Exchange, local_prefix: str = "/v1") -> list[str]:
    headers = {k: v for k, v in exchange.headers.items() if k.lower() in {"authorization", "content-type", "accept"}}
    prepared = requests.Request(
        exchange.method, _as_server_url(exchange, local_prefix), headers=headers, data=exchange.body
    ).prepare()
    result = api.unmarshal_request(RequestsOpenAPIRequest(prepared))
    return [_describe(error) for error in result.errors]


def response_errors(api: OpenAPI, exchange: Exchange, local_prefix: str = "/v1") -> list[str]:
    headers = {k: v for k, v in exchange.headers.items() if k.lower() in {"authorization", "content-type", "accept"}}
    prepared = requests.Request(
        exchange.method, _as_server_url(exchange, local_prefix), headers=headers, data=exchange.body
    ).prepare()
    response = requests.Response()
    response.status_code = exchange.status
    response.headers.update({"Content-Type": exchange.response_headers.get("Content-Type", "application/json")})
    response._content = exchange.response_body
    result = api.unmarshal_response(RequestsOpenAPIRequest(prepared), RequestsOpenAPIResponse(response))
    return [_describe(error) for error in result.errors]


def _describe(error: Exception) -> str:
    details = [str(error)]
    cause = error.__cause__
    while cause is not None:
        schema_errors = getattr(cause, "schema_errors", None)
        if schema_errors:
            details += [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in schema_errors]
        details.append(str(cause)[:300])
        cause = cause.__cause__
    return " | ".join(details)
