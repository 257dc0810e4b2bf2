"""The KeyCRM adapter against the stateful KeyCRM fake, driven by the real ``sync_call`` (SPEC ids in names)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from ringbridge.crm import CrmRejected, CrmUnavailable, KeyCrmAdapter, KeyCrmConfig, build_crm, build_keycrm
from ringbridge.crm.http import RetryPolicy
from ringbridge.domain.calls import CallRecord, Direction, Utm
from ringbridge.domain.crm import CrmContact, TaskDraft
from ringbridge.domain.rules import FunnelMode
from tests.contract import KEYCRM, assert_keeps_contract
from tests.fakes import FakeClock
from tests.fakes.keycrm import API_KEY, FakeKeyCrm
from tests.fakes.pipeline import ANNA, Employees, Pipeline, make_call

PHONE = "+48123456789"


@dataclass
class KeyCrmWorld:
    fake: FakeKeyCrm
    clock: FakeClock
    crm: KeyCrmAdapter

    def pipeline(self, **rules: object) -> Pipeline:
        return Pipeline(self.crm, **rules)  # type: ignore[arg-type]


def make_world(fake: FakeKeyCrm, clock: FakeClock, **config: object) -> KeyCrmWorld:
    settings = KeyCrmConfig.model_validate({"base_url": f"{fake.url}/v1", "source_id": 7, "pipeline_id": 1, **config})
    crm = build_keycrm(API_KEY, settings, Employees(ANNA), clock=clock, retry=RetryPolicy(max_attempts=5, max_total_wait=30))
    return KeyCrmWorld(fake, clock, crm)


@pytest.fixture
def world() -> Iterator[KeyCrmWorld]:
    clock = FakeClock()
    fake = FakeKeyCrm(monotonic=clock.monotonic)
    fake.start()
    try:
        yield make_world(fake, clock)
    finally:
        fake.stop()
    # Every request the test made the adapter send, and every answer, keeps the contract.
    assert_keeps_contract(KEYCRM, fake.exchanges)


@pytest.mark.parametrize("stored", ["+48123456789", "48123456789", "123456789", "+48 12 345 67 89"])
def test_p1_finds_buyer_stored_in_any_national_variant(world: KeyCrmWorld, stored: str) -> None:
    buyer_id = world.fake.add_buyer("Jan Kowalski", [stored], manager_id=1)
    world.fake.add_buyer("Someone else", ["+48111222333"])
    contact = world.crm.find_contact(PHONE)
    assert contact is not None
    assert contact.crm_id == str(buyer_id)
    assert contact.name == "Jan Kowalski"
    assert contact.responsible_employee_id == "anna"  # KeyCRM manager 1 is mapped to Anna (C2)
    assert world.fake.requests_matching("GET", "/buyer")[-1].status == 200
    assert world.crm.find_contact("+48500600700") is None


def test_p2_p8_new_answered_call_creates_buyer_with_source_utm_and_manager(world: KeyCrmWorld) -> None:
    utm = Utm(source="google", medium="cpc", campaign="spring", term="crm", content="ad-1")
    outcome = world.pipeline().sync(make_call("c-p2", PHONE, utm=utm, keyword="crm system"))
    assert outcome.contact_created
    [buyer] = world.fake.buyers.values()
    assert buyer["phone"] == [PHONE]
    assert buyer["manager_id"] == 1
    assert "Source: Ringostat" in buyer["note"]
    for value in ("google", "cpc", "spring", "crm system"):
        assert value in buyer["note"]


def test_p8_utm_goes_to_configured_buyer_custom_fields(world: KeyCrmWorld) -> None:
    crm = make_world(world.fake, world.clock, buyer_fields={"source": "CT_1", "utm_source": "CT_2", "keyword": "CT_3"}).crm
    Pipeline(crm).sync(make_call("c-p8", PHONE, utm=Utm(source="fb"), keyword="shoes"))
    [buyer] = world.fake.buyers.values()
    assert {"uuid": "CT_1", "value": "Ringostat"} in buyer["custom_fields"]
    assert {"uuid": "CT_2", "value": "fb"} in buyer["custom_fields"]
    assert {"uuid": "CT_3", "value": "shoes"} in buyer["custom_fields"]


@pytest.mark.parametrize(("attribution", "expected"), [("first_touch", "fb"), ("last_touch", "newsletter")])
def test_p8_known_buyer_takes_utm_when_it_has_none_or_on_last_touch(world: KeyCrmWorld, attribution: str, expected: str) -> None:
    crm = make_world(world.fake, world.clock, buyer_fields={"utm_source": "CT_2", "utm_medium": "CT_4"}).crm
    bare = world.fake.add_buyer("Known", [PHONE])
    world.fake.buyers[bare]["custom_fields"] = [{"uuid": "CT_9", "value": "kept"}]
    pipeline = Pipeline(crm, utm_attribution=attribution)
    pipeline.sync(make_call("c-1", PHONE, utm=Utm(source="fb")))
    assert {"uuid": "CT_2", "value": "fb"} in world.fake.buyers[bare]["custom_fields"]
    assert {"uuid": "CT_9", "value": "kept"} in world.fake.buyers[bare]["custom_fields"]  # other fields stay
    pipeline.sync(make_call("c-2", PHONE, utm=Utm(source="newsletter")))
    assert {"uuid": "CT_2", "value": expected} in world.fake.buyers[bare]["custom_fields"]


def test_p3_new_missed_call_creates_buyer_without_manager(world: KeyCrmWorld) -> None:
    world.pipeline().sync(make_call("c-p3", PHONE, answered=False))
    [buyer] = world.fake.buyers.values()
    assert buyer["manager_id"] is None


def test_p4_known_buyer_gets_only_the_call(world: KeyCrmWorld) -> None:
    buyer_id = world.fake.add_buyer("Jan", ["0048123456789", "123456789"])
    pipeline = world.pipeline(funnel_enabled=False)
    outcome = pipeline.sync(make_call("c-p4", PHONE))
    assert not outcome.contact_created
    assert len(world.fake.buyers) == 1
    assert "Ringostat call c-p4;" in world.fake.buyers[buyer_id]["note"]


def test_p5_outgoing_call_to_new_number_creates_nothing(world: KeyCrmWorld) -> None:
    world.pipeline().sync(make_call("c-p5", PHONE, direction=Direction.OUTGOING))
    assert world.fake.buyers == {}
    assert world.fake.cards == {}
    assert not world.fake.requests_matching("POST") and not world.fake.requests_matching("PUT")


def test_f1_f6_card_in_configured_funnel_with_manager_source_utm_and_summary(world: KeyCrmWorld) -> None:
    utm = Utm(source="google", medium="cpc", campaign="spring")
    recording = "https://rec.example/c-f1.mp3"
    world.pipeline(funnel_id="1").sync(make_call("c-f1", PHONE, utm=utm, recording_url=recording))
    [card] = world.fake.cards.values()
    assert card["pipeline_id"] == 1
    assert card["source_id"] == 7
    assert card["manager_id"] == 1  # F6: the manager who answered
    assert (card["utm_source"], card["utm_medium"], card["utm_campaign"]) == ("google", "cpc", "spring")
    assert "c-f1" in card["manager_comment"] and recording in card["manager_comment"]


def test_f3_card_in_final_status_is_not_active(world: KeyCrmWorld) -> None:
    buyer_id = world.fake.add_buyer("Jan", [PHONE])
    contact = CrmContact(crm_id=str(buyer_id), phone=PHONE)
    won = world.fake.add_card(buyer_id, status_id=13)
    world.fake.add_card(world.fake.add_buyer("Other", ["+48111222333"]), status_id=11)
    assert world.crm.find_active_card(PHONE, contact) is None
    open_card = world.fake.add_card(buyer_id, status_id=12)
    found = world.crm.find_active_card(PHONE, contact)
    assert found is not None and found.crm_id == str(open_card) != str(won)


def test_f3_repeatable_mode_opens_a_card_only_when_none_is_active(world: KeyCrmWorld) -> None:
    buyer_id = world.fake.add_buyer("Jan", [PHONE])
    world.fake.add_card(buyer_id, status_id=14)  # lost: not active
    pipeline = world.pipeline(funnel_mode=FunnelMode.REPEATABLE, funnel_id="1")
    assert pipeline.sync(make_call("c-f3a", PHONE)).card_created
    assert not pipeline.sync(make_call("c-f3b", PHONE)).card_created
    assert len(world.fake.cards) == 2


def test_f3_open_card_scan_follows_pages(world: KeyCrmWorld) -> None:
    other = world.fake.add_buyer("Other", ["+48111222333"])
    for _ in range(60):
        world.fake.add_card(other, status_id=11)
    buyer_id = world.fake.add_buyer("Jan", [PHONE])
    card = world.fake.add_card(buyer_id, status_id=12)
    found = world.crm.find_active_card(PHONE, CrmContact(crm_id=str(buyer_id), phone=PHONE))
    assert found is not None and found.crm_id == str(card)
    # One open status per request (KeyCRM documents a single `filter[status_id]`): status 11
    # takes two pages of 50, status 12 one.
    scans = world.fake.requests_matching("GET", "/pipelines/cards")
    assert [e.query_string.split("&")[0] for e in scans] == ["filter%5Bstatus_id%5D=11"] * 2 + ["filter%5Bstatus_id%5D=12"]


def test_t1_missed_call_sets_one_call_back_reminder_on_the_card(world: KeyCrmWorld) -> None:
    pipeline = world.pipeline(callback_due_minutes=30)
    assert pipeline.sync(make_call("c-t1a", PHONE, answered=False)).task_created
    [card] = world.fake.cards.values()
    assert card["communicate_at"]  # the "next contact" reminder
    assert not pipeline.sync(make_call("c-t1b", PHONE, answered=False)).task_created  # one open reminder per number
    assert len(world.fake.cards) == 1


def test_t1_reminder_without_card_opens_a_card_for_the_assignee(world: KeyCrmWorld) -> None:
    buyer_id = world.fake.add_buyer("Jan", [PHONE])
    task = world.crm.create_task(
        TaskDraft(
            call_id="c-t1c",
            phone=PHONE,
            contact=CrmContact(crm_id=str(buyer_id), phone=PHONE),
            assignee=ANNA,
            due_at="2030-01-01T10:00:00+02:00",
            text="Call back Jan",
        )
    )
    [card] = world.fake.cards.values()
    assert task.crm_id == f"card:{card['id']}"
    assert card["communicate_at"] == "2030-01-01 08:00:00"  # KeyCRM wants UTC
    assert card["manager_id"] == 1 and card["client_id"] == buyer_id


def test_l1_l4_log_call_is_idempotent_and_updated_with_recording(world: KeyCrmWorld) -> None:
    buyer_id = world.fake.add_buyer("Jan", [PHONE], note="VIP client")
    contact = CrmContact(crm_id=str(buyer_id), phone=PHONE)
    call = make_call("c-l4", PHONE)
    world.crm.log_call(call, contact, ANNA)
    puts = len(world.fake.requests_matching("PUT"))
    world.crm.log_call(call, contact, ANNA)
    assert len(world.fake.requests_matching("PUT")) == puts  # a repeat writes nothing
    note = world.fake.buyers[buyer_id]["note"]
    assert note.count("Ringostat call c-l4;") == 1 and note.startswith("VIP client")

    recording = "https://rec.example/c-l4.mp3"
    world.crm.log_call(call.model_copy(update={"recording_url": recording}), contact, ANNA)
    note = world.fake.buyers[buyer_id]["note"]
    assert note.count("Ringostat call c-l4;") == 1
    assert recording in note and "manager Anna Nowak" in note


def test_l4_recording_arriving_later_through_sync_call(world: KeyCrmWorld) -> None:
    pipeline = world.pipeline()
    pipeline.sync(make_call("c-l4b", PHONE))
    outcome = pipeline.sync(make_call("c-l4b", PHONE, recording_url="https://rec.example/x.mp3"))
    assert outcome.state == "updated"
    [buyer] = world.fake.buyers.values()
    assert buyer["note"].count("Ringostat call c-l4b;") == 1 and "https://rec.example/x.mp3" in buyer["note"]
    assert len(world.fake.cards) == 1


def test_note_keeps_a_bounded_number_of_call_lines(world: KeyCrmWorld) -> None:
    crm = make_world(world.fake, world.clock, note_call_lines=3).crm
    buyer_id = world.fake.add_buyer("Jan", [PHONE], note="own text")
    contact = CrmContact(crm_id=str(buyer_id), phone=PHONE)
    for index in range(5):
        crm.log_call(make_call(f"c-{index}", PHONE), contact, None)
    lines = world.fake.buyers[buyer_id]["note"].splitlines()
    assert lines[0] == "own text"
    assert [line.split(";")[0] for line in lines[1:]] == ["Ringostat call c-2", "Ringostat call c-3", "Ringostat call c-4"]


def test_l1_note_is_bounded_in_characters_and_keeps_the_people_s_text(world: KeyCrmWorld) -> None:
    crm = make_world(world.fake, world.clock, note_max_chars=500).crm
    pipeline = Pipeline(crm)
    pipeline.sync(make_call("n0", PHONE))
    buyer_id = next(iter(world.fake.buyers))
    world.fake.buyers[buyer_id]["note"] = "VIP client, speaks German\n" + world.fake.buyers[buyer_id]["note"]
    for index in range(1, 8):
        pipeline.sync(make_call(f"n{index}", PHONE))
    note = world.fake.buyers[buyer_id]["note"]
    assert len(note) <= 500
    assert note.startswith("VIP client, speaks German")
    assert "Ringostat call n7;" in note  # the newest call stays
    assert "Ringostat call n1;" not in note  # the oldest went first


def test_c3_note_bounds_come_from_the_environment() -> None:
    config = KeyCrmConfig.from_env({"KEYCRM_NOTE_MAX_CHARS": "2000", "KEYCRM_NOTE_CALL_LINES": "20"})
    assert (config.note_max_chars, config.note_call_lines) == (2000, 20)


def test_429_storm_is_absorbed_by_retries(world: KeyCrmWorld) -> None:
    world.fake.throttle_next(3, retry_after=2)
    outcome = world.pipeline().sync(make_call("c-429", PHONE))
    assert outcome.contact_created
    # the retries' waits; the rest are waits for a rate-limit slot, each shorter than a slot (60 s / 54)
    assert [wait for wait in world.clock.slept if wait > 60 / 54][:3] == [2.0, 2.0, 2.0]
    assert sum(1 for e in world.fake.exchanges if e.status == 429) == 3


def test_rate_window_of_the_fake_is_respected(world: KeyCrmWorld) -> None:
    world.fake.limit(requests=5, window=10, retry_after=10)
    pipeline = world.pipeline()
    for index in range(3):
        pipeline.sync(make_call(f"c-rw{index}", f"+4812345678{index}"))
    assert len(world.fake.buyers) == 3
    assert any(e.status == 429 for e in world.fake.exchanges)


def test_500_outage_raises_crm_unavailable(world: KeyCrmWorld) -> None:
    world.fake.failing = True
    with pytest.raises(CrmUnavailable):
        world.pipeline().sync(make_call("c-500", PHONE))
    assert 1 < len(world.fake.exchanges) <= 5
    world.fake.failing = False
    assert world.pipeline().sync(make_call("c-500", PHONE)).contact_created  # the queue's retry succeeds


def test_short_500_burst_on_a_read_is_retried(world: KeyCrmWorld) -> None:
    world.fake.fail_next(2)
    assert world.crm.find_contact(PHONE) is None


def test_wrong_key_is_rejected_with_401() -> None:
    clock = FakeClock()
    with FakeKeyCrm(api_key="right", monotonic=clock.monotonic) as fake:
        crm = build_keycrm("wrong", KeyCrmConfig(base_url=f"{fake.url}/v1"), clock=clock)
        with pytest.raises(CrmRejected) as error:
            crm.find_contact(PHONE)
    assert error.value.status == 401
    assert "wrong" not in str(error.value)
    assert_keeps_contract(KEYCRM, fake.exchanges)


def test_validation_error_carries_the_crm_message(world: KeyCrmWorld) -> None:
    """KeyCRM's 422 says "The given data was invalid." and puts the reasons in ``errors``: both are kept."""
    with pytest.raises(CrmRejected, match="manager_id: The selected manager id is invalid") as error:
        world.crm.create_card(
            make_card_draft(world, manager_id="99"),
        )
    assert error.value.status == 422
    assert error.value.reason.startswith("The given data was invalid.")


