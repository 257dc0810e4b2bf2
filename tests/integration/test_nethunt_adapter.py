"""The NetHunt adapter against the stateful NetHunt fake, driven by the real ``sync_call`` (SPEC ids in names)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ringbridge.crm import CrmRejected, CrmUnavailable, NetHuntAdapter, NetHuntConfig, build_crm, build_nethunt
from ringbridge.crm.http import RetryPolicy
from ringbridge.domain.calls import Direction, Utm
from ringbridge.domain.crm import ContactDraft, CrmContact, TaskDraft
from ringbridge.domain.rules import FunnelMode
from tests.contract import NETHUNT, assert_keeps_contract
from tests.fakes import FakeClock
from tests.fakes.nethunt import ANNA_EMAIL, API_KEY, CONTACTS, DEALS, EMAIL, PIOTR_EMAIL, PREFIX, TASKS, FakeNetHunt
from tests.fakes.pipeline import ANNA, PIOTR, Employees, Pipeline, make_call

PHONE = "+48123456789"
# NetHunt's user fields take a workspace user's e-mail: that is the employees' CRM manager id here.
NH_ANNA = ANNA.model_copy(update={"crm_manager_id": ANNA_EMAIL})
NH_PIOTR = PIOTR.model_copy(update={"crm_manager_id": PIOTR_EMAIL})


@dataclass
class NetHuntWorld:
    fake: FakeNetHunt
    clock: FakeClock
    crm: NetHuntAdapter

    def pipeline(self, **rules: Any) -> Pipeline:
        return Pipeline(self.crm, employees=Employees(NH_ANNA, NH_PIOTR), **rules)


def make_world(fake: FakeNetHunt, clock: FakeClock, **config: Any) -> NetHuntWorld:
    values = {
        "base_url": f"{fake.url}{PREFIX}",
        "email": EMAIL,
        "contacts_folder_id": CONTACTS,
        "deals_folder_id": DEALS,
        "tasks_folder_id": TASKS,
        "responsible_field": "Responsible",
        **config,
    }
    crm = build_nethunt(
        API_KEY, NetHuntConfig.model_validate(values), Employees(NH_ANNA), clock=clock, retry=RetryPolicy(max_total_wait=30)
    )
    return NetHuntWorld(fake, clock, crm)


@pytest.fixture
def world() -> Iterator[NetHuntWorld]:
    clock = FakeClock()
    fake = FakeNetHunt(monotonic=clock.monotonic)
    fake.start()
    try:
        yield make_world(fake, clock)
    finally:
        fake.stop()
    # Every request the test made the adapter send, and every answer, keeps the contract.
    assert_keeps_contract(NETHUNT, fake.exchanges)


def test_p1_finds_contact_by_its_e164_phone(world: NetHuntWorld) -> None:
    record = world.fake.add_record(CONTACTS, {"Name": "Jan", "Phone": PHONE, "Responsible": ANNA_EMAIL})
    world.fake.add_record(CONTACTS, {"Name": "Other", "Phone": "+48111222333"})
    contact = world.crm.find_contact(PHONE)
    assert contact is not None
    assert (contact.crm_id, contact.name, contact.responsible_employee_id) == (record, "Jan", "anna")
    assert world.fake.requests_matching("GET", "find-record")[-1].query_string.startswith("query=%2B48123456789")
    assert world.crm.find_contact("+48500600700") is None


def test_p1_a_record_matching_only_in_another_field_is_not_the_contact(world: NetHuntWorld) -> None:
    world.fake.add_record(CONTACTS, {"Name": PHONE, "Phone": "+48111222333"})
    assert world.crm.find_contact(PHONE) is None


def test_p2_p8_new_answered_call_creates_contact_with_source_and_utm(world: NetHuntWorld) -> None:
    utm = Utm(source="google", medium="cpc", campaign="spring")
    outcome = world.pipeline().sync(make_call("c-p2", PHONE, utm=utm, keyword="crm"))
    assert outcome.contact_created
    [contact] = world.fake.records_in(CONTACTS)
    assert contact["fields"] == {
        "Name": PHONE,
        "Phone": PHONE,
        "Source": "Ringostat",
        "Źródło": "google",
        "Kanał": "cpc",
        "Kampania": "spring",
        "Słowo kluczowe": "crm",
        "Responsible": ANNA_EMAIL,
    }
    [log] = world.fake.logs_of(contact["recordId"])
    assert "incoming answered" in log["text"] and "manager Anna Nowak" in log["text"]
    assert log["duration"] == pytest.approx(95 / 60, abs=0.01)  # minutes
    assert log["time"].endswith("Z")


def test_p8_field_names_are_configurable_and_missing_fields_are_left_out(world: NetHuntWorld) -> None:
    crm = make_world(world.fake, world.clock, utm_source_field="UTM Source", keyword_field="").crm
    Pipeline(crm, employees=Employees(NH_ANNA)).sync(make_call("c-p8", PHONE, utm=Utm(source="fb"), keyword="shoes"))
    [contact] = world.fake.records_in(CONTACTS)
    assert "UTM Source" not in contact["fields"]  # the folder has no such field: left out, not a 400
    assert "Słowo kluczowe" not in contact["fields"]


@pytest.mark.parametrize(("attribution", "expected"), [("first_touch", "fb"), ("last_touch", "newsletter")])
def test_p8_known_contact_takes_utm_by_update_record(world: NetHuntWorld, attribution: str, expected: str) -> None:
    record_id = world.fake.add_record(CONTACTS, {"Name": "Known", "Phone": [PHONE]})
    pipeline = world.pipeline(utm_attribution=attribution)
    pipeline.sync(make_call("c-1", PHONE, utm=Utm(source="fb", medium="cpc"), keyword="buty"))
    fields = world.fake.records[record_id]["fields"]
    assert (fields.get("Kanał"), fields.get("Słowo kluczowe")) == ("cpc", "buty")
    pipeline.sync(make_call("c-2", PHONE, utm=Utm(source="newsletter")))
    assert world.fake.records[record_id]["fields"]["Źródło"] == expected
    assert len(world.fake.requests_matching("POST", "update-record")) == (2 if attribution == "last_touch" else 1)


def test_p3_new_missed_call_creates_contact_with_call_and_no_manager(world: NetHuntWorld) -> None:
    world.pipeline().sync(make_call("c-p3", PHONE, answered=False))
    [contact] = world.fake.records_in(CONTACTS)
    assert "Responsible" not in contact["fields"]
    [log] = world.fake.logs_of(contact["recordId"])
    assert "missed" in log["text"] and "manager none" in log["text"]


def test_p5_outgoing_call_to_new_number_writes_nothing(world: NetHuntWorld) -> None:
    world.pipeline().sync(make_call("c-p5", PHONE, direction=Direction.OUTGOING))
    assert world.fake.records == {} and world.fake.call_logs == []
    assert not world.fake.requests_matching("POST")


def test_p6_outgoing_call_to_known_contact_is_logged(world: NetHuntWorld) -> None:
    record = world.fake.add_record(CONTACTS, {"Name": "Jan", "Phone": PHONE})
    world.pipeline().sync(make_call("c-p6", PHONE, direction=Direction.OUTGOING))
    [log] = world.fake.logs_of(record)
    assert "outgoing" in log["text"]


def test_f1_f6_deal_in_deals_folder_with_stage_and_manager(world: NetHuntWorld) -> None:
    world.pipeline().sync(make_call("c-f1", PHONE, utm=Utm(source="google")))
    [deal] = world.fake.records_in(DEALS)
    assert deal["fields"]["Stage"] == "New"
    assert deal["fields"]["Owner"] == ANNA_EMAIL  # F6: the manager who answered, as a NetHunt user
    assert deal["fields"]["Phone"] == PHONE
    assert deal["fields"]["Źródło"] == "google"
    assert "c-f1" in deal["fields"]["Description"]


def test_f3_deal_in_final_stage_is_not_active(world: NetHuntWorld) -> None:
    contact = CrmContact(crm_id="x", phone=PHONE)
    world.fake.add_record(DEALS, {"Name": "old", "Phone": PHONE, "Stage": "Won"})
    assert world.crm.find_active_card(PHONE, contact) is None
    open_deal = world.fake.add_record(DEALS, {"Name": "new", "Phone": PHONE, "Stage": "Negotiating"})
    found = world.crm.find_active_card(PHONE, contact)
    assert found is not None and found.crm_id == open_deal


def test_f3_repeatable_mode_opens_a_deal_only_when_none_is_active(world: NetHuntWorld) -> None:
    world.fake.add_record(CONTACTS, {"Name": "Jan", "Phone": PHONE})
    world.fake.add_record(DEALS, {"Name": "lost", "Phone": PHONE, "Stage": "Lost"})
    pipeline = world.pipeline(funnel_mode=FunnelMode.REPEATABLE)
    assert pipeline.sync(make_call("c-f3a", PHONE)).card_created
    assert not pipeline.sync(make_call("c-f3b", PHONE)).card_created
    assert len(world.fake.records_in(DEALS)) == 2


def test_t1_missed_call_creates_one_open_task_for_the_responsible(world: NetHuntWorld) -> None:
    world.fake.add_record(CONTACTS, {"Name": "Jan", "Phone": PHONE, "Responsible": ANNA_EMAIL})
    pipeline = world.pipeline()
    assert pipeline.sync(make_call("c-t1a", PHONE, answered=False)).task_created
    assert not pipeline.sync(make_call("c-t1b", PHONE, answered=False)).task_created
    [task] = world.fake.records_in(TASKS)
    assert task["fields"]["Assignee"] == ANNA_EMAIL and task["fields"]["Phone"] == PHONE
    assert task["fields"]["Due date"].endswith("Z")
    task["fields"]["Completed"] = True  # done: the next missed call gets a new task
    assert pipeline.sync(make_call("c-t1c", PHONE, answered=False)).task_created


def test_t1_without_tasks_folder_the_call_back_is_a_comment(world: NetHuntWorld) -> None:
    crm = make_world(world.fake, world.clock, tasks_folder_id="").crm
    record = world.fake.add_record(CONTACTS, {"Name": "Jan", "Phone": PHONE})
    draft = TaskDraft(
        call_id="c-t1d",
        phone=PHONE,
        contact=CrmContact(crm_id=record, phone=PHONE),
        assignee=NH_ANNA,
        due_at="2030-01-01T10:00:00+00:00",
        text="Call back Jan",
    )
    task = crm.create_task(draft)
    [comment] = world.fake.comments_of(record)
    assert task.crm_id == f"comment:{comment['commentId']}"
    assert "Call back Jan" in comment["text"] and "Anna Nowak" in comment["text"]


def test_l1_l4_log_call_is_idempotent_and_recording_added_once(world: NetHuntWorld) -> None:
    record = world.fake.add_record(CONTACTS, {"Name": "Jan", "Phone": PHONE})
    contact = CrmContact(crm_id=record, phone=PHONE)
    call = make_call("c-l4", PHONE)
    world.crm.log_call(call, contact, ANNA)
    world.crm.log_call(call, contact, ANNA)
    assert len(world.fake.logs_of(record)) == 1

    recording = "https://rec.example/c-l4.mp3"
    later = call.model_copy(update={"recording_url": recording})
    world.crm.log_call(later, contact, ANNA)
    world.crm.log_call(later, contact, ANNA)
    assert len(world.fake.logs_of(record)) == 1
    [comment] = world.fake.comments_of(record)
    assert comment["text"].startswith("Ringostat call c-l4;") and recording in comment["text"]


def test_l4_recording_known_at_the_end_goes_into_the_call_log(world: NetHuntWorld) -> None:
    recording = "https://rec.example/x.mp3"
    world.pipeline().sync(make_call("c-l4b", PHONE, recording_url=recording))
    [contact] = world.fake.records_in(CONTACTS)
    [log] = world.fake.logs_of(contact["recordId"])
    assert recording in log["text"]
    assert world.fake.comments == []


def test_429_storm_is_absorbed_by_retries(world: NetHuntWorld) -> None:
    world.fake.throttle_next(4, retry_after=3)
    assert world.pipeline().sync(make_call("c-429", PHONE)).contact_created
    # the retries' waits; the rest are waits for a rate-limit slot, each shorter than a slot (60 s / 54)
    assert [wait for wait in world.clock.slept if wait > 60 / 54][:4] == [3.0, 3.0, 3.0, 3.0]


def test_500_outage_raises_crm_unavailable(world: NetHuntWorld) -> None:
    world.fake.failing = True
    with pytest.raises(CrmUnavailable):
        world.pipeline().sync(make_call("c-500", PHONE))
    world.fake.failing = False
    assert world.pipeline().sync(make_call("c-500", PHONE)).contact_created


def test_wrong_credentials_are_rejected_with_401() -> None:
    clock = FakeClock()
    with FakeNetHunt(monotonic=clock.monotonic) as fake:
        config = NetHuntConfig(base_url=f"{fake.url}{PREFIX}", email=EMAIL, contacts_folder_id=CONTACTS)
        with pytest.raises(CrmRejected) as error:
            build_nethunt("wrong-key", config, clock=clock).find_contact(PHONE)
    assert error.value.status == 401
    assert_keeps_contract(NETHUNT, fake.exchanges)


def test_validation_error_carries_the_crm_message(world: NetHuntWorld) -> None:
    crm = make_world(world.fake, world.clock, check_fields=False, origin_field="Lead origin").crm
    with pytest.raises(CrmRejected, match="Unknown field") as error:
        crm.create_contact(ContactDraft(call_id="c-400", phone=PHONE, name=PHONE))
    assert error.value.status == 400
    assert error.value.permanent


def test_l1_a_refused_contact_is_recorded_on_the_call_not_raised(world: NetHuntWorld) -> None:
    crm = make_world(world.fake, world.clock, check_fields=False, origin_field="Lead origin").crm
    pipeline = Pipeline(crm)
    outcome = pipeline.sync(make_call("c-400", PHONE))
    assert outcome.refused == ["contact"]
    [failure] = pipeline.calls.records["c-400"].sync_failures
    assert failure.step == "contact" and "Unknown field" in failure.reason


def test_c3_build_crm_reads_environment() -> None:
    env = {
        "NETHUNT_EMAIL": EMAIL,
        "NETHUNT_CONTACTS_FOLDER_ID": "c1",
        "NETHUNT_DEALS_FOLDER_ID": "d1",
        "NETHUNT_TASKS_FOLDER_ID": "",
        "NETHUNT_DEAL_FINAL_STAGES": "Wygrana, Przegrana",
        "NETHUNT_FIELD_UTM_SOURCE": "Source UTM",
    }
    crm = build_crm("nethunt", "key", env)
    assert isinstance(crm, NetHuntAdapter)
    config = NetHuntConfig.from_env(env)
    assert config.deal_final_stages == ("Wygrana", "Przegrana")
    assert config.tasks_folder_id is None and config.deals_folder_id == "d1"
    assert config.utm_source_field == "Source UTM" and config.utm_medium_field == "Kanał"


def test_p1_contact_with_empty_name_field_is_still_found(world: NetHuntWorld) -> None:
    record = world.fake.add_record(CONTACTS, {"Name": [], "Phone": [PHONE]})
    contact = world.crm.find_contact(PHONE)
    assert contact is not None and contact.crm_id == record and contact.name is None


def test_f6_a_manager_id_that_is_not_a_user_email_is_left_out(world: NetHuntWorld) -> None:
    """User fields take a workspace user's e-mail: a mapping that holds another id writes the deal without an owner."""
    pipeline = Pipeline(world.crm, employees=Employees(ANNA, PIOTR))  # crm_manager_id "1": not an e-mail
    assert pipeline.sync(make_call("c-f6", PHONE)).card_created
    [deal] = world.fake.records_in(DEALS)
    assert "Owner" not in deal["fields"]
    [contact] = world.fake.records_in(CONTACTS)
    assert "Responsible" not in contact["fields"]


