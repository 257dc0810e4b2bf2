"""``crm check`` (C3): ``GET /admin/crm/check`` and ``python -m ringbridge.cli crm check`` against the CRM fakes.

The real admin handler, routed by template.yaml, reads the fake KeyCRM or NetHunt with the
stack's settings; every request it sends and every answer it gets keeps the CRM's contract.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from local.runtime import reset_function_state
from ringbridge import cli
from ringbridge.crm import KeyCrmConfig, RateSettings, build_keycrm
from ringbridge.crm.checks import KeyCrmCheck
from ringbridge.domain.rules import SyncRules
from tests.fakes import FakeClock
from tests.fakes import keycrm as keycrm_fake
from tests.fakes import nethunt as nethunt_fake
from tests.fakes.pipeline import ANNA, PIOTR
from tests.integration.conftest import KEYCRM_STACK, NETHUNT_STACK, WEBHOOK_TOKEN, AwsStack, use_crm
from tests.integration.test_crm_contacts import employees
from tests.integration.test_openapi import check as keeps_document
from tests.integration.test_openapi import document


def check(aws: AwsStack) -> dict[str, Any]:
    response = aws.admin("GET", "/admin/crm/check")
    assert response.status_code == 200, response.json  # a failed check is a finding, never an HTTP error
    answer: dict[str, Any] = response.json
    keeps_document(document(), "GET", "/admin/crm/check", 200, answer)  # the OpenAPI document's CrmCheck
    return answer


def by_check(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {finding["check"]: finding for finding in answer["findings"]}


def failed(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: finding for name, finding in by_check(answer).items() if not finding["ok"]}


def test_c3_the_builtin_store_answers_ok_with_nothing_to_check(aws: AwsStack) -> None:
    answer = check(aws)
    assert (answer["crm"], answer["ok"], answer["findings"]) == ("builtin", True, [])
    assert "nothing to check" in answer["message"]


def test_c3_the_check_is_an_admin_route_the_security_walk_covers(aws: AwsStack) -> None:
    """test_security.py walks every route of template.yaml; this one is there, on the admin function."""
    [route] = [r for r in aws.template.routes() if r.route_key == "GET /admin/crm/check"]
    assert route.function == "AdminFunction"
    assert aws.http.get("/admin/crm/check").status_code == 401
    assert aws.http.get("/admin/crm/check", query_string={"token": WEBHOOK_TOKEN}).status_code == 401
    assert aws.http.get("/admin/crm/check", headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"}).status_code == 401


# ---------------------------------------------------------------- KeyCRM


@pytest.mark.template_parameters(**KEYCRM_STACK)
def test_c3_keycrm_a_good_configuration_is_ok_and_only_read(aws: AwsStack, keycrm: keycrm_fake.FakeKeyCrm) -> None:
    employees(aws, anna="1", piotr="2")
    answer = check(aws)
    assert answer["ok"] is True, failed(answer)
    assert failed(answer) == {}
    found = by_check(answer)
    assert found["funnel"]["found"] == {"FunnelId": "1", "name": "Sales"}
    assert found["funnel statuses"]["found"]["open"] == [11, 12]
    assert found["source"]["found"] == {"KeycrmSourceId": 7}
    assert found["manager of anna"]["found"]["user"] == "Anna Nowak"
    assert {e.method for e in keycrm.exchanges} == {"GET"}  # nothing written
    paths = {e.path for e in keycrm.exchanges}
    assert paths == {"/v1/pipelines", "/v1/pipelines/1/statuses", "/v1/order/source", "/v1/users"}


@pytest.mark.template_parameters(Crm="keycrm", FunnelId="9", KeycrmSourceId="99")
def test_c3_keycrm_a_missing_funnel_an_unknown_source_an_unknown_manager_and_field_each_name_their_fix(
    aws: AwsStack, keycrm: keycrm_fake.FakeKeyCrm, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEYCRM_BUYER_FIELD_UTM_SOURCE", "CT_404")
    reset_function_state()  # a new container reads the variable
    employees(aws, anna="42", piotr="2")
    answer = check(aws)
    assert answer["ok"] is False
    problems = failed(answer)
    assert set(problems) == {"funnel", "source", "manager of anna", "buyer field KEYCRM_BUYER_FIELD_UTM_SOURCE"}
    assert "FunnelId" in problems["funnel"]["fix"] and "1 (Sales), 2 (Service)" in problems["funnel"]["fix"]
    assert "KeycrmSourceId" in problems["source"]["fix"] and "7 (Ringostat)" in problems["source"]["fix"]
    assert problems["manager of anna"]["found"] == "42"
    manager_fix = problems["manager of anna"]["fix"]
    assert "/admin/employees/anna" in manager_fix and "1 (Anna Nowak)" in manager_fix
    field = problems["buyer field KEYCRM_BUYER_FIELD_UTM_SOURCE"]
    assert field["found"] == {"uuid": "CT_404"} and "CT_2 (UTM source)" in field["fix"]
    assert all(finding["severity"] == "error" for finding in problems.values())
    assert answer["errors"] == 4


@pytest.mark.template_parameters(**KEYCRM_STACK)
def test_c3_keycrm_a_refused_key_is_one_finding_naming_the_key_parameter(aws: AwsStack, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = keycrm_fake.FakeKeyCrm(api_key="another-key")
    with fake:
        use_crm(monkeypatch, f"{fake.url}/v1")
        answer = check(aws)
    assert answer["ok"] is False
    [finding] = answer["findings"]
    assert finding["check"] == "api key" and "CrmApiKeyParameter" in finding["fix"] and "401" in finding["found"]
    assert len(fake.exchanges) == 1  # the other checks would be refused the same way: not sent


@pytest.mark.template_parameters(**KEYCRM_STACK)
def test_c3_keycrm_the_check_waits_out_a_429_as_the_sync_does(aws: AwsStack, keycrm: keycrm_fake.FakeKeyCrm) -> None:
    keycrm.throttle_next(1, retry_after=0)
    answer = check(aws)
    assert answer["ok"] is True, failed(answer)
    assert [e.status for e in keycrm.exchanges[:2]] == [429, 200]


def test_c3_keycrm_the_check_goes_through_the_clients_rate_limit() -> None:
    """The check's requests take slots of the same rate limit as the sync's (KEYCRM_REQUESTS_PER_MINUTE)."""
    clock = FakeClock()
    with keycrm_fake.FakeKeyCrm(monotonic=clock.monotonic) as fake:
        config = KeyCrmConfig(base_url=f"{fake.url}/v1", pipeline_id=1, source_id=7, requests_per_minute=2)
        crm = build_keycrm(keycrm_fake.API_KEY, config, clock=clock, rate=RateSettings(margin=0.0, max_wait=45.0))
        findings = KeyCrmCheck(crm, SyncRules()).findings([ANNA, PIOTR])
    assert all(finding.ok for finding in findings)
    assert len(fake.exchanges) == 4
    sent = [exchange.at for exchange in fake.exchanges]
    assert [b - a for a, b in itertools.pairwise(sent)] == [30.0, 30.0, 30.0]  # 2 a minute: one slot every 30 s


@pytest.mark.template_parameters(Crm="keycrm", FunnelId="9", KeycrmSourceId="7")
def test_c3_cli_crm_check_prints_the_findings_and_fails_on_an_error(
    aws: AwsStack, keycrm: keycrm_fake.FakeKeyCrm, capsys: pytest.CaptureFixture[str]
) -> None:
    employees(aws, anna="1", piotr="2")
    assert cli.main(["crm", "check"]) == 1
    answer = json.loads(capsys.readouterr().out)
    assert answer["crm"] == "keycrm" and answer["ok"] is False
    assert set(failed(answer)) == {"funnel"}


@pytest.mark.template_parameters(**KEYCRM_STACK)
def test_c3_cli_crm_check_exits_0_on_a_good_configuration(
    aws: AwsStack, keycrm: keycrm_fake.FakeKeyCrm, capsys: pytest.CaptureFixture[str]
) -> None:
    employees(aws, anna="1", piotr="2")
    assert cli.main(["crm", "check"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True


# ---------------------------------------------------------------- NetHunt


@pytest.mark.template_parameters(**NETHUNT_STACK)
def test_c3_nethunt_a_good_configuration_is_ok_and_says_the_managers_cannot_be_listed(
    aws: AwsStack, nethunt: nethunt_fake.FakeNetHunt
) -> None:
    employees(aws, anna=nethunt_fake.ANNA_EMAIL, piotr=nethunt_fake.PIOTR_EMAIL)
    answer = check(aws)
    assert answer["ok"] is True, failed(answer)
    problems = failed(answer)
    assert set(problems) == {"managers' e-mails"}
    assert problems["managers' e-mails"]["severity"] == "warning" and "cannot be checked" in problems["managers' e-mails"]["fix"]
    found = by_check(answer)
    assert found["contacts folder"]["found"] == {"NethuntContactsFolderId": nethunt_fake.CONTACTS, "name": "Contacts"}
    assert "Responsible" in found["contacts fields"]["found"]
    assert {e.method for e in nethunt.exchanges} == {"GET"}


@pytest.mark.template_parameters(**{**NETHUNT_STACK, "NethuntTasksFolderId": "no-such-folder"})
def test_c3_nethunt_a_missing_field_a_missing_folder_and_a_manager_without_an_e_mail_each_name_their_fix(
    aws: AwsStack, nethunt: nethunt_fake.FakeNetHunt
) -> None:
    del nethunt.folders[nethunt_fake.DEALS]["fields"]["Phone"]
    del nethunt.folders[nethunt_fake.CONTACTS]["fields"]["Kanał"]
    employees(aws, anna="17", piotr=nethunt_fake.PIOTR_EMAIL)
    answer = check(aws)
    assert answer["ok"] is False
    problems = failed(answer)
    assert set(problems) == {"deals field Phone", "contacts field Kanał", "tasks folder", "manager of anna", "managers' e-mails"}
    phone = problems["deals field Phone"]
    assert phone["severity"] == "error" and "NETHUNT_FIELD_PHONE" in phone["fix"] and "Stage" in phone["fix"]
    medium = problems["contacts field Kanał"]
    assert medium["severity"] == "warning" and "NETHUNT_FIELD_UTM_MEDIUM" in medium["fix"]
    tasks = problems["tasks folder"]
    assert tasks["found"] == {"NethuntTasksFolderId": "no-such-folder"} and "tasks-folder (Tasks)" in tasks["fix"]
    assert problems["manager of anna"]["found"] == "17" and "e-mail" in problems["manager of anna"]["fix"]
    assert answer["errors"] == 3 and answer["warnings"] == 2


def test_c3_every_function_that_talks_to_the_crm_sees_the_same_crm_settings() -> None:
    """The check (AdminFunction) must read what the sync reads, and the shared rate budget is only
    shared when every function counts with the same limit: the CRM's variables (``CRM``, the key,
    ``CRM_BASE_URL``, ``KEYCRM_*``, ``NETHUNT_*``, ``CRM_RATE_*``) are alike in each of them."""
    from local.template import load_template

    def crm_variables(environment: dict[str, Any]) -> dict[str, str]:
        names = ("CRM", "CRM_API_KEY_PARAM", "CRM_BASE_URL")
        return {
            name: json.dumps(value, sort_keys=True)
            for name, value in environment.items()
            if name in names or name.startswith(("KEYCRM_", "NETHUNT_", "CRM_RATE_"))
        }

    functions = {spec.logical_id: spec for spec in load_template().functions()}
    sync = crm_variables(functions["CrmSyncFunction"].environment)
    assert {"CRM", "CRM_API_KEY_PARAM", "KEYCRM_PIPELINE_ID", "NETHUNT_DEALS_FOLDER_ID"} <= set(sync)
    for logical_id in ("AdminFunction", "CrmContactsFunction"):
        assert crm_variables(functions[logical_id].environment) == sync, logical_id
