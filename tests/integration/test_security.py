"""Issue 6: security and deploy hygiene.

Every route of template.yaml refuses a caller without the right secret; the template keeps
encryption, backups, alarms, access logs without query strings, log retention and
least-privilege IAM; the webhook secret never reaches a log line or a stored record.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from werkzeug.test import Client

from local.gateway import Gateway
from local.template import HttpRoute, Template, load_template
from ringbridge.secrets import reset_secrets
from tests.integration.conftest import ADMIN_TOKEN, WEBHOOK_TOKEN, AwsStack

# Functions behind the HTTP API: a request must never make them Scan a table.
REQUEST_PATH_FUNCTIONS = {
    "RoutingFunction",
    "CallEventsFunction",
    "RecordingsFunction",
    "CrmApiFunction",
    "AdminFunction",
    "CrmContactsFunction",
    "ReconcileFunction",
}
# SAM policy templates that grant dynamodb:Scan (and more than a function needs).
SCANNING_POLICY_TEMPLATES = {"DynamoDBCrudPolicy", "DynamoDBReadPolicy", "DynamoDBReconfigurePolicy", "DynamoDBWritePolicy"}

DUMMY_PATH_PARAMETERS = {
    "phone": "+48221234567",
    "call_id": "call-1",
    "employee_id": "anna",
    "key_id": "0" * 64,
}


def aws_ssm() -> Any:
    return boto3.client("ssm")


def concrete_path(route: HttpRoute) -> str:
    def value(match: re.Match[str]) -> str:
        return DUMMY_PATH_PARAMETERS.get(match.group(1), "x1")

    return re.sub(r"\{(\w+)\+?\}", value, route.path)


@pytest.fixture(scope="module")
def template() -> Template:
    return load_template()


def resources_of(template: Template, kind: str) -> dict[str, dict[str, Any]]:
    return template.of_type(kind)


def ref(value: Any) -> str | None:
    return value.get("Ref") if isinstance(value, dict) else None


def get_att(value: Any) -> list[str] | None:
    return value.get("Fn::GetAtt") if isinstance(value, dict) else None


# ---------------------------------------------------------------- every route needs its secret
def request(aws: AwsStack, route: HttpRoute, headers: dict[str, str] | None = None, query: dict[str, str] | None = None) -> Any:
    return aws.http.open(concrete_path(route), method=route.method, json={}, headers=headers or {}, query_string=query or {})


def assert_unauthorized(response: Any, what: str) -> None:
    assert response.status_code == 401, f"{what}: {response.status_code} {response.get_data(as_text=True)[:200]}"
    assert response.json == {"message": "unauthorized"}, what


def test_every_route_refuses_a_caller_without_credentials(aws: AwsStack) -> None:
    routes = aws.template.routes()
    http_functions = {
        name
        for name, res in aws.template.of_type("AWS::Serverless::Function").items()
        if any(event["Type"] == "HttpApi" for event in res["Properties"].get("Events", {}).values())
    }
    assert {route.function for route in routes} == http_functions == REQUEST_PATH_FUNCTIONS
    assert all(route.method != "ANY" and "+}" not in route.path for route in routes), "no catch-all routes"
    for route in routes:
        assert_unauthorized(request(aws, route), f"{route.route_key} without credentials")
    # Refused means refused: nothing was stored or queued.
    for table in aws.template.tables:
        assert aws.items(table) == [], table
    assert aws.queue_depth("CallQueue") == 0


WRONG_CREDENTIALS: list[tuple[str, dict[str, str], dict[str, str]]] = [
    ("wrong bearer", {"Authorization": "Bearer wrong-secret"}, {}),
    ("wrong api key", {"X-Api-Key": "rbk_wrong"}, {}),
    ("wrong ?token", {}, {"token": "wrong-secret"}),
    ("wrong ?key", {}, {"key": "rbk_wrong"}),
    ("empty bearer", {"Authorization": "Bearer "}, {}),
    ("basic auth", {"Authorization": "Basic d2Vic2l0ZTpzZWNyZXQ="}, {}),
    ("the secret without a scheme", {"Authorization": WEBHOOK_TOKEN}, {}),
]


@pytest.mark.parametrize(("what", "headers", "query"), WRONG_CREDENTIALS, ids=[w[0] for w in WRONG_CREDENTIALS])
def test_every_route_refuses_wrong_credentials(aws: AwsStack, what: str, headers: dict[str, str], query: dict[str, str]) -> None:
    for route in aws.template.routes():
        assert_unauthorized(request(aws, route, headers, query), f"{route.route_key} with {what}")


def test_a_secret_opens_only_its_own_routes(aws: AwsStack, api: Any) -> None:
    """The webhook secret, the admin secret and a CRM API key are three separate doors."""
    credentials = {
        "webhook": [({"Authorization": f"Bearer {WEBHOOK_TOKEN}"}, {}), ({}, {"token": WEBHOOK_TOKEN})],
        "admin": [({"Authorization": f"Bearer {ADMIN_TOKEN}"}, {}), ({}, {"token": ADMIN_TOKEN})],
        "api": [({"X-Api-Key": api.key}, {}), ({"Authorization": f"Bearer {api.key}"}, {}), ({}, {"key": api.key})],
    }
    kind_of = {
        "RoutingFunction": "webhook",
        "CallEventsFunction": "webhook",
        "RecordingsFunction": "webhook",
        "AdminFunction": "admin",
        "ReconcileFunction": "admin",
        "CrmContactsFunction": "admin",
        "CrmApiFunction": "api",
    }
    for route in aws.template.routes():
        own = kind_of[route.function]
        for kind, variants in credentials.items():
            for headers, query in variants:
                response = request(aws, route, headers, query)
                what = f"{route.route_key} with the {kind} credential {headers or query}"
                if kind != own:
                    assert_unauthorized(response, what)
                elif route.function in ("AdminFunction", "ReconcileFunction", "CrmContactsFunction") and query:
                    assert_unauthorized(response, f"{what} (admin takes its secret only as a header)")
                elif route.function == "CrmApiFunction" and query and route.route_key != "GET /":
                    assert_unauthorized(response, f"{what} (?key= is for the page only)")
                else:
                    assert response.status_code != 401, what


# ---------------------------------------------------------------- the template
def test_every_table_is_encrypted_and_backed_up(template: Template) -> None:
    assert template.tables
    for name, props in template.tables.items():
        assert props.get("SSESpecification", {}).get("SSEEnabled") is True, name
        assert props.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled") is True, name


def test_every_queue_is_encrypted_and_the_call_queue_drains_to_the_dlq(template: Template) -> None:
    assert set(template.queues) >= {"CallQueue", "CallDeadLetterQueue"}
    for name, props in template.queues.items():
        assert props.get("SqsManagedSseEnabled") is True or props.get("KmsMasterKeyId"), name
    redrive = template.queues["CallQueue"]["RedrivePolicy"]
    assert get_att(redrive["deadLetterTargetArn"]) == ["CallDeadLetterQueue", "Arn"]
    assert ref(redrive["maxReceiveCount"]) == "MaxReceiveCount"


def alarm_metrics(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    """The metrics an alarm watches: its single metric, or every MetricStat of its metric math."""
    props = alarm["Properties"]
    if "MetricName" in props:
        return [{"Namespace": props["Namespace"], "MetricName": props["MetricName"], "Dimensions": props.get("Dimensions", [])}]
    return [query["MetricStat"]["Metric"] for query in props.get("Metrics", []) if "MetricStat" in query]


def notifies_the_alarm_topic(alarm: dict[str, Any], template: Template) -> bool:
    topics = resources_of(template, "AWS::SNS::Topic")
    return any(ref(action) in topics for action in alarm["Properties"].get("AlarmActions", []))


def test_dead_letter_queue_depth_raises_an_alarm(template: Template) -> None:
    alarms = resources_of(template, "AWS::CloudWatch::Alarm")
    matching = [
        alarm
        for alarm in alarms.values()
        if any(
            metric["Namespace"] == "AWS/SQS"
            and metric["MetricName"] == "ApproximateNumberOfMessagesVisible"
            and any(get_att(d["Value"]) == ["CallDeadLetterQueue", "QueueName"] for d in metric["Dimensions"])
            for metric in alarm_metrics(alarm)
        )
    ]
    assert len(matching) == 1
    props = matching[0]["Properties"]
    assert (props["ComparisonOperator"], props["Threshold"]) == ("GreaterThanThreshold", 0)
    assert notifies_the_alarm_topic(matching[0], template)


def test_errors_raise_alarms(template: Template) -> None:
    alarms = resources_of(template, "AWS::CloudWatch::Alarm")
    functions = set(resources_of(template, "AWS::Serverless::Function"))
    watched_functions = {
        ref(dimension["Value"])
        for alarm in alarms.values()
        if notifies_the_alarm_topic(alarm, template)
        for metric in alarm_metrics(alarm)
        if (metric["Namespace"], metric["MetricName"]) == ("AWS/Lambda", "Errors")
        for dimension in metric["Dimensions"]
        if dimension["Name"] == "FunctionName"
    }
    assert watched_functions == functions
    api_5xx = [
        alarm
        for alarm in alarms.values()
        for metric in alarm_metrics(alarm)
        if (metric["Namespace"], metric["MetricName"]) == ("AWS/ApiGateway", "5xx")
        and {"Name": "ApiId", "Value": {"Ref": "HttpApi"}} in metric["Dimensions"]
    ]
    assert api_5xx and all(notifies_the_alarm_topic(alarm, template) for alarm in api_5xx)


def test_alarm_email_is_optional(template: Template) -> None:
    assert template.raw["Parameters"]["AlarmEmail"]["Default"] == ""
    subscriptions = resources_of(template, "AWS::SNS::Subscription")
    assert subscriptions and all(sub.get("Condition") == "HasAlarmEmail" for sub in subscriptions.values())
    assert {ref(sub["Properties"]["Endpoint"]) for sub in subscriptions.values()} == {"AlarmEmail"}


def log_group_retention(template: Template, logical_id: str) -> Any:
    group = resources_of(template, "AWS::Logs::LogGroup")[logical_id]
    return group["Properties"].get("RetentionInDays")


def test_http_api_access_log_has_no_query_string(template: Template) -> None:
    settings = template.resources["HttpApi"]["Properties"]["AccessLogSettings"]
    (group, attribute) = get_att(settings["DestinationArn"]) or ["", ""]
    assert attribute == "Arn"
    assert log_group_retention(template, group) is not None
    log_format = settings["Format"]
    fields = json.loads(log_format)  # one JSON object per request
    assert fields["routeKey"] == "$context.routeKey"
    variables = set(re.findall(r"\$[\w.]+", log_format))
    for variable in variables:
        assert variable.startswith("$context."), variable
        lowered = variable.lower()
        # The webhook secret travels in ?token=; paths carry phone numbers.
        assert not any(word in lowered for word in ("query", "requestoverride", "path", "uri", "url", "authorizer")), variable


def test_every_function_logs_to_a_group_with_retention(template: Template) -> None:
    groups = resources_of(template, "AWS::Logs::LogGroup")
    named = {group["Properties"]["LogGroupName"].get("Fn::Sub"): name for name, group in groups.items()}
    for function in resources_of(template, "AWS::Serverless::Function"):
        group = named.get(f"/aws/lambda/${{{function}}}")
        assert group is not None, f"{function} has no log group"
        assert ref(log_group_retention(template, group)) == "LogRetentionDays", function
    assert int(template.raw["Parameters"]["LogRetentionDays"]["Default"]) <= 365


def function_policies(template: Template) -> Iterator[tuple[str, Any]]:
    for name, res in resources_of(template, "AWS::Serverless::Function").items():
        for policy in res["Properties"].get("Policies", []):
            yield name, policy


def statements(policy: Any) -> list[dict[str, Any]]:
    return list(policy.get("Statement", [])) if isinstance(policy, dict) else []


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_iam_is_least_privilege(template: Template) -> None:
    for function, policy in function_policies(template):
        # No managed policies by name and no SAM template that grants a Scan; other SAM templates are scoped.
        assert isinstance(policy, dict), f"{function}: managed policy {policy!r}"
        assert not SCANNING_POLICY_TEMPLATES & set(policy), f"{function}: {set(policy)}"
        for statement in statements(policy):
            assert statement["Effect"] == "Allow"
            for action in as_list(statement["Action"]):
                assert action != "*" and not action.endswith(":*"), f"{function}: {action}"
                assert action != "dynamodb:Scan", f"{function} may Scan"
            for resource in as_list(statement["Resource"]):
                assert resource != "*", f"{function}: Resource *"


def test_no_scan_for_request_path_functions(template: Template) -> None:
    granted: dict[str, set[str]] = {}
    for function, policy in function_policies(template):
        for statement in statements(policy):
            granted.setdefault(function, set()).update(as_list(statement["Action"]))
        if function in REQUEST_PATH_FUNCTIONS:
            assert not SCANNING_POLICY_TEMPLATES & set(policy), function
    assert set(granted) >= REQUEST_PATH_FUNCTIONS
    for function, actions in granted.items():
        assert not {"dynamodb:Scan", "dynamodb:*", "*"} & actions, function


def camel_words(name: str) -> set[str]:
    return {word.lower() for word in re.findall(r"[A-Z][a-z]*|[a-z]+|\d+", name)}


SECRET_WORDS = {"token", "secret", "password", "key", "auth", "credential", "credentials"}


def looks_secret(value: str) -> bool:
    """A run of 20+ characters of a key alphabet, with letters and digits: a pasted secret."""
    return any(re.search(r"[A-Za-z]", run) and re.search(r"\d", run) for run in re.findall(r"[A-Za-z0-9+/=_]{20,}", value))


def test_secret_parameters_default_to_ssm_names_not_secrets(template: Template) -> None:
    secret_parameters = {name: spec for name, spec in template.raw["Parameters"].items() if SECRET_WORDS & camel_words(name)}
    assert {"WebhookTokenParameter", "AdminTokenParameter", "RingostatAuthKeyParameter", "CrmApiKeyParameter"} <= set(
        secret_parameters
    )
    for name, spec in secret_parameters.items():
        assert name.endswith("Parameter"), f"{name}: a secret is passed by its SSM name, never by value"
        assert spec.get("NoEcho") or "Default" in spec
        default = str(spec.get("Default", ""))
        assert re.fullmatch(r"[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)+", default), f"{name}: {default!r} is not an SSM name"
        assert not looks_secret(default), name
    assert not looks_secret("ringbridge/dev/ringostat-auth-key")
    assert looks_secret("sk_live_4eC39HqLyjWDarjtT1zdp7dc")


def test_environment_holds_names_of_secrets_only(template: Template) -> None:
    globals_env = template.raw["Globals"]["Function"]["Environment"]["Variables"]
    for spec in template.functions():
        for key, value in {**globals_env, **spec.environment}.items():
            if {"token", "secret", "password", "key"} & set(key.lower().split("_")):
                assert key.endswith("_PARAM"), f"{spec.logical_id}: {key}"
            if isinstance(value, str):
                assert not looks_secret(value), f"{spec.logical_id}: {key}"
            # Debug switches that print whole events (with ?token=) into the log stay off.
            assert key not in {"POWERTOOLS_DEV", "POWERTOOLS_EVENT_HANDLER_DEBUG", "POWERTOOLS_LOGGER_LOG_EVENT"}, key


# ---------------------------------------------------------------- the webhook secret stays out of logs
@pytest.fixture
def all_logs(capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> Iterator[Any]:
    """Everything written while the test runs: ringbridge's logger at DEBUG, other loggers, stdout/stderr."""
    from ringbridge.observability import logger

    caplog.set_level(logging.INFO)
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setFormatter(logger.registered_formatter)
    previous_level = logger.log_level
    logger.addHandler(handler)
    logger.setLevel("DEBUG")

    def text() -> str:
        out, err = capfd.readouterr()
        return "\n".join([captured.getvalue(), caplog.text, out, err])

    try:
        yield text
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous_level)


