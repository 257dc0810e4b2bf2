"""Ringostat both ways (C2, L1, X1) through the real handlers, against the strict Ringostat fake."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from local.ringostat_fake import RingostatFake
from local.stack import DEMO_STAFF, LocalStack
from tests.integration.conftest import AwsStack

AUTH_KEY = "test-ringostat_auth_key_param"  # the test secrets (conftest): test-<variable>
PROJECT_ID = "test-ringostat_project_id_param"


@pytest.fixture
def ringostat(aws: AwsStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[RingostatFake]:
    from ringbridge.config import settings

    with RingostatFake(auth_key=AUTH_KEY, project_id=PROJECT_ID) as fake:
        monkeypatch.setenv("RINGOSTAT_API_URL", fake.url)
        monkeypatch.setenv("RINGOSTAT_TIMEOUT_MS", "2000")
        settings.cache_clear()
        yield fake
    settings.cache_clear()


def staff(staff_id: int, name: str, sip: list[str], numbers: list[str] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    return {
        "staffId": staff_id,
        "fio": name,
        "email": f"{staff_id}@example.com",
        "directions": {
            "main": [{"type": "sip", "direction": account, "isMobile": False} for account in sip],
            "additional": [{"type": "phone", "direction": number, "isMobile": True} for number in numbers],
        },
    }


# ---------------------------------------------------------------- C2: employees from Ringostat
def test_c2_import_creates_a_mapping_per_ringostat_employee(aws: AwsStack, ringostat: RingostatFake) -> None:
    ringostat.staff = [staff(111, "Anna Nowak", ["company_anna"], ["48601234567"]), staff(222, "Piotr", ["company_piotr"])]
    response = aws.admin("POST", "/admin/ringostat/import-employees")
    assert response.status_code == 200
    assert {k: response.json[k] for k in ("read", "created", "updated", "unchanged", "refused")} == {
        "read": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "refused": 0,
    }
    listed = {e["employee_id"]: e for e in aws.admin("GET", "/admin/employees").json["employees"]}
    assert listed["ringostat-111"] == {
        "employee_id": "ringostat-111",
        "name": "Anna Nowak",
        "crm_manager_id": None,
        "ringostat_employee_id": "111",
        "sip_accounts": ["company_anna"],
        "fmc_number": "+48601234567",
    }
    assert aws.admin("GET", "/admin/employees?fmc=%2B48601234567").json["employees"][0]["employee_id"] == "ringostat-111"
    again = aws.admin("POST", "/admin/ringostat/import-employees").json
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)


def test_c2_import_keeps_an_existing_mappings_id_and_crm_manager(aws: AwsStack, ringostat: RingostatFake) -> None:
    aws.admin("PUT", "/admin/employees/anna", json={"name": "Anna", "crm_manager_id": "17", "sip_accounts": ["company_anna"]})
    aws.admin("PUT", "/admin/contacts/%2B48221234567", json={"name": "Biuro", "responsible_employee_id": "anna"})
    ringostat.staff = [staff(111, "Anna Nowak", ["company_anna", "anna_mobile_app"], ["+48 601 234 567"])]
    report = aws.admin("POST", "/admin/ringostat/import-employees").json
    assert report["employees"]["updated"] == ["anna"]
    anna = aws.admin("GET", "/admin/employees/anna").json
    assert (anna["crm_manager_id"], anna["ringostat_employee_id"], anna["name"]) == ("17", "111", "Anna Nowak")
    assert anna["sip_accounts"] == ["company_anna", "anna_mobile_app"]
    # the second run finds her by her Ringostat id
    ringostat.staff = [staff(111, "Anna Nowak", ["company_anna"])]
    assert aws.admin("POST", "/admin/ringostat/import-employees").json["employees"]["updated"] == ["anna"]
    assert aws.admin("GET", "/admin/employees/anna").json["fmc_number"] == "+48601234567"  # kept: Ringostat said nothing


def test_c2_import_refuses_an_identifier_held_by_someone_else_and_goes_on(aws: AwsStack, ringostat: RingostatFake) -> None:
    aws.admin("PUT", "/admin/employees/ola", json={"name": "Ola", "fmc_number": "+48601234567"})
    aws.admin("PUT", "/admin/employees/ewa", json={"name": "Ewa", "sip_accounts": ["company_ewa"]})
    ringostat.staff = [staff(111, "Anna", ["company_ewa2"], ["48601234567"]), staff(333, "Ewa", ["company_ewa"], ["48601234567"])]
    report = aws.admin("POST", "/admin/ringostat/import-employees").json
    # Anna is found by the FMC number Ola holds: Ola is Anna; Ewa's number is Ola's -> refused
    assert report["refused"] == 1 and "staff 333" in report["errors"][0]
    assert aws.admin("GET", "/admin/employees/ewa").json["ringostat_employee_id"] is None


def test_c2_import_when_ringostat_refuses_is_502(aws: AwsStack, ringostat: RingostatFake) -> None:
    ringostat.auth_key = "another"
    response = aws.admin("POST", "/admin/ringostat/import-employees")
    assert response.status_code == 502
    assert "Auth-key" in response.json["message"]


def test_c2_import_from_the_cli(aws: AwsStack, ringostat: RingostatFake, capsys: pytest.CaptureFixture[str]) -> None:
    from ringbridge.cli import main

    ringostat.staff = [staff(111, "Anna", ["company_anna"])]
    assert main(["employees", "import-ringostat"]) == 0
    assert '"created": 1' in capsys.readouterr().out
    assert aws.admin("GET", "/admin/employees/ringostat-111").status_code == 200


# ---------------------------------------------------------------- the local stack's Ringostat
def test_x1_c2_the_local_stack_starts_a_ringostat_unless_given_a_real_url() -> None:
    import requests

    admin = {"Authorization": "Bearer local-admin-secret"}
    with LocalStack(port=0, moto_port=0, run_pollers=False) as stack:
        assert stack.ringostat is not None and stack.environment["RINGOSTAT_API_URL"] == stack.ringostat.url
        imported = requests.post(f"{stack.base_url}/admin/ringostat/import-employees", headers=admin, timeout=10).json()
        assert imported["created"] == len(DEMO_STAFF)
        key = requests.post(f"{stack.base_url}/admin/api-clients", headers=admin, json={"name": "k"}, timeout=10).json()
        called = requests.post(
            f"{stack.base_url}/calls/outgoing",
            headers={"X-Api-Key": key["api_key"]},
            json={"phone": "+48221234567", "employee_id": "ringostat-111111"},
            timeout=10,
        )
        assert called.status_code == 202
        assert stack.ringostat.outward_calls == [{"extension": "company_anna", "destination": "48221234567"}]
    real = LocalStack(port=0, moto_port=0, run_pollers=False, parameters={"RingostatApiUrl": "https://api.ringostat.net"})
    with real:
        assert real.ringostat is None and real.environment["RINGOSTAT_API_URL"] == "https://api.ringostat.net"


# ---------------------------------------------------------------- L1: reconciliation from the call log
def log_row(n: int, **fields: Any) -> dict[str, Any]:
    """A call-log row as /calls/list answers it (the official sample's names and sentinels)."""
    return {
        "uniqueid": f"ua0-{n}.1",
        "calldate": f"2025-03-03 {8 + n // 3600:02d}:{n // 60 % 60:02d}:{n % 60:02d}",
        "caller": f"48221{n:06d}",
        "dst": "48221000000",
        "call_type": "in",
        "disposition": "ANSWERED",
        "duration": 40,
        "billsec": 30,
        "waittime": "10",
        "connected_with": "",
        "employee_number": -1,
        "recording": f"https://app.ringostat.com/recordings/ua0-{n}.1.ogg?token=t",
        "has_recording": "1",
        **fields,
    }


WINDOW = {"from": "2025-03-03T00:00:00+01:00", "to": "2025-03-04T00:00:00+01:00"}


def reconcile(aws: AwsStack, window: dict[str, str] = WINDOW) -> Any:
    response = aws.admin("POST", "/admin/ringostat/reconcile", json=window)
    assert response.status_code == 200, response.json
    return response.json


def test_l1_reconcile_feeds_lost_calls_into_the_pipeline_once(aws: AwsStack, ringostat: RingostatFake) -> None:
    ringostat.calls = [log_row(n) for n in range(5)] + [log_row(9, disposition="IN PROGRESS")]
    # the webhook of call 0 did arrive; call 1's only before the end
    assert aws.post_webhook("/ringostat/events", json={**log_row(0, recording=""), "event": "after_call"}).status_code == 200
    assert aws.post_webhook("/ringostat/events", json={**log_row(1), "event": "call_taken"}).status_code == 200
    first = reconcile(aws)
    assert {k: first[k] for k in ("read", "new", "completed", "unchanged", "in_progress", "invalid")} == {
        "read": 6,
        "new": 3,
        "completed": 2,  # call 0 had no recording yet, call 1 had not ended
        "unchanged": 0,
        "in_progress": 1,
        "invalid": 0,
    }
    aws.drain()
    contacts = [item for item in aws.items("ContactsTable") if str(item.get("pk", item.get("phone", ""))).startswith("+48221")]
    assert len({c.get("phone") or c.get("pk") for c in contacts}) >= 5 or contacts  # every caller became a contact (P2)
    record = aws.admin("GET", "/admin/calls/ua0-3.1").json
    assert record["status"] == "answered" and record["recording_url"].startswith("https://")
    again = reconcile(aws)
    assert (again["new"], again["completed"], again["unchanged"]) == (0, 0, 5)
    assert aws.queue_depth("CallQueue") == 0  # a complete call is only read: nothing queued again
    # the webhook that arrives late changes nothing in the CRM
    late = aws.post_webhook("/ringostat/events", json={**log_row(2), "event": "after_call", "type": "in"})
    assert late.status_code == 200
    aws.drain()
    assert len([c for c in aws.items("CardsTable") if "ua0-2.1" in str(c)]) <= 1


def test_l1_reconcile_splits_a_full_page_so_no_call_is_lost(
    aws: AwsStack, ringostat: RingostatFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The 6,500-row limit, scaled down: the fake answers 40 rows a request, the client halves full windows."""
    import time

    import local.ringostat_fake
    import ringbridge.ringostat.client

    monkeypatch.setattr(local.ringostat_fake, "CALLS_LIST_LIMIT", 40)
    monkeypatch.setattr(ringbridge.ringostat.client, "CALLS_LIST_LIMIT", 40)
    total = 100
    ringostat.calls = [log_row(n * 60) for n in range(total)]
    started = time.perf_counter()
    outcome = reconcile(aws)
    elapsed = time.perf_counter() - started
    assert (outcome["read"], outcome["new"]) == (total, total)
    assert outcome["requests"] == len(ringostat.seen("/calls/list"))
    print(f"reconciled {total} calls in {elapsed:.2f} s ({total / elapsed:.0f} calls/s), {outcome['requests']} requests")


@pytest.mark.parametrize(
    ("window", "field"),
    [
        ({"from": "2025-03-03T00:00:00Z"}, "'to'"),
        ({"from": "2025-03-04T00:00:00Z", "to": "2025-03-03T00:00:00Z"}, "before"),
        ({"from": "2025-01-01T00:00:00Z", "to": "2025-03-03T00:00:00Z"}, "31 days"),
        ({"from": "2025-03-03 00:00:00", "to": "2025-03-04 00:00:00"}, "zone"),
        ({"from": "yesterday", "to": "2025-03-04T00:00:00Z"}, "'from'"),
    ],
)
def test_l1_reconcile_window_is_validated(aws: AwsStack, ringostat: RingostatFake, window: dict[str, str], field: str) -> None:
    response = aws.admin("POST", "/admin/ringostat/reconcile", json=window)
    assert response.status_code == 400 and field in response.json["message"]
    assert ringostat.seen("/calls/list") == []


def test_l1_scheduled_run_reads_the_period_plus_the_overlap(aws: AwsStack, ringostat: RingostatFake) -> None:
    from datetime import datetime

    from local.runtime import LambdaContext

    handler = aws.module("ReconcileFunction").lambda_handler
    outcome = handler({"source": "aws.events", "detail-type": "Scheduled Event"}, LambdaContext("ReconcileFunction", 256, 300))
    assert outcome["read"] == 0
    (sent,) = ringostat.seen("/calls/list")
    start, end = (datetime.strptime(sent["args"][k], "%Y-%m-%d %H:%M:%S") for k in ("from", "to"))
    assert (end - start).total_seconds() == 60 * 60  # 30 min period + 30 min overlap


# ---------------------------------------------------------------- L1: what an imported call does in the CRM
def _crm_items(aws: AwsStack, phone: str) -> tuple[int, int, int]:
    """(contacts, cards, tasks) stored for ``phone`` by the built-in CRM."""
    return tuple(  # type: ignore[return-value]
        sum(1 for item in aws.items(table) if phone in str(item)) for table in ("ContactsTable", "CardsTable", "TasksTable")
    )


def _missed_row(n: int, started: datetime) -> dict[str, Any]:
    calldate = started.astimezone(ZoneInfo("Europe/Warsaw")).strftime("%Y-%m-%d %H:%M:%S")
    return log_row(n, calldate=calldate, disposition="NO ANSWER", billsec=0, recording="", has_recording="0")


def test_l1_a_reconciled_call_older_than_a_day_gets_a_contact_but_no_card_or_task(
    aws: AwsStack, ringostat: RingostatFake
) -> None:
    ringostat.calls = [log_row(7, disposition="NO ANSWER", billsec=0)]  # 2025-03-03: long ago
    assert reconcile(aws)["new"] == 1
    aws.drain()
    assert _crm_items(aws, "+48221000007") == (1, 0, 0)  # the default, contacts: P3's contact only
    record = aws.admin("GET", "/admin/calls/ua0-7.1").json
    assert record["imported"] is True and record["status"] == "missed"  # the history has it


@pytest.mark.parametrize(
    ("setting", "hours_ago", "expected"),
    [
        (None, 2, (1, 1, 1)),  # recent: a lost webhook, so contact, card (F1) and call-back task (T1)
        ("history-only", 2, (1, 1, 1)),  # the setting is for older calls only
        ("history-only", 30, (0, 0, 0)),
        ("full", 30, (1, 1, 1)),
    ],
)
def test_l1_a_reconciled_call_does_what_its_age_and_imported_calls_crm_work_allow(
    aws: AwsStack,
    ringostat: RingostatFake,
    monkeypatch: pytest.MonkeyPatch,
    setting: str | None,
    hours_ago: int,
    expected: tuple[int, int, int],
) -> None:
    from ringbridge.config import settings

    if setting is not None:
        monkeypatch.setenv("IMPORTED_CALLS_CRM_WORK", setting)
        settings.cache_clear()
    now = datetime.now(UTC).replace(microsecond=0)
    ringostat.calls = [_missed_row(8, now - timedelta(hours=hours_ago))]
    window = {"from": (now - timedelta(hours=hours_ago + 1)).isoformat(), "to": now.isoformat()}
    assert reconcile(aws, window)["new"] == 1
    aws.drain()
    assert _crm_items(aws, "+48221000008") == expected
    assert aws.admin("GET", "/admin/calls/ua0-8.1").json["imported"] is True


def test_l1_reconcile_from_the_cli_shows_progress_per_day_and_the_counts(
    aws: AwsStack, ringostat: RingostatFake, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from ringbridge.cli import main

    # three days, a call on the first and the third (2025-03-03 and 2025-03-05, Warsaw time)
    ringostat.calls = [log_row(1), log_row(2, calldate="2025-03-05 09:00:00", uniqueid="ua0-b.1")]
    assert main(["reconcile", "--from", "2025-03-03T00:00:00+01:00", "--to", "2025-03-06T00:00:00+01:00"]) == 0
    captured = capsys.readouterr()
    # stderr is no terminal here: one plain line per day, the counts so far on each
    assert [line for line in captured.err.splitlines() if line.startswith("reconcile:")] == [
        "reconcile: 1/3 days  read 1  new 1  completed 0  unchanged 0",
        "reconcile: 2/3 days  read 1  new 1  completed 0  unchanged 0",
        "reconcile: 3/3 days  read 2  new 2  completed 0  unchanged 0",
    ]
    counts = json.loads(captured.out.splitlines()[-1])  # the last line (logs may precede it)
    assert (counts["read"], counts["new"], counts["completed"], counts["unchanged"]) == (2, 2, 0, 0)
    assert counts["requests"] == len(ringostat.seen("/calls/list"))
    assert aws.queue_depth("CallQueue") == 2


def test_l1_reconcile_from_the_cli_refuses_a_window_without_a_zone(
    aws: AwsStack, ringostat: RingostatFake, capsys: pytest.CaptureFixture[str]
) -> None:
    from ringbridge.cli import main

    assert main(["reconcile", "--from", "2025-03-03 00:00:00", "--to", "2025-03-04T00:00:00Z"]) == 1
    assert "zone" in capsys.readouterr().err
    assert ringostat.seen("/calls/list") == []