def test_f1_a_stage_that_is_not_an_option_of_the_folder_is_refused(world: NetHuntWorld) -> None:
    crm = make_world(world.fake, world.clock, deal_new_stage="Nowy").crm
    pipeline = Pipeline(crm, employees=Employees(NH_ANNA))
    outcome = pipeline.sync(make_call("c-stage", PHONE))
    assert outcome.refused == ["card"]  # the contact and the call log stand (F1, L1)
    [failure] = pipeline.calls.records["c-stage"].sync_failures
    assert "'Nowy' is not an option of field 'Stage'" in failure.reason and "HTTP 400" in failure.reason
    assert len(world.fake.call_logs) == 1


def test_l1_l4_logs_are_found_again_when_triggers_omit_the_record_id(world: NetHuntWorld) -> None:
    """One published schema makes ``recordId`` optional on call logs and comments: the call marker alone finds them."""
    world.fake.trigger_record_ids = False
    record = world.fake.add_record(CONTACTS, {"Name": "Jan", "Phone": PHONE})
    contact = CrmContact(crm_id=record, phone=PHONE)
    call = make_call("c-norec", PHONE)
    world.crm.log_call(call, contact, NH_ANNA)
    world.crm.log_call(call, contact, NH_ANNA)
    later = call.model_copy(update={"recording_url": "https://rec.example/c-norec.mp3"})
    world.crm.log_call(later, contact, NH_ANNA)
    world.crm.log_call(later, contact, NH_ANNA)
    assert len(world.fake.logs_of(record)) == 1
    assert len(world.fake.comments_of(record)) == 1


