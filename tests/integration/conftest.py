"""Integration tests: the real handlers, routed by template.yaml, against moto in-process."""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3
import pytest
from moto import mock_aws
from werkzeug.test import Client, TestResponse

from local.gateway import Gateway
from local.poller import QueuePoller
from local.resources import create_resources, function_environment
from local.runtime import LocalFunction, add_layers_to_path, load_module, reset_function_state
from local.stack import DEFAULT_SECRETS
from local.template import Template, load_template
from tests.contract import KEYCRM, NETHUNT, assert_keeps_contract
from tests.fakes import keycrm as keycrm_fake
from tests.fakes import nethunt as nethunt_fake
from tests.integration.backends import UNKNOWN_OPERATION

WEBHOOK_TOKEN = DEFAULT_SECRETS["WEBHOOK_TOKEN"]
ADMIN_TOKEN = DEFAULT_SECRETS["ADMIN_TOKEN"]
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _refuse_scan(**_: Any) -> None:
    raise AssertionError("a DynamoDB Scan on a request path: use a key or an index")


# Template parameters for tests: retry a failed CRM sync at once instead of after 5 s.
TEST_PARAMETERS = {"RetryBaseSeconds": "0"}


@cache
def _parsed_template() -> Template:
    return load_template()


def fresh_template() -> Template:
    """template.yaml, parsed once per test process (YAML parsing is most of a test's setup); a copy per test."""
    return Template(copy.deepcopy(_parsed_template().raw))


@dataclass
class AwsStack:
    template: Template
    environment: dict[str, str]
    http: Client
    functions: dict[str, LocalFunction]
    attributes: dict[str, dict[str, str]]

    def poller(self) -> QueuePoller:
        worker = next(f for f in self.functions.values() if f.spec.sqs_triggers)
        trigger = worker.spec.sqs_triggers[0]
        queue = self.attributes[trigger.queue]
        return QueuePoller(self.sqs, queue["QueueUrl"], queue["Arn"], trigger, worker)

    def drain(self, rounds: int = 50) -> int:
        """Feed the queue to the worker as Lambda would until it is empty; return messages handled."""
        poller, handled = self.poller(), 0
        for _ in range(rounds):
            batch = poller.poll_once(wait_seconds=0)
            if batch == 0 and self.queue_depth("CallQueue") == 0:
                break
            handled += batch
        return handled

    def queue_depth(self, logical_id: str) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.attributes[logical_id]["QueueUrl"],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def items(self, logical_id: str) -> list[dict[str, Any]]:
        """Every item of a table (tests only: request paths never Scan)."""
        from ringbridge.storage.aws import from_item

        pages = self.dynamodb.get_paginator("scan").paginate(TableName=self.environment_table(logical_id))
        return [from_item(item) for page in pages for item in page["Items"]]

    def wipe(self) -> None:
        """Empty every table and queue: a second, independent run in the same test."""
        for logical_id, properties in self.template.tables.items():
            keys = [key["AttributeName"] for key in properties["KeySchema"]]
            table = self.environment_table(logical_id)
            for page in self.dynamodb.get_paginator("scan").paginate(TableName=table):
                for item in page["Items"]:
                    self.dynamodb.delete_item(TableName=table, Key={key: item[key] for key in keys})
        for logical_id in self.template.queues:
            self.sqs.purge_queue(QueueUrl=self.attributes[logical_id]["QueueUrl"])

    def environment_table(self, logical_id: str) -> str:
        return self.attributes[logical_id]["Ref"]

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


