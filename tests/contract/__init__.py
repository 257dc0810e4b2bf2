"""Contract tests: every request our adapters send, and every answer of our fakes, against the
project's own description of each CRM's API (``keycrm_api.yaml``, ``nethunt_api.yaml``).

Both documents are written for this project from the CRMs' documentation and from what
independent public clients observed (sources at the top of each); they live in the
repository, so the checks run in a clean clone. They are narrower than the published
material where it is loose: the ``filter[...]`` keys and ``include`` values each KeyCRM
route allows are enums, and request bodies may carry only documented fields.

The fakes answer on ``http://127.0.0.1:<port><prefix>``; each recorded exchange is replayed
against the document's server URL (same path, query, headers and body) and validated with
``openapi-core``. Every validation is counted in ``Contract.tally`` (printed at the end of a
test run): requests and answers that keep the contract, error answers among them by status,
and what the contract refused (the tests that prove it can refuse).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import requests
import yaml
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

from tests.fakes import Exchange

HERE = Path(__file__).resolve().parent
REQUEST_HEADERS = {"authorization", "content-type", "accept"}


@dataclass
class Contract:
    """One CRM's API description and the fakes' exchanges checked against it."""

    name: str
    document: dict[str, Any]
    local_prefix: str
    tally: Counter[str] = field(default_factory=Counter)

    @classmethod
    def from_file(cls, name: str, path: Path, local_prefix: str) -> Contract:
        return cls(name, yaml.safe_load(path.read_text(encoding="utf-8")), local_prefix)

    @cached_property
    def api(self) -> OpenAPI:
        return OpenAPI.from_dict(self.document)

    @property
    def server(self) -> str:
        return str(self.document["servers"][0]["url"]).rstrip("/")

    def _prepared(self, exchange: Exchange) -> requests.PreparedRequest:
        path = exchange.path.removeprefix(self.local_prefix)
        query = f"?{exchange.query_string}" if exchange.query_string else ""
        headers = {k: v for k, v in exchange.headers.items() if k.lower() in REQUEST_HEADERS}
        return requests.Request(exchange.method, f"{self.server}{path}{query}", headers=headers, data=exchange.body).prepare()

    def request_errors(self, exchange: Exchange) -> list[str]:
        result = self.api.unmarshal_request(RequestsOpenAPIRequest(self._prepared(exchange)))
        errors = [describe(error) for error in result.errors] + self._undeclared_query(exchange)
        self.tally["requests refused" if errors else "requests"] += 1
        return errors

    def _parameters(self, method: str, path: str) -> list[dict[str, Any]] | None:
        """The declared parameters of the operation ``path`` falls under, ``$ref``s resolved."""
        # A literal path before a templated one that also matches it (`/order/source`, `/order/{orderId}`).
        for template, item in sorted(self.document["paths"].items(), key=lambda entry: "{" in entry[0]):
            if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path) and method.lower() in item:
                declared = [*item.get("parameters", []), *item[method.lower()].get("parameters", [])]
                return [self._resolve(p) for p in declared]
        return None

    def _resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            target: Any = self.document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def _undeclared_query(self, exchange: Exchange) -> list[str]:
        """Query keys the operation does not declare; openapi-core skips them, and a
        deepObject key such as ``filter[contact.phone]`` would slip through as well."""
        declared = self._parameters(exchange.method, exchange.path.removeprefix(self.local_prefix))
        if declared is None:
            return []  # an unknown operation: openapi-core has said so already
        plain = {p["name"] for p in declared if p["in"] == "query" and p.get("style") != "deepObject"}
        # deepObject name -> its keys, or None when the schema leaves them open (a bare object)
        deep: dict[str, set[str] | None] = {}
        for param in declared:
            if param.get("style") == "deepObject":
                schema = self._resolve(param["schema"])
                closed = "properties" in schema or schema.get("additionalProperties") is False
                deep[param["name"]] = set(schema.get("properties", {})) if closed else None
        problems = []
        for key, _value in parse_qsl(exchange.query_string, keep_blank_values=True):
            nested = re.fullmatch(r"(\w+)\[(.+)\]", key)
            if key in plain:
                continue
            if nested and nested.group(1) in deep:
                keys = deep[nested.group(1)]
                if keys is None or nested.group(2) in keys:
                    continue
            problems.append(f"query parameter {key!r} is not declared for {exchange.method} {exchange.path}")
        return problems

    def response_errors(self, exchange: Exchange) -> list[str]:
        response = requests.Response()
        response.status_code = exchange.status
        response.headers.update(exchange.response_headers)
        response._content = exchange.response_body
        result = self.api.unmarshal_response(RequestsOpenAPIRequest(self._prepared(exchange)), RequestsOpenAPIResponse(response))
        errors = [describe(error) for error in result.errors]
        self.tally["answers refused" if errors else "answers"] += 1
        if exchange.status >= 400 and not errors:
            self.tally[f"error {exchange.status}"] += 1
        return errors

    def problems(self, exchanges: Iterable[Exchange], requests_too: bool = True) -> list[str]:
        """Every request (unless ``requests_too`` is false) and every answer that breaks the contract."""
        found: list[str] = []
        for exchange in exchanges:
            where = f"{exchange.method} {exchange.path}?{exchange.query_string}"
            if requests_too:
                found += [f"{self.name} request {where}: {e}" for e in self.request_errors(exchange)]
            found += [f"{self.name} answer {exchange.status} to {where}: {e}" for e in self.response_errors(exchange)]
        return found

    def operations(self) -> set[tuple[str, str]]:
        paths = self.document["paths"].items()
        return {(method.upper(), path) for path, item in paths for method in item if method != "parameters"}


def describe(error: Exception) -> str:
    details = [str(error)]
    cause = error.__cause__
    while cause is not None:
        schema_errors = getattr(cause, "schema_errors", None)
        if schema_errors:
            details += [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in schema_errors]
        details.append(str(cause)[:300])
        cause = cause.__cause__
    return " | ".join(details)


KEYCRM = Contract.from_file("KeyCRM", HERE / "keycrm_api.yaml", "/v1")
NETHUNT = Contract.from_file("NetHunt", HERE / "nethunt_api.yaml", "/api/v1/zapier")
CONTRACTS = (KEYCRM, NETHUNT)


def assert_keeps_contract(contract: Contract, exchanges: Iterable[Exchange]) -> None:
    """For the adapter tests: everything the adapter sent and the fake answered is in the contract."""
    problems = contract.problems(exchanges)
    assert not problems, "\n".join(problems)
