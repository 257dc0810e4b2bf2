"""KeyCRM's full published OpenAPI document (beside the checkout, in ``../shared``), made loadable.

Only ``make contract-published`` uses it (``test_keycrm_published.py``, marker
``published_contract``, left out of the default run): tests in a clean clone read nothing
outside the repository.

The document (v1.2.0) is not valid OpenAPI 3.0 as published; ``load_published_keycrm``
repairs only its form, never what it says about requests:

- response codes are YAML integers (``200:``); OpenAPI wants string keys;
- security requirements are written ``bearerAuth: {}``; OpenAPI wants a list of scopes (``[]``);
- one request schema says ``required: true`` (a boolean) inside a schema object; dropped;
- ``PaginatedResponse.next_page_url`` and ``PipelineCard*.communicate_at`` are not nullable, yet
  the API (a Laravel paginator; a card without a "next contact") answers ``null``: made nullable
  so the fake can answer as the API does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.contract import Contract

KEYCRM_PUBLISHED = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "keycrm-openapi.yml"
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


def load_published_keycrm(path: Path = KEYCRM_PUBLISHED) -> Contract:
    document = _repair(yaml.safe_load(path.read_text(encoding="utf-8")))
    schemas = document["components"]["schemas"]
    for schema, field in _NULLABLE:
        schemas[schema]["properties"][field]["nullable"] = True
    return Contract("KeyCRM (published)", document, "/v1")
