"""Integration tests: the real handlers, routed by template.yaml, against moto in-process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws
from werkzeug.test import Client, TestResponse

from local.gateway import Gateway
from local.resources import create_resources, function_environment
from local.runtime import LocalFunction, add_layers_to_path, load_module
from local.stack import DEFAULT_SECRETS
from local.template import Template, load_template

WEBHOOK_TOKEN = DEFAULT_SECRETS["WEBHOOK_TOKEN"]
ADMIN_TOKEN = DEFAULT_SECRETS["ADMIN_TOKEN"]
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def reset_caches() -> None:
    """Each test gets a fresh moto: forget clients, secrets and settings cached per container."""
    from aws_lambda_powertools.utilities import parameters

    from ringbridge.config import settings
    from ringbridge.secrets import reset_secrets
    from ringbridge.storage.aws import reset_clients

    settings.cache_clear()
    reset_clients()
    reset_secrets()
    parameters.clear_caches()


@dataclass
class AwsStack:
    template: Template
    environment: dict[str, str]
    http: Client
    functions: dict[str, LocalFunction]

    @property
    def dynamodb(self) -> Any:
        return boto3.client("dynamodb")

    @property
    def sqs(self) -> Any:
        return boto3.client("sqs")

    def module(self, logical_id: str) -> Any:
        return load_module(self.functions[logical_id].spec)

    def post_webhook(self, path: str, json: dict[str, Any] | None = None, **kwargs: Any) -> TestResponse:
        return self.http.post(path, query_string={"token": WEBHOOK_TOKEN}, json=json, **kwargs)

    def admin(self, method: str, path: str, json: Any = None) -> TestResponse:
        return self.http.open(path, method=method, headers=ADMIN, json=json)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsStack]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    template = load_template()
    with mock_aws():
        reset_caches()
        attributes = create_resources(template, boto3.client("dynamodb"), boto3.client("sqs"))
        environment = function_environment(template, attributes)
        for key, value in environment.items():
            monkeypatch.setenv(key, value)
        ssm = boto3.client("ssm")
        for key, name in environment.items():
            if key.endswith("_PARAM"):
                secret = DEFAULT_SECRETS.get(key.removesuffix("_PARAM"), f"test-{key.lower()}")
                ssm.put_parameter(Name=name, Value=secret, Type="SecureString")
        add_layers_to_path(template)
        functions = {spec.logical_id: LocalFunction(spec) for spec in template.functions()}
        gateway = Gateway(functions, template.routes(), access_log=False)
        yield AwsStack(template, environment, Client(gateway), functions)
        reset_caches()
    # Nothing cached may outlive the mock.
    os.environ.pop("AWS_ENDPOINT_URL", None)


@pytest.fixture
def api(aws: AwsStack) -> Iterator[Any]:
    """A CRM-facing API client with its own key (tests/integration/crm_api_helpers.py)."""
    from ringbridge.web import forget_api_keys
    from tests.integration.crm_api_helpers import new_api

    yield new_api(aws)
    forget_api_keys()
