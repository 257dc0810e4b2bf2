"""One rate limit per CRM key across every worker: containers together never exceed KeyCRM's 60 a minute.

Each simulated container is a thread with its own adapter, HTTP session and budget client, as
Lambda containers would have; they share only what containers share: the dedup table (moto)
and the CRM (the strict KeyCRM fake, which refuses the 61st request of any 60 seconds per key
with 429). Time is a ``VirtualClock``: minutes of waiting for slots take a few real seconds,
and the busiest minute is counted on the fake's own record of arrivals.

The figures (requests, workers, the busiest minute, 429s, simulated time, DynamoDB calls per
CRM request) are printed in the terminal summary and quoted in docs/crms.md.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from local.poller import QueuePoller
from local.runtime import LambdaContext
from ringbridge.crm import KeyCrmConfig, RateSettings, build_keycrm
from ringbridge.storage.rate_budget import DynamoRateBudget
from tests.fakes import VirtualClock
from tests.fakes import keycrm as keycrm_fake
from tests.integration.conftest import AwsStack
from tests.integration.pipeline_helpers import after_call, send

FIGURES: list[str] = []  # printed by tests/integration/conftest.py's terminal summary


class AtomicWrites:
    """A DynamoDB client whose conditional writes are atomic, as DynamoDB's are.

    DynamoDB checks a write's condition and applies the write as one step for the item (its
    developer guide, "Condition expressions"); moto checks and applies in Python with no lock,
    so two threads can both pass one condition. Here one write runs at a time. dynalite
    (``--dynamodb=dynalite``) is a server of its own and needs none of it.
    """

    _one_at_a_time = threading.Lock()

    def __init__(self, client: Any) -> None:
        self._client = client
        self.exceptions = client.exceptions

    def update_item(self, **request: Any) -> Any:
        with self._one_at_a_time:
            return self._client.update_item(**request)


def shared_budget(table: str) -> DynamoRateBudget:
    """A container's client of the shared budget, through ringbridge's own DynamoDB client."""
    from ringbridge.storage.aws import client

    return DynamoRateBudget(table, dynamodb=AtomicWrites(client("dynamodb")))


@dataclasses.dataclass
class Run:
    requests: int  # requests the CRM received
    refused: int  # of them answered 429
    busiest_minute: int
    simulated_seconds: float
    dynamodb_calls: int
    failures: list[Exception]

    def figures(self, what: str, workers: int) -> str:
        per_request = self.dynamodb_calls / self.requests if self.requests else 0.0
        return (
            f"{what}: {self.requests} CRM requests from {workers} workers; busiest 60 s: {self.busiest_minute}; "
            f"429s: {self.refused}; simulated {self.simulated_seconds:.0f} s; "
            f"DynamoDB calls per CRM request: {per_request:.2f}; gave up: {len(self.failures)}"
        )


@pytest.fixture
def keycrm() -> Iterator[tuple[keycrm_fake.FakeKeyCrm, VirtualClock]]:
    clock = VirtualClock()
    fake = keycrm_fake.FakeKeyCrm(monotonic=clock.monotonic)  # 60 requests in any 60 s per key
    fake.start()
    yield fake, clock
    fake.stop()


def run_containers(clock: VirtualClock, workers: int, work: Callable[[int], None]) -> list[Exception]:
    """``work(index)`` in ``workers`` threads at once on the virtual clock; the exceptions they ended with."""
    failures: list[Exception] = []

    def container(index: int) -> None:
        try:
            work(index)
        except Exception as error:  # noqa: BLE001 - collected: the test asserts there are none
            failures.append(error)
        finally:
            clock.leave()

    clock.take_part(workers)
    threads = [threading.Thread(target=container, args=(index,), name=f"container-{index}") for index in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a container is stuck"
    return failures


def push_requests(
    fake: keycrm_fake.FakeKeyCrm,
    clock: VirtualClock,
    workers: int,
    total: int,
    budget: Callable[[], DynamoRateBudget | None],
    margin: float = RateSettings.margin,
) -> Run:
    budgets: list[DynamoRateBudget] = []

    def work(index: int) -> None:
        shared = budget()
        if shared is not None:
            budgets.append(shared)
        crm = build_keycrm(
            keycrm_fake.API_KEY,
            KeyCrmConfig(base_url=f"{fake.url}/v1"),
            clock=clock,
            rate=RateSettings(budget=shared, margin=margin),
        )
        for number in range(index, total, workers):
            assert crm.find_contact(f"+486017{number:05d}") is None  # one GET /buyer each

    failures = run_containers(clock, workers, work)
    return Run(
        requests=len(fake.exchanges),
        refused=sum(1 for e in fake.exchanges if e.status == 429),
        busiest_minute=fake.busiest_window(60.0),
        simulated_seconds=clock.now - clock.start,
        dynamodb_calls=sum(b.writes for b in budgets),
        failures=failures,
    )


def test_workers_sharing_the_budget_never_exceed_the_crm_limit(aws: AwsStack, keycrm: Any) -> None:
    """200 requests from 5 containers at once: no 429, no minute above 60, every request answered."""
    fake, clock = keycrm
    table = aws.environment["DEDUP_TABLE"]
    run = push_requests(fake, clock, workers=5, total=200, budget=lambda: shared_budget(table))
    FIGURES.append(run.figures("shared budget (default margin 10 %)", 5))
    print(FIGURES[-1])
    assert run.failures == []
    assert run.requests == 200  # every request went through, none was repeated
    assert run.refused == 0
    assert run.busiest_minute <= 54  # 60 less the 10 % margin
    assert run.simulated_seconds == pytest.approx(199 * 60 / 54, abs=60 / 54)  # evenly spread, nothing wasted
    assert run.dynamodb_calls / run.requests <= 1.5
    # The budget's item is named by a hash of the key, never the key; the table's TTL removes it.
    items = [i for i in aws.items("DedupTable") if i["id"].startswith("crm-rate#")]
    assert len(items) == 1 and keycrm_fake.API_KEY not in str(items[0]) and items[0]["expiration"] > time.time()


def test_without_a_margin_the_busiest_minute_is_exactly_the_limit(aws: AwsStack, keycrm: Any) -> None:
    fake, clock = keycrm
    table = aws.environment["DEDUP_TABLE"]
    run = push_requests(fake, clock, workers=3, total=150, budget=lambda: shared_budget(table), margin=0.0)
    FIGURES.append(run.figures("shared budget, no margin", 3))
    print(FIGURES[-1])
    assert run.failures == []
    assert run.requests == 150
    assert run.busiest_minute == 60  # the whole limit, not one more
    assert run.refused == 0


def test_per_container_limits_alone_trip_the_crm_limit(keycrm: Any) -> None:
    """The control: the same load with each container's own slots only (no shared budget) draws 429s."""
    fake, clock = keycrm
    run = push_requests(fake, clock, workers=5, total=200, budget=lambda: None)
    FIGURES.append(run.figures("per-container limits only (control)", 5))
    print(FIGURES[-1])
    assert run.refused > 0
    assert run.busiest_minute > 60  # what reached the CRM in its busiest minute, refused requests included


