"""Scenarios that drive each adapter through every operation it has, against its fake."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ringbridge.crm import KeyCrmConfig, NetHuntConfig, build_keycrm, build_nethunt
from ringbridge.crm.checks import KeyCrmCheck, NetHuntCheck
from ringbridge.domain.calls import Direction, Utm
from ringbridge.domain.crm import CrmContact, TaskDraft
from ringbridge.domain.rules import FunnelMode, SyncRules
from tests.fakes import FakeClock
from tests.fakes import keycrm as keycrm_fake
from tests.fakes import nethunt as nethunt_fake
from tests.fakes.pipeline import ANNA, PIOTR, Employees, Pipeline, make_call

UTM = Utm(source="google", medium="cpc", campaign="spring", term="crm", content="ad")


def keycrm_full_scenario(fake: keycrm_fake.FakeKeyCrm) -> None:
    """Every KeyCRM adapter operation, through ``sync_call`` where the pipeline reaches it."""
    clock = FakeClock()
    crm = build_keycrm(
        keycrm_fake.API_KEY,
        KeyCrmConfig(base_url=f"{fake.url}/v1", source_id=7, buyer_fields={"source": "CT_1", "utm_source": "CT_2"}),
        Employees(ANNA, PIOTR),
        clock=clock,
    )
    once = Pipeline(crm)
    once.sync(make_call("k1", "+48123456789", utm=UTM, keyword="crm"))  # new, answered
    once.sync(make_call("k1", "+48123456789", utm=UTM, recording_url="https://rec.example/k1.mp3"))  # L4
    once.sync(make_call("k2", "+48123456780", answered=False))  # new, missed: reminder
    once.sync(make_call("k3", "+48123456789", employee=PIOTR))  # known
    once.sync(make_call("k4", "+48600700800", direction=Direction.OUTGOING))  # P5
    legacy = fake.add_buyer("Legacy", ["0048500600700", "500600700"])
    fake.add_card(legacy, status_id=13)
    repeat = Pipeline(crm, funnel_mode=FunnelMode.REPEATABLE, funnel_id="1")
    repeat.sync(make_call("k5", "+48500600700"))  # known, only a won card: a new card
    repeat.sync(make_call("k6", "+48500600700", answered=False))  # reminder on the open card
    later = datetime.now(UTC) + timedelta(minutes=1)
    repeat.sync(make_call("k6b", "+48500600700", started=later))  # T1: the card read by id, its reminder cleared
    crm.create_task(
        TaskDraft(call_id="k7", phone="+48700800900", due_at="2030-01-01T10:00:00Z", text="Call back", assignee=ANNA)
    )  # no buyer: a card with its own contact
    crm.find_open_task("+48500600700")
    crm.find_active_card("+48123456789", CrmContact(crm_id="101", phone="+48123456789"))
    one_funnel = build_keycrm(keycrm_fake.API_KEY, KeyCrmConfig(base_url=f"{fake.url}/v1", pipeline_id=1), clock=clock)
    one_funnel.find_active_card("+48123456789", CrmContact(crm_id="101", phone="+48123456789"))
    now = datetime.now(UTC)
    crm.changed_since(None, now, None)  # R2: the full import
    crm.changed_since(now - timedelta(minutes=15), now, "1")  # R2: the scheduled pull
    # crm check: funnels, the funnel's statuses, sources, users, the buyers' custom fields
    findings = KeyCrmCheck(crm, SyncRules(funnel_id="1")).findings([ANNA, PIOTR])
    assert all(finding.ok for finding in findings), findings


NH_ANNA = ANNA.model_copy(update={"crm_manager_id": nethunt_fake.ANNA_EMAIL})
NH_PIOTR = PIOTR.model_copy(update={"crm_manager_id": nethunt_fake.PIOTR_EMAIL})


def nethunt_config(fake: nethunt_fake.FakeNetHunt, **values: object) -> NetHuntConfig:
    return NetHuntConfig.model_validate(
        {
            "base_url": f"{fake.url}{nethunt_fake.PREFIX}",
            "email": nethunt_fake.EMAIL,
            "contacts_folder_id": nethunt_fake.CONTACTS,
            "deals_folder_id": nethunt_fake.DEALS,
            "tasks_folder_id": nethunt_fake.TASKS,
            "responsible_field": "Responsible",
            **values,
        }
    )


def nethunt_full_scenario(fake: nethunt_fake.FakeNetHunt) -> None:
    """Every NetHunt adapter operation, through ``sync_call`` where the pipeline reaches it."""
    clock = FakeClock()
    employees = Employees(NH_ANNA, NH_PIOTR)
    crm = build_nethunt(nethunt_fake.API_KEY, nethunt_config(fake), employees, clock=clock)
    once = Pipeline(crm, employees=employees)
    once.sync(make_call("n1", "+48123456789", utm=UTM, keyword="crm"))  # new, answered: contact, deal, call log
    once.sync(make_call("n1", "+48123456789", utm=UTM, recording_url="https://rec.example/n1.mp3"))  # L4: a comment
    once.sync(make_call("n2", "+48123456780", answered=False))  # new, missed: task
    once.sync(make_call("n3", "+48123456789", employee=PIOTR))  # known
    once.sync(make_call("n4", "+48600700800", direction=Direction.OUTGOING))  # P5
    fake.add_record(nethunt_fake.DEALS, {"Name": "old", "Phone": "+48500600700", "Stage": "Won"})
    fake.add_record(nethunt_fake.CONTACTS, {"Name": "Legacy", "Phone": "+48500600700"})
    repeat = Pipeline(crm, employees=employees, funnel_mode=FunnelMode.REPEATABLE)
    repeat.sync(make_call("n5", "+48500600700"))  # known, only a won deal: a new deal
    repeat.sync(make_call("n6", "+48500600700", answered=False))  # task
    later = datetime.now(UTC) + timedelta(minutes=1)
    repeat.sync(make_call("n6b", "+48500600700", direction=Direction.OUTGOING, started=later))  # T1: task done by id
    no_tasks = build_nethunt(nethunt_fake.API_KEY, nethunt_config(fake, tasks_folder_id=""), employees, clock=clock)
    contact = no_tasks.find_contact("+48500600700")
    assert contact is not None
    no_tasks.create_task(
        TaskDraft(
            call_id="n7", phone="+48500600700", contact=contact, due_at="2030-01-01T10:00:00Z", text="Call back", assignee=NH_ANNA
        )
    )  # without a tasks folder: a comment
    crm.changed_since(None, datetime.now(UTC), None)  # R2: the contacts' pull
    # crm check: the writable folders, each folder's fields (read now, not from the sync's cache)
    findings = NetHuntCheck(crm, SyncRules()).findings([NH_ANNA, NH_PIOTR])
    assert [finding.check for finding in findings if not finding.ok] == ["managers' e-mails"], findings