@pytest.fixture(scope="session")
def dynamodb_endpoint(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """Where the tests' DynamoDB is: None for moto in-process; dynalite's URL with ``--dynamodb=dynalite``
    (one dynalite per test process, so per pytest-xdist worker)."""
    if request.config.getoption("dynamodb") != "dynalite":
        yield None
        return
    from tests.dynalite.server import running_dynalite

    with running_dynalite() as url:
        yield url


def _drop_tables(dynamodb: Any) -> None:
    """dynalite keeps tables for the whole session: each test starts without any."""
    names = [name for page in dynamodb.get_paginator("list_tables").paginate() for name in page["TableNames"]]
    for name in names:
        dynamodb.delete_table(TableName=name)
    deadline = time.monotonic() + 10
    while names and time.monotonic() < deadline:
        names = [name for page in dynamodb.get_paginator("list_tables").paginate() for name in page["TableNames"]]
        if names:
            time.sleep(0.01)
    assert not names, f"tables not deleted: {names}"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest, dynamodb_endpoint: str | None) -> Iterator[AwsStack]:
    """The template's tables, queues and secrets, new for each test, and the handlers routed by it.

    SQS and SSM are moto's in-process mock; DynamoDB is too, or dynalite with ``--dynamodb=dynalite``
    (moto lets requests to another endpoint through; boto3 takes it from AWS_ENDPOINT_URL_DYNAMODB).
    """
    # `@pytest.mark.template_parameters(Crm="keycrm", …)` runs a test's stack with other parameters.
    marker = request.node.get_closest_marker("template_parameters")
    parameters = {**TEST_PARAMETERS, **(marker.kwargs if marker else {})}
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
    if dynamodb_endpoint is None:
        monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    else:
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_endpoint)
    template = fresh_template()
    with mock_aws():
        reset_function_state()
        if dynamodb_endpoint is not None:
            _drop_tables(boto3.client("dynamodb"))
        # No request path may Scan: any Scan by ringbridge's clients fails the test (tests' own reads
        # use boto3's default session and are not counted).
        from ringbridge.storage.aws import _session

        _session().events.register("before-call.dynamodb.Scan", _refuse_scan, unique_id="ringbridge-no-scan")
        # What the code under test asked of DynamoDB that this DynamoDB does not implement.
        unsupported: list[str] = []

        def note_unsupported(model: Any, parsed: dict[str, Any], **_: Any) -> None:
            if parsed.get("Error", {}).get("Code") == UNKNOWN_OPERATION:
                unsupported.append(model.name)

        _session().events.register("after-call.dynamodb", note_unsupported, unique_id="ringbridge-unsupported")
        attributes = create_resources(
            template,
            boto3.client("dynamodb"),
            boto3.client("sqs"),
            parameters,
            tolerate_unsupported=dynamodb_endpoint is not None,
        )
        environment = function_environment(template, attributes, parameters)
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
        yield AwsStack(template, environment, Client(gateway), functions, attributes)
        reset_function_state()
        _session().events.unregister("before-call.dynamodb.Scan", unique_id="ringbridge-no-scan")
        _session().events.unregister("after-call.dynamodb", unique_id="ringbridge-unsupported")
    # Nothing cached may outlive the mock.
    os.environ.pop("AWS_ENDPOINT_URL", None)
    if unsupported:
        pytest.fail(
            f"this DynamoDB does not implement {', '.join(sorted(set(unsupported)))}, which the test's code called: "
            "mark the test moto_only (tests/integration/backends.py)"
        )


@pytest.fixture
def api(aws: AwsStack) -> Iterator[Any]:
    """A CRM-facing API client with its own key (tests/integration/crm_api_helpers.py)."""
    from ringbridge.web import forget_api_keys
    from tests.integration.crm_api_helpers import new_api

    yield new_api(aws)
    forget_api_keys()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The shared CRM rate limit's figures (tests/integration/test_crm_rate_limit.py), when it ran."""
    import sys

    module = sys.modules.get("tests.integration.test_crm_rate_limit")
    figures = getattr(module, "FIGURES", None)
    if figures:
        terminalreporter.write_sep("-", "CRM rate limit shared by all workers")
        for line in figures:
            terminalreporter.write_line(line)


# ------------------------------------------------------------ the CRM fakes behind the stack
# ``keycrm`` / ``nethunt``: a strict fake the stack's functions talk to, its contract checked at the end.
# A module that wants a fake not wired to the stack defines a fixture of the same name (pytest's override).
# The CRM key the stack puts in SSM (the CrmApiKeyParam parameter's value in moto).
CRM_KEY = "test-crm_api_key_param"
KEYCRM_STACK = {"Crm": "keycrm", "FunnelId": "1", "KeycrmSourceId": "7"}
NETHUNT_STACK = {
    "Crm": "nethunt",
    "NethuntEmail": nethunt_fake.EMAIL,
    "NethuntContactsFolderId": nethunt_fake.CONTACTS,
    "NethuntDealsFolderId": nethunt_fake.DEALS,
    "NethuntTasksFolderId": nethunt_fake.TASKS,
    "NethuntResponsibleField": "Responsible",
}


def use_crm(monkeypatch: pytest.MonkeyPatch, base_url: str) -> None:
    monkeypatch.setenv("CRM_BASE_URL", base_url)
    reset_function_state()  # a new container reads the CRM's URL


@pytest.fixture
def keycrm(aws: AwsStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[keycrm_fake.FakeKeyCrm]:
    fake = keycrm_fake.FakeKeyCrm(api_key=CRM_KEY)
    fake.start()
    use_crm(monkeypatch, f"{fake.url}/v1")
    try:
        yield fake
    finally:
        fake.stop()
    assert_keeps_contract(KEYCRM, fake.exchanges)


@pytest.fixture
def nethunt(aws: AwsStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[nethunt_fake.FakeNetHunt]:
    fake = nethunt_fake.FakeNetHunt(api_key=CRM_KEY)
    fake.start()
    use_crm(monkeypatch, f"{fake.url}{nethunt_fake.PREFIX}")
    try:
        yield fake
    finally:
        fake.stop()
    assert_keeps_contract(NETHUNT, fake.exchanges)