# ---------------------------------------------------------------- what ringbridge created, found again by id (F3, T1)
def _by_id(world: NetHuntWorld, folder: str) -> list[str]:
    """The record ids the adapter looked up by id (find-record with ``recordId``) in ``folder``."""
    lookups = world.fake.requests_matching("GET", f"/searches/find-record/{folder}")
    return [e.query_string.split("recordId=")[1].split("&")[0] for e in lookups if "recordId=" in e.query_string]


def _searches(world: NetHuntWorld, folder: str) -> list[Any]:
    return [e for e in world.fake.requests_matching("GET", f"/searches/find-record/{folder}") if "query=" in e.query_string]


def _callback(call_id: str, talk: int, answered: bool = True) -> Any:
    """An outgoing call to PHONE after the missed one, with ``talk`` seconds of talk."""
    later = datetime.now(UTC) + timedelta(minutes=1)
    call = make_call(call_id, PHONE, direction=Direction.OUTGOING, answered=answered, started=later)
    return call.model_copy(update={"talk_time": talk})


def test_f3_repeatable_mode_finds_its_deal_by_id_in_a_deals_folder_without_a_phone_field(world: NetHuntWorld) -> None:
    world.fake.drop_field(DEALS, "Phone")  # most deals folders have none: a phone search finds no deal
    world.fake.add_record(CONTACTS, {"Name": "Jan", "Phone": PHONE})
    pipeline = world.pipeline(funnel_mode=FunnelMode.REPEATABLE)
    assert pipeline.sync(make_call("c-id1", PHONE)).card_created  # nothing known yet: a phone search, no deal
    [deal] = world.fake.records_in(DEALS)
    searches = len(_searches(world, DEALS))
    assert not pipeline.sync(make_call("c-id2", PHONE)).card_created  # F3: the open deal, found by its id
    assert _by_id(world, DEALS) == [deal["recordId"]]
    assert len(_searches(world, DEALS)) == searches == 1  # and no search
    world.fake.change_record(deal["recordId"], {"Stage": "Won"})
    assert pipeline.sync(make_call("c-id3", PHONE)).card_created  # F3: final stage, a new deal
    assert not pipeline.sync(make_call("c-id4", PHONE)).card_created  # and that one is found by id now
    assert len(world.fake.records_in(DEALS)) == 2