def make_card_draft(world: KeyCrmWorld, manager_id: str) -> object:
    from ringbridge.domain.crm import CardDraft

    buyer_id = world.fake.add_buyer("Jan", [PHONE])
    return CardDraft(
        call_id="c-422",
        phone=PHONE,
        contact=CrmContact(crm_id=str(buyer_id), phone=PHONE),
        funnel_id="1",
        title="t",
        manager=ANNA.model_copy(update={"crm_manager_id": manager_id}),
        summary="s",
    )


def test_c3_build_crm_reads_environment() -> None:
    env = {"CRM_BASE_URL": "http://127.0.0.1:9/v1", "KEYCRM_SOURCE_ID": "5", "KEYCRM_PIPELINE_ID": "2"}
    crm = build_crm("keycrm", "key", env)
    assert isinstance(crm, KeyCrmAdapter)
    with pytest.raises(ValueError, match="unknown CRM kind"):
        build_crm("salesforce", "key", {})
    sentinel = object()
    assert build_crm("builtin", "", {}, builtin=lambda: sentinel) is sentinel  # type: ignore[arg-type,return-value]


def test_f2_t1_one_time_mode_won_card_and_three_missed_calls_stay_one_card(world: KeyCrmWorld) -> None:
    pipeline = world.pipeline(funnel_id="1")  # one-time mode (the default)
    assert pipeline.sync(make_call("c-f2-won", PHONE)).card_created
    [card_id] = world.fake.cards
    world.fake.cards[card_id]["status_id"] = 13  # won in KeyCRM
    for n in range(3):
        pipeline.sync(make_call(f"c-f2-missed-{n}", PHONE, answered=False))
    assert list(world.fake.cards) == [card_id]  # still one card: the reminder went on it, by id
    assert world.fake.cards[card_id]["communicate_at"]
    assert world.fake.requests_matching("PUT", f"/pipelines/cards/{card_id}")


