"""The fault suite runs the real handlers against moto, like the integration tests."""

from collections.abc import Iterator

import pytest

from tests.integration.conftest import api, aws  # noqa: F401 - fixtures shared with the integration tests


@pytest.fixture(scope="session")
def dynamodb_endpoint() -> Iterator[None]:
    """Always moto's DynamoDB, whatever ``--dynamodb`` says: the faults are injected into moto."""
    yield None