def test_f3_a_deleted_deal_falls_back_to_the_phone_search(world: NetHuntWorld) -> None:
    world.fake.add_record(CONTACTS, {"Name": "Jan", "Phone": PHONE})
    pipeline = world.pipeline(funnel_mode=FunnelMode.REPEATABLE)
    assert pipeline.sync(make_call("c-del1", PHONE)).card_created
    [deal] = world.fake.records_in(DEALS)
    world.fake.delete_record(deal["recordId"])
    other = world.fake.add_record(DEALS, {"Name": "by hand", "Phone": PHONE, "Stage": "Negotiating"})
    assert not pipeline.sync(make_call("c-del2", PHONE)).card_created  # gone by id: the search finds the open one
    assert [r["recordId"] for r in world.fake.records_in(DEALS)] == [other]


def test_t1_tasks_folder_without_a_phone_field_keeps_one_open_task_by_id(world: NetHuntWorld) -> None:
    world.fake.drop_field(TASKS, "Phone")
    world.fake.add_record(CONTACTS, {"Name": "Jan", "Phone": PHONE})
    pipeline = world.pipeline()
    assert pipeline.sync(make_call("c-tid1", PHONE, answered=False)).task_created
    assert not pipeline.sync(make_call("c-tid2", PHONE, answered=False)).task_created  # T1: one open task
    [task] = world.fake.records_in(TASKS)
    world.fake.change_record(task["recordId"], {"Completed": True})  # a person marks it done
    assert pipeline.sync(make_call("c-tid3", PHONE, answered=False)).task_created
    assert len(world.fake.records_in(TASKS)) == 2


