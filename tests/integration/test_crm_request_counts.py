"""Requests per call event per CRM (the figures in docs/crm-adapters.md), with default rules and warm caches.

Default rules: contacts from incoming calls, a card in one-time mode for incoming calls,
a call-back task for missed calls. "Warm" means the per-container caches (KeyCRM statuses,
NetHunt folder fields) are filled, as in a Lambda container that has already handled a call.
A change of these numbers is a change of API usage (KeyCRM allows 60 requests a minute).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from ringbridge.crm import KeyCrmConfig, NetHuntConfig, build_keycrm, build_nethunt
from ringbridge.domain.calls import CallRecord, Direction
from ringbridge.domain.crm import CrmPort
from ringbridge.domain.rules import FunnelMode
from tests.fakes import FakeClock, FakeCrmServer
from tests.fakes import keycrm as keycrm_fake
from tests.fakes import nethunt as nethunt_fake
from tests.fakes.pipeline import ANNA, Employees, Pipeline, make_call

EVENTS: list[tuple[str, Callable[[], CallRecord]]] = [
    ("new incoming answered", lambda: make_call("e1", "+48123456789")),
    ("recording link later (L4)", lambda: make_call("e1", "+48123456789", recording_url="https://rec.example/e1.mp3")),
    ("new incoming missed", lambda: make_call("e2", "+48123456780", answered=False)),
    ("known incoming answered", lambda: make_call("e3", "+48123456789")),
    ("known incoming missed", lambda: make_call("e4", "+48123456789", answered=False)),
]

EXPECTED = {
    "keycrm": {
        "new incoming answered": 5,
        "recording link later (L4)": 3,
        "new incoming missed": 9,
        "known incoming answered": 3,
        "known incoming missed": 6,
    },
    "nethunt": {
        "new incoming answered": 5,
        "recording link later (L4)": 4,
        "new incoming missed": 7,
        "known incoming answered": 3,
        "known incoming missed": 5,
    },
}


# Repeatable mode (F3): the card ringbridge opened is read by id (one request; KeyCRM's scan
# took one per open status); the first missed call still searches for an open call-back (no
# task known yet); a call-back (T1) reads the task ringbridge created by id and closes it (2).
REPEATABLE_EXPECTED = {
    "keycrm": {"known incoming answered, its card open": 4, "missed": 7, "call-back of 30 s": 5},
    "nethunt": {"known incoming answered, its card open": 4, "missed": 6, "call-back of 30 s": 5},
}


def measure(fake: FakeCrmServer, pipeline: Pipeline) -> dict[str, int]:
    # Fill the per-container caches, as earlier calls in the same Lambda container would.
    pipeline.sync(make_call("warm-up-1", "+48999888777"))
    pipeline.sync(make_call("warm-up-2", "+48999888666", answered=False))
    counts = {}
    for name, event in EVENTS:
        before = len(fake.exchanges)
        pipeline.sync(event())
        counts[name] = len(fake.exchanges) - before
    return counts


def _crm(crm_kind: str, clock: FakeClock) -> tuple[FakeCrmServer, CrmPort]:
    fake: FakeCrmServer
    crm: CrmPort
    if crm_kind == "keycrm":
        fake = keycrm_fake.FakeKeyCrm(monotonic=clock.monotonic)
        fake.start()
        crm = build_keycrm(
            keycrm_fake.API_KEY, KeyCrmConfig(base_url=f"{fake.url}/v1", pipeline_id=1), Employees(ANNA), clock=clock
        )
    else:
        fake = nethunt_fake.FakeNetHunt(monotonic=clock.monotonic)
        fake.start()
        config = NetHuntConfig(
            base_url=f"{fake.url}{nethunt_fake.PREFIX}",
            email=nethunt_fake.EMAIL,
            contacts_folder_id=nethunt_fake.CONTACTS,
            deals_folder_id=nethunt_fake.DEALS,
            tasks_folder_id=nethunt_fake.TASKS,
        )
        crm = build_nethunt(nethunt_fake.API_KEY, config, Employees(ANNA), clock=clock)
    return fake, crm


@pytest.mark.parametrize("crm_kind", ["keycrm", "nethunt"])
def test_requests_per_call_event(crm_kind: str) -> None:
    fake, crm = _crm(crm_kind, FakeClock())
    try:
        counts = measure(fake, Pipeline(crm))
    finally:
        fake.stop()
    print(f"\n{crm_kind}: " + ", ".join(f"{name}: {count}" for name, count in counts.items()))
    assert counts == EXPECTED[crm_kind]


@pytest.mark.parametrize("crm_kind", ["keycrm", "nethunt"])
def test_requests_per_call_event_in_repeatable_mode_with_known_ids(crm_kind: str) -> None:
    fake, crm = _crm(crm_kind, FakeClock())
    pipeline = Pipeline(crm, funnel_mode=FunnelMode.REPEATABLE)
    later = datetime.now(UTC) + timedelta(minutes=1)
    events = {
        "known incoming answered, its card open": make_call("r2", "+48123456789"),
        "missed": make_call("r3", "+48123456789", answered=False),
        "call-back of 30 s": make_call("r4", "+48123456789", direction=Direction.OUTGOING, started=later),
    }
    try:
        pipeline.sync(make_call("r0", "+48999888777", answered=False))  # warm caches, with a number of its own
        pipeline.sync(make_call("r1", "+48123456789"))  # the number's contact and card
        counts = {}
        for name, call in events.items():
            before = len(fake.exchanges)
            pipeline.sync(call)
            counts[name] = len(fake.exchanges) - before
    finally:
        fake.stop()
    print(f"\n{crm_kind} repeatable: " + ", ".join(f"{name}: {count}" for name, count in counts.items()))
    assert counts == REPEATABLE_EXPECTED[crm_kind]
