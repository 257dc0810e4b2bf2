"""The KeyCRM scenario against KeyCRM's full published OpenAPI document (``make contract-published``).

Not part of the default run: it reads ``../shared``, outside the repository. The published
document describes no error bodies, so only requests and successful answers are checked here;
``test_keycrm_contract.py`` checks everything against the project's own subset.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.contract import Contract
from tests.contract.published import KEYCRM_PUBLISHED, load_published_keycrm
from tests.contract.scenarios import keycrm_full_scenario
from tests.fakes import FakeClock
from tests.fakes.keycrm import FakeKeyCrm

pytestmark = pytest.mark.published_contract


@pytest.fixture(scope="module")
def published() -> Contract:
    if not KEYCRM_PUBLISHED.exists():
        pytest.skip("KeyCRM's published OpenAPI document is not beside the checkout (../shared/reference)")
    return load_published_keycrm()


@pytest.fixture
def fake() -> Iterator[FakeKeyCrm]:
    clock = FakeClock()
    server = FakeKeyCrm(monotonic=clock.monotonic)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_every_keycrm_request_and_successful_answer_matches_the_published_document(published: Contract, fake: FakeKeyCrm) -> None:
    keycrm_full_scenario(fake)
    assert fake.exchanges and all(e.status < 400 for e in fake.exchanges)
    problems = published.problems(fake.exchanges)
    assert not problems, "\n".join(problems)


def test_the_published_document_accepts_what_the_projects_subset_refuses(published: Contract, fake: FakeKeyCrm) -> None:
    """Why the project keeps its own subset: the published `filter` is a bare object, `include` a free string."""
    import requests

    headers = {"Authorization": f"Bearer {fake.api_key}"}
    requests.get(f"{fake.url}/v1/pipelines/cards", params={"filter[status_id]": "11,12"}, headers=headers, timeout=5)
    requests.get(f"{fake.url}/v1/pipelines/cards", params={"filter[contact.phone]": "+48"}, headers=headers, timeout=5)
    requests.get(f"{fake.url}/v1/buyer", params={"include": "orders"}, headers=headers, timeout=5)
    assert all(published.request_errors(exchange) == [] for exchange in fake.exchanges)
    assert [e.status for e in fake.exchanges] == [400, 400, 400]  # the service (and the strict fake) refuse them
