"""Schemathesis against the local stack: the CRM API's routes, fuzzed from the OpenAPI document.

Bounded (a few dozen examples per operation, no shrinking): no 5xx, every status, content type,
header and body as the document says. ``POST /calls/outgoing`` is left out: it would call the real
Ringostat (its failures are covered against a fake in tests/integration/test_crm_api.py).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import ROOT
from tests.e2e.conftest import RunningStack
from tests.e2e.crm_api_support import new_api_key

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

pytestmark = pytest.mark.e2e

DOCUMENT = ROOT / "functions" / "crm_api" / "openapi.json"
COUNTS_REPORT = Path("/tmp/ringbridge-schemathesis.json")
CRM_TAG = "CRM"
LEFT_OUT = {("POST", "/calls/outgoing")}
POSITIVE_EXAMPLES = 40
NEGATIVE_EXAMPLES = 20


def _checks() -> list[Any]:
    from schemathesis import checks

    return [
        checks.not_a_server_error,
        checks.status_code_conformance,
        checks.content_type_conformance,
        checks.response_headers_conformance,
        checks.response_schema_conformance,
    ]


def test_crm_api_conforms_to_its_openapi_document(local_stack: RunningStack) -> None:
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis import GenerationMode, checks

    key = new_api_key(local_stack, "schemathesis")
    headers = {"X-Api-Key": key}
    requests.post(local_stack.base_url + "/contacts", json={"phone": "+48221234567", "name": "Fuzz"}, headers=headers, timeout=10)

    schema = schemathesis.openapi.from_path(DOCUMENT)
    operations = [result.ok() for result in schema.get_all_operations()]
    selected = [op for op in operations if CRM_TAG in (op.tags or []) and (op.method.upper(), op.path) not in LEFT_OUT]
    assert len(selected) == 15
    counts: dict[str, Counter[int]] = {}
    session = requests.Session()

    def fuzz(op: Any, mode: Any, examples: int, mode_checks: list[Any], seen: Counter[int]) -> None:
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=op.as_strategy(generation_mode=mode))
        def run(case: Any) -> None:
            response = case.call(base_url=local_stack.base_url, session=session, headers=headers, timeout=10)
            seen[response.status_code] += 1
            case.validate_response(response, checks=mode_checks)

        run()

    for op in selected:
        seen = counts.setdefault(f"{op.method.upper()} {op.path}", Counter())
        fuzz(op, GenerationMode.POSITIVE, POSITIVE_EXAMPLES, _checks(), seen)
        fuzz(op, GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES, [checks.not_a_server_error, checks.status_code_conformance], seen)

    summary = {label: dict(sorted(seen.items())) for label, seen in counts.items()}
    COUNTS_REPORT.write_text(json.dumps(summary, indent=2))
    print("schemathesis status counts:", json.dumps(summary))
    assert all(status < 500 for seen in counts.values() for status in seen)