def test_t1_a_call_back_of_ten_seconds_closes_the_task_and_is_written_on_it(world: NetHuntWorld) -> None:
    world.fake.drop_field(TASKS, "Phone")  # found by the id ringbridge created, not by a search
    world.fake.add_record(CONTACTS, {"Name": "Jan", "Phone": PHONE, "Responsible": ANNA_EMAIL})
    pipeline = world.pipeline()
    assert pipeline.sync(make_call("c-miss", PHONE, answered=False)).task_created
    [task] = world.fake.records_in(TASKS)
    pipeline.sync(_callback("c-5s", talk=5))  # T1: too short
    pipeline.sync(_callback("c-none", talk=0, answered=False))  # T1: not answered
    assert task["fields"].get("Completed") is not True
    pipeline.sync(_callback("c-10s", talk=10))  # T1: >= CallbackCloseMinTalkSeconds
    assert task["fields"]["Completed"] is True
    assert "Ringostat call c-10s; call-back done (outgoing" in task["fields"]["Description"]  # the closing call
    assert task["fields"]["Description"].startswith("Call back")  # the task's own text kept
    assert pipeline.calls.records["c-10s"].sync_steps["callback"] == task["recordId"]  # kept on the call
    updates = len(world.fake.requests_matching("POST", f"/actions/update-record/{task['recordId']}"))
    assert world.crm.close_callback(PHONE, _callback("c-10s", talk=10), known_id=task["recordId"]) is None  # twice
    pipeline.sync(_callback("c-again", talk=30))  # a later call-back: nothing left to close
    assert len(world.fake.requests_matching("POST", f"/actions/update-record/{task['recordId']}")) == updates == 1