def test_t1_one_time_mode_without_a_card_puts_the_reminder_in_the_buyer_note(world: KeyCrmWorld) -> None:
    buyer_id = world.fake.add_buyer("Jan", [PHONE])
    contact = CrmContact(crm_id=str(buyer_id), phone=PHONE)
    draft = TaskDraft(
        call_id="c-t1n", phone=PHONE, contact=contact, due_at="2030-01-01T10:00:00Z", text="Call back Jan", new_card_allowed=False
    )
    task = world.crm.create_task(draft)
    assert not world.fake.cards and task.crm_id == f"note:{buyer_id}"
    assert "Ringostat call c-t1n; call back by 2030-01-01 10:00:00" in world.fake.buyers[buyer_id]["note"]


# ---------------------------------------------------------------- what ringbridge created, found again by id (F3, T1)
def _callback(call_id: str, talk: int, answered: bool = True) -> CallRecord:
    """An outgoing call to PHONE after the missed one, with ``talk`` seconds of talk."""
    later = datetime.now(UTC) + timedelta(minutes=1)
    call = make_call(call_id, PHONE, direction=Direction.OUTGOING, answered=answered, started=later)
    return call.model_copy(update={"talk_time": talk})


def test_f3_repeatable_mode_reads_its_card_by_id_instead_of_scanning(world: KeyCrmWorld) -> None:
    world.fake.add_buyer("Jan", [PHONE])
    pipeline = world.pipeline(funnel_mode=FunnelMode.REPEATABLE, funnel_id="1")
    assert pipeline.sync(make_call("c-kid1", PHONE)).card_created  # nothing known yet: the bounded scan
    [card_id] = world.fake.cards
    scans = len(world.fake.requests_matching("GET", "/v1/pipelines/cards"))
    assert not pipeline.sync(make_call("c-kid2", PHONE)).card_created  # F3: the open card, read by id
    assert world.fake.requests_matching("GET", f"/v1/pipelines/cards/{card_id}")
    assert len(world.fake.requests_matching("GET", "/v1/pipelines/cards")) == scans + 1  # that read only
    world.fake.cards[card_id]["status_id"] = 13  # won in KeyCRM
    assert pipeline.sync(make_call("c-kid3", PHONE)).card_created  # F3: final status, a new card
    assert len(world.fake.cards) == 2