def test_parallel_worker_invocations_draw_no_429(aws: AwsStack, monkeypatch: pytest.MonkeyPatch, keycrm: Any) -> None:
    """The worker path: 4 copies of the CRM sync function (one per container) drain 16 missed calls at once."""
    from ringbridge import crm as adapters
    from ringbridge import wiring
    from ringbridge.config import settings
    from ringbridge.secrets import reset_secrets

    fake, clock = keycrm
    for name, value in {"CRM": "keycrm", "CRM_BASE_URL": f"{fake.url}/v1", "KEYCRM_SOURCE_ID": "1"}.items():
        monkeypatch.setenv(name, value)
    boto3.client("ssm").put_parameter(
        Name=aws.environment["CRM_API_KEY_PARAM"], Value=keycrm_fake.API_KEY, Type="SecureString", Overwrite=True
    )
    settings.cache_clear()
    reset_secrets()
    calls = [f"rl-{n}" for n in range(16)]
    for n, call_id in enumerate(calls):
        send(aws, after_call(call_id, "in", False, phone=f"+486019{n:05d}"))

    # One CRM adapter per container (wiring.crm() is cached per process, i.e. per container), built as
    # wiring builds it, on the virtual clock.
    containers = threading.local()

    class ContainerCrm:
        def __call__(self) -> Any:
            if not hasattr(containers, "crm"):
                config = wiring.settings()
                api_key = keycrm_fake.API_KEY
                rate = wiring.crm_rate()  # the installation's margin and wait, and the dedup table's budget
                assert isinstance(rate.budget, DynamoRateBudget)
                rate = dataclasses.replace(rate, budget=shared_budget(rate.budget.table))
                containers.crm = adapters.build_crm(
                    config.crm, api_key, config.crm_environment, managers=wiring.employees(), rate=rate, clock=clock
                )
            return containers.crm

        def cache_clear(self) -> None:
            pass

    monkeypatch.setattr(wiring, "crm", ContainerCrm())
    spec = aws.functions["CrmSyncFunction"].spec
    aws.module("CrmSyncFunction")  # its folder on sys.path
    trigger = dataclasses.replace(spec.sqs_triggers[0], batch_size=2)
    queue = aws.attributes[trigger.queue]

    class Container:
        """A container of the worker: its own copy of the handler module (its own batch processor)."""

        def __init__(self, index: int) -> None:
            loader = importlib.util.spec_from_file_location(f"crm_sync_container_{index}", spec.code_dir / "app.py")
            assert loader is not None and loader.loader is not None
            self.module = importlib.util.module_from_spec(loader)
            loader.loader.exec_module(self.module)
            self.spec = spec

        def invoke(self, event: dict[str, Any]) -> Any:
            return self.module.lambda_handler(event, LambdaContext(spec.logical_id, spec.memory_mb, spec.timeout))

    def work(index: int) -> None:
        poller = QueuePoller(boto3.client("sqs"), queue["QueueUrl"], queue["Arn"], trigger, Container(index))  # type: ignore[arg-type]
        while poller.poll_once(wait_seconds=0):
            pass

    failures = run_containers(clock, 4, work)
    assert failures == []
    assert aws.queue_depth("CallQueue") == 0 and aws.queue_depth("CallDeadLetterQueue") == 0
    assert len(fake.buyers) == len(calls)  # every call reached the CRM
    refused = sum(1 for e in fake.exchanges if e.status == 429)
    FIGURES.append(
        f"worker path: {len(calls)} missed calls by 4 workers at once, {len(fake.exchanges)} CRM requests; "
        f"busiest 60 s: {fake.busiest_window(60.0)}; 429s: {refused}; simulated {clock.now - clock.start:.0f} s"
    )
    print(FIGURES[-1])
    assert refused == 0
    assert fake.busiest_window(60.0) <= 54