def test_t1_a_deleted_task_falls_back_to_the_phone_search_and_a_later_task_is_left_open(world: NetHuntWorld) -> None:
    assert world.crm.close_callback(PHONE, _callback("c-none", talk=15)) is None  # no task of ours: no request
    assert not world.fake.exchanges
    gone = world.fake.add_record(TASKS, {"Name": "Call back", "Phone": PHONE, "Completed": False})
    world.fake.delete_record(gone)
    task = world.fake.add_record(TASKS, {"Name": "Call back Jan", "Phone": PHONE, "Completed": False})
    earlier = make_call("c-early", PHONE, direction=Direction.OUTGOING, started=datetime.now(UTC) - timedelta(hours=1))
    assert world.crm.close_callback(PHONE, earlier, known_id=gone) is None  # the task came after that call ended
    assert world.crm.close_callback(PHONE, _callback("c-cb", talk=15), known_id=gone) == task
    assert world.fake.records[task]["fields"]["Completed"] is True


def test_t1_a_tasks_folder_without_the_done_field_leaves_the_task_open(world: NetHuntWorld) -> None:
    world.fake.drop_field(TASKS, "Completed")
    task = world.fake.add_record(TASKS, {"Name": "Call back Jan", "Phone": PHONE})
    assert world.crm.close_callback(PHONE, _callback("c-nodone", talk=15), known_id=task) is None
    assert not world.fake.requests_matching("POST", "/actions/update-record")  # no write the folder would refuse