def test_f3_a_deleted_card_falls_back_to_the_scan(world: KeyCrmWorld) -> None:
    buyer_id = world.fake.add_buyer("Jan", [PHONE])
    pipeline = world.pipeline(funnel_mode=FunnelMode.REPEATABLE, funnel_id="1")
    assert pipeline.sync(make_call("c-kdel1", PHONE)).card_created
    [card_id] = world.fake.cards
    world.fake.delete_card(card_id)
    by_hand = world.fake.add_card(buyer_id, status_id=12)
    assert not pipeline.sync(make_call("c-kdel2", PHONE)).card_created  # 404 by id: the scan finds the open one
    assert list(world.fake.cards) == [by_hand]


def test_t1_a_call_back_of_ten_seconds_clears_the_reminder(world: KeyCrmWorld) -> None:
    pipeline = world.pipeline(funnel_id="1")
    assert pipeline.sync(make_call("c-kmiss", PHONE, answered=False)).task_created
    [card] = world.fake.cards.values()
    assert card["communicate_at"]
    pipeline.sync(_callback("c-k5s", talk=5))  # T1: too short
    pipeline.sync(_callback("c-knone", talk=0, answered=False))  # T1: not answered
    assert card["communicate_at"]
    pipeline.sync(_callback("c-k10s", talk=10))  # T1: >= CallbackCloseMinTalkSeconds
    assert card["communicate_at"] is None  # the "next contact" cleared
    assert pipeline.calls.records["c-k10s"].sync_steps["callback"] == f"card:{card['id']}"  # kept on the call
    buyer = world.fake.buyers[card["client_id"]]
    assert "Ringostat call c-k10s; outgoing answered" in buyer["note"]  # the closing call, in the buyer's note (L1)
    puts = len(world.fake.requests_matching("PUT", f"/v1/pipelines/cards/{card['id']}"))
    assert world.crm.close_callback(PHONE, _callback("c-k10s", talk=10), known_id=f"card:{card['id']}") is None  # twice
    pipeline.sync(_callback("c-kagain", talk=30))  # a later call-back: nothing left to clear
    assert len(world.fake.requests_matching("PUT", f"/v1/pipelines/cards/{card['id']}")) == puts
    assert pipeline.sync(make_call("c-kmiss2", PHONE, answered=False)).task_created  # a new missed call: a new reminder
    assert card["communicate_at"]


def test_t1_a_reminder_in_the_buyer_note_is_not_a_card_to_clear(world: KeyCrmWorld) -> None:
    buyer_id = world.fake.add_buyer("Jan", [PHONE])
    assert world.crm.close_callback(PHONE, _callback("c-knote", talk=20), known_id=f"note:{buyer_id}") is None
    assert not world.fake.requests_matching("PUT")