def test_the_budget_hands_each_slot_out_once_and_reserves_none_beyond_the_wait(aws: AwsStack) -> None:
    table = aws.environment["DEDUP_TABLE"]
    one, other = DynamoRateBudget(table), DynamoRateBudget(table)  # two containers
    assert one.claim("keycrm#k", 100, 110) == 100  # idle key: the current slot
    assert other.claim("keycrm#k", 100, 110) == 101  # busy: the next free one
    assert one.claim("keycrm#k", 100, 110) == 102
    assert other.claim("keycrm#k", 105, 110) == 105  # the counter fell behind the time: it jumps, never back
    assert [one.claim("keycrm#k", 105, 110) for _ in range(6)] == [106, 107, 108, 109, 110, None]  # full up to latest
    assert other.claim("keycrm#k", 105, 110) is None  # refused without taking a slot: the next wait is not longer
    assert one.claim("keycrm#k", 105, 111) == 111
    assert one.claim("keycrm#other", 105, 110) == 105  # another key, another budget
    item = aws.dynamodb.get_item(TableName=table, Key={"id": {"S": "crm-rate#keycrm#k"}})["Item"]
    assert item["next"] == {"N": "112"}


def test_the_fake_counts_a_sliding_minute_per_key_across_clients() -> None:
    """The strict KeyCRM fake: 60 requests in *any* 60 s per key, whichever client sends them, on an injected clock."""
    import requests

    from tests.fakes import FakeClock

    clock = FakeClock(start=0.0)
    with keycrm_fake.FakeKeyCrm(monotonic=clock.monotonic) as fake:

        def get(client: requests.Session, key: str = keycrm_fake.API_KEY) -> int:
            return client.get(f"{fake.url}/v1/users", headers={"Authorization": f"Bearer {key}"}, timeout=5).status_code

        first, second = requests.Session(), requests.Session()
        assert [get(first) for _ in range(30)] == [200] * 30  # at 0 s
        clock.advance(30.0)
        assert [get(second) for _ in range(30)] == [200] * 30  # at 30 s, another client, the same key
        clock.advance(29.0)
        refused = first.get(f"{fake.url}/v1/users", headers={"Authorization": f"Bearer {keycrm_fake.API_KEY}"}, timeout=5)
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"  # at 59 s: 60 in the last minute
        fake.api_key = "other-key"
        assert get(first, "other-key") == 200  # another key counts apart
        fake.api_key = keycrm_fake.API_KEY
        clock.advance(1.0)
        assert [get(second) for _ in range(30)] == [200] * 30  # at 60 s the first 30 left the window
        assert get(first) == 429  # a fixed window restarting at 60 s would take it; the sliding one does not
        assert fake.busiest_window(60.0) == 62  # 60 accepted of one key and the refusals, each minute counted whole