def test_the_webhook_token_never_reaches_a_log_line_or_a_record(aws: AwsStack, all_logs: Any) -> None:
    wrong = "wrong-webhook-secret-0123456789"
    http = aws.http
    # The local gateway's access log mirrors the deployed one (route and status only).
    logged_http = Client(Gateway(aws.functions, aws.template.routes(), access_log=True))
    token = {"token": WEBHOOK_TOKEN}
    event = {"call_id": "sec-1", "direction": "in", "caller": "601500001", "status": "NO ANSWER"}
    for client in (http, logged_http):
        assert client.post("/ringostat/routing", query_string=token, json={"from": "0 12 345 67 89"}).status_code in {200, 404}
        assert client.post("/ringostat/routing", query_string=token, json={"from": "not a number"}).status_code == 400
        assert client.post("/ringostat/routing", query_string={"token": wrong}, json={"from": "601500001"}).status_code == 401
        ok = client.post("/ringostat/events", query_string={**token, "event": "after_call"}, data=event)
        assert ok.status_code == 200, ok.get_data(as_text=True)
        assert (
            client.post("/ringostat/events", query_string={**token, "event": "after_call"}, json={"call_id": ""}).status_code
            == 400
        )
        assert (
            client.post("/ringostat/events", query_string={"token": wrong, "event": "after_call"}, data=event).status_code == 401
        )
        recording = {"call_id": "sec-1", "recording_url": "https://example.com/rec.mp3"}
        assert client.post("/ringostat/recordings", query_string=token, data=recording).status_code == 200
        assert (
            client.post("/ringostat/recordings", headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"}, json={}).status_code == 400
        )
    assert aws.drain() > 0
    # The secrets store failing makes the functions log an exception: still no secret in it.
    aws_ssm().delete_parameter(Name=aws.environment["WEBHOOK_TOKEN_PARAM"])
    reset_secrets()  # a cold container: the next request reads the secret again
    assert logged_http.post("/ringostat/routing", query_string=token, json={"from": "601500001"}).status_code == 503

    text = all_logs()
    assert "POST /ringostat/routing 200" in text or "POST /ringostat/routing 404" in text  # the access log was captured
    assert "routing decision" in text  # so was ringbridge's logger
    assert "secret unavailable" in text
    assert WEBHOOK_TOKEN not in text
    assert wrong not in text
    assert "token=" not in text
    # Nor is it kept: the query string's token is not an event parameter.
    for table in aws.template.tables:
        stored = json.dumps(aws.items(table), default=str)
        assert WEBHOOK_TOKEN not in stored, table
        assert wrong not in stored, table
