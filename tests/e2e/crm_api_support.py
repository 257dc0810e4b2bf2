"""What the CRM API's end-to-end tests share: an API key on the running stack, data seeded into its moto."""

from __future__ import annotations

from typing import Any

import boto3

from tests.e2e.conftest import RunningStack


def new_api_key(stack: RunningStack, name: str) -> str:
    response = stack.admin("POST", "/admin/api-clients", json={"name": name})
    assert response.status_code == 201, response.text
    return str(response.json()["api_key"])


def stack_dynamodb(stack: RunningStack) -> Any:
    """A client of the stack's moto server (tables are named by their logical id)."""
    return boto3.client(
        "dynamodb",
        endpoint_url=stack.moto_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        aws_session_token="local",
    )
