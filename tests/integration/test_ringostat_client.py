"""The one Ringostat client (X1, C2, S1, L1 back-fill) against the strict Ringostat fake."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from local.ringostat_fake import RingostatFake
from ringbridge.domain.errors import UpstreamFailed, UpstreamTimeout
from ringbridge.ringostat.client import CALLS_LIST_LIMIT, RingostatClient, parse_staff


@pytest.fixture
def fake() -> Iterator[RingostatFake]:
    with RingostatFake(auth_key="key", project_id="11111") as running:
        yield running


def client(fake: RingostatFake, **kw: object) -> RingostatClient:
    return RingostatClient(fake.url, "key", "11111", timeout_seconds=1.0, retry_pause_seconds=0.0, **kw)  # type: ignore[arg-type]


def test_x1_click_to_call_is_sent_once_even_when_ringostat_fails(fake: RingostatFake) -> None:
    assert client(fake).outward_call("company_anna", "48221234567") == {"status": "success"}
    assert fake.outward_calls == [{"extension": "company_anna", "destination": "48221234567"}]
    fake.fail_next = 3
    with pytest.raises(UpstreamFailed, match="HTTP 503"):
        client(fake).outward_call("company_anna", "48221234567")
    assert len(fake.seen("/callback/outward_call")) == 2  # never retried: a retry could ring twice


def test_x1_a_wrong_auth_key_is_named(fake: RingostatFake) -> None:
    wrong = RingostatClient(fake.url, "other", "11111", timeout_seconds=1.0)
    with pytest.raises(UpstreamFailed, match="Auth-key"):
        wrong.staff_list()


def test_c2_staff_list_reads_ids_names_sip_accounts_and_numbers(fake: RingostatFake) -> None:
    fake.staff = [
        {
            "staffId": 111,
            "fio": "Anna Nowak",
            "email": "anna@example.com",
            "extensionNumber": "101",
            "directions": {
                "main": [{"type": "sip", "direction": "company_anna", "isMobile": False}],
                "additional": [{"type": "phone", "direction": "48601234567", "isMobile": True}],
            },
        },
        {"staffId": 112, "fio": "Piotr", "directions": {"main": [{"type": "phone", "direction": "48602000000"}]}},
    ]
    anna, piotr = sorted(client(fake).staff_list(), key=lambda m: m.staff_id)
    assert (anna.staff_id, anna.name, anna.emails, anna.sip_accounts, anna.numbers, anna.extension) == (
        "111",
        "Anna Nowak",
        ("anna@example.com",),
        ("company_anna",),
        ("48601234567",),
        "101",
    )
    assert (piotr.sip_accounts, piotr.numbers) == ((), ("48602000000",))
    (sent,) = fake.seen("/api/json-rpc")
    assert '"projectId": "11111"' in sent["body"]


def test_c2_staff_entries_without_an_id_are_skipped_and_lists_are_accepted() -> None:
    assert parse_staff({"fio": "nobody"}) is None
    assert parse_staff("junk") is None
    member = parse_staff({"id": "7", "directions": [{"type": "sip", "direction": "x7"}]})
    assert member is not None and (member.name, member.sip_accounts) == ("7", ("x7",))


def test_c2_staff_list_is_retried_after_a_5xx(fake: RingostatFake) -> None:
    fake.staff = [{"staffId": 1, "fio": "A"}]
    fake.fail_next = 2
    assert [m.staff_id for m in client(fake).staff_list()] == ["1"]


def test_c2_a_json_rpc_refusal_in_a_200_is_an_error(fake: RingostatFake) -> None:
    other = RingostatClient(fake.url, "key", "99999", timeout_seconds=1.0)
    with pytest.raises(UpstreamFailed, match="Access denied"):
        other.staff_list()


def test_s1_contacts_are_synced_in_batches_with_the_project_header(fake: RingostatFake) -> None:
    contacts = [
        {
            "projectId": 11111,
            "fullName": f"Client {n}",
            "origin": "ringbridge",
            "externalId": f"c{n}",
            "responsible": "0",
            "contactDirections": [{"type": "phone", "name": "main", "value": f"4822000{n:04d}"}],
        }
        for n in range(150)
    ]
    assert client(fake).sync_contacts(contacts) == 2
    assert len(fake.contacts) == 150
    with pytest.raises(UpstreamFailed, match="HTTP 400"):
        client(fake).sync_contacts([{"projectId": 11111, "fullName": "x"}])


def _row(n: int, start: datetime) -> dict[str, object]:
    return {"uniqueid": f"ua0-{n}.1", "calldate": (start + timedelta(seconds=n)).strftime("%Y-%m-%d %H:%M:%S")}


def test_l1_call_log_splits_a_full_page_so_no_call_is_lost(fake: RingostatFake) -> None:
    start = datetime(2025, 3, 3, 8, 0, 0)
    fake.calls = [_row(n, start) for n in range(CALLS_LIST_LIMIT + 500)]
    ringostat = client(fake, timezone="UTC")
    rows = [
        row
        for page in ringostat.calls_between(start.replace(tzinfo=UTC), start.replace(tzinfo=UTC) + timedelta(hours=3))
        for row in page
    ]
    assert len({row["uniqueid"] for row in rows}) == CALLS_LIST_LIMIT + 500
    assert len(rows) == CALLS_LIST_LIMIT + 500
    (first, *_) = fake.seen("/calls/list")
    assert first["args"]["export_type"] == "json" and first["args"]["projectId"] == "11111"
    assert first["args"]["from"] == "2025-03-03 08:00:00"


def test_l1_call_log_dates_are_sent_in_the_projects_zone(fake: RingostatFake) -> None:
    list(
        client(fake, timezone="Europe/Warsaw").calls_between(
            datetime(2025, 7, 1, 10, tzinfo=UTC), datetime(2025, 7, 1, 11, tzinfo=UTC)
        )
    )
    (sent,) = fake.seen("/calls/list")
    assert (sent["args"]["from"], sent["args"]["to"]) == ("2025-07-01 12:00:00", "2025-07-01 13:00:00")


def test_l1_unknown_fields_are_refused_like_ringostat_does(fake: RingostatFake) -> None:
    with pytest.raises(UpstreamFailed, match="incorrect field"):
        client(fake).calls_page(datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 2, tzinfo=UTC), fields=("nope",))


def test_l1_reads_time_out_after_their_retries(fake: RingostatFake) -> None:
    fake.delay_seconds = 0.5
    slow = RingostatClient(fake.url, "key", "11111", timeout_seconds=0.2, retry_pause_seconds=0.0)
    with pytest.raises(UpstreamTimeout):
        slow.calls_page(datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 2, tzinfo=UTC))
    assert len(fake.seen("/calls/list")) == 3
