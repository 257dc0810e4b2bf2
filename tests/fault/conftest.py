"""The fault suite runs the real handlers against moto, like the integration tests."""

from tests.integration.conftest import api, aws, dynamodb_endpoint  # noqa: F401 - fixtures shared with the integration tests
