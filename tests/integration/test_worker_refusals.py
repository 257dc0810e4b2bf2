"""One refused step never loses a call (F1, T1, L1): the worker against the NetHunt and KeyCRM fakes.

The stack runs with ``Crm=nethunt`` or ``Crm=keycrm`` and the CRM's base URL pointing at its
fake; a configuration the CRM refuses (no deals folder, a funnel that does not exist) must
still write the call, keep the refusal on the call record, and leave the queue empty.
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from tests.fakes import keycrm as keycrm_fake
from tests.fakes import nethunt as nethunt_fake
from tests.integration.conftest import AwsStack
from tests.integration.pipeline_helpers import after_call, send


def use_crm(aws: AwsStack, monkeypatch: pytest.MonkeyPatch, kind: str, api_key: str, **env: str) -> None:
    """Point the stack's worker at a CRM fake, as the template's parameters would."""
    from ringbridge import wiring
    from ringbridge.config import settings
    from ringbridge.secrets import reset_secrets

    for name, value in {"CRM": kind, **env}.items():
        monkeypatch.setenv(name, value)
    boto3.client("ssm").put_parameter(
        Name=aws.environment["CRM_API_KEY_PARAM"], Value=api_key, Type="SecureString", Overwrite=True
    )
    settings.cache_clear()
    wiring.crm.cache_clear()
    reset_secrets()


@pytest.fixture
def nethunt() -> Iterator[nethunt_fake.FakeNetHunt]:
    fake = nethunt_fake.FakeNetHunt()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def keycrm() -> Iterator[keycrm_fake.FakeKeyCrm]:
    fake = keycrm_fake.FakeKeyCrm()
    fake.start()
    yield fake
    fake.stop()


def sync_one(aws: AwsStack, call_id: str, answered: bool = True) -> int:
    send(aws, after_call(call_id, "in", answered))
    handled = aws.drain()
    assert aws.queue_depth("CallQueue") == 0
    assert aws.queue_depth("CallDeadLetterQueue") == 0
    return handled


def failures(aws: AwsStack, call_id: str) -> list[dict[str, str]]:
    response = aws.admin("GET", f"/admin/calls/{call_id}")
    assert response.status_code == 200
    return list(response.json["sync_failures"])


def test_f1_l1_nethunt_without_deals_folder_logs_the_call_and_keeps_the_refusal(
    aws: AwsStack, monkeypatch: pytest.MonkeyPatch, nethunt: nethunt_fake.FakeNetHunt
) -> None:
    use_crm(
        aws,
        monkeypatch,
        "nethunt",
        nethunt_fake.API_KEY,
        CRM_BASE_URL=f"{nethunt.url}{nethunt_fake.PREFIX}",
        NETHUNT_EMAIL=nethunt_fake.EMAIL,
        NETHUNT_CONTACTS_FOLDER_ID=nethunt_fake.CONTACTS,
        NETHUNT_DEALS_FOLDER_ID="",
        NETHUNT_TASKS_FOLDER_ID=nethunt_fake.TASKS,
        FUNNEL_ENABLED="true",
    )
    assert sync_one(aws, "nh-1") == 1  # handled once: the refusal does not send it round the queue
    assert len(nethunt.call_logs) == 1
    assert len([r for r in nethunt.records.values() if r["folderId"] == nethunt_fake.CONTACTS]) == 1
    [failure] = failures(aws, "nh-1")
    assert failure["step"] == "card" and "NETHUNT_DEALS_FOLDER_ID" in failure["reason"]


def test_f1_t1_keycrm_with_a_missing_funnel_writes_the_call_and_the_task_step_runs(
    aws: AwsStack, monkeypatch: pytest.MonkeyPatch, keycrm: keycrm_fake.FakeKeyCrm
) -> None:
    use_crm(
        aws,
        monkeypatch,
        "keycrm",
        keycrm_fake.API_KEY,
        CRM_BASE_URL=f"{keycrm.url}/v1",
        FUNNEL_ID="999",
        KEYCRM_PIPELINE_ID="999",
    )
    assert sync_one(aws, "kc-1") == 1
    buyers = list(keycrm.buyers.values())
    assert len(buyers) == 1
    assert "Ringostat call kc-1;" in buyers[0]["note"]  # the call line
    steps = [failure["step"] for failure in failures(aws, "kc-1")]
    assert steps == ["card"]


def test_l1_a_transient_outage_still_ends_in_the_dlq(
    aws: AwsStack, monkeypatch: pytest.MonkeyPatch, nethunt: nethunt_fake.FakeNetHunt
) -> None:
    use_crm(
        aws,
        monkeypatch,
        "nethunt",
        nethunt_fake.API_KEY,
        CRM_BASE_URL=f"{nethunt.url}{nethunt_fake.PREFIX}",
        NETHUNT_EMAIL=nethunt_fake.EMAIL,
        NETHUNT_CONTACTS_FOLDER_ID=nethunt_fake.CONTACTS,
        NETHUNT_DEALS_FOLDER_ID=nethunt_fake.DEALS,
    )
    nethunt.failing = True
    send(aws, after_call("nh-down", "in", True))
    aws.drain()
    assert aws.queue_depth("CallDeadLetterQueue") == 1
    assert failures(aws, "nh-down") == []
