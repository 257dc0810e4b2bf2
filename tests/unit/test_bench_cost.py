"""The bench's cost model counts DynamoDB units by AWS's rules, and its table says pass or fail.

``make bench`` itself is not a test (its figures depend on the machine); its arithmetic is.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.bench import cost
from tests.bench.__main__ import Row, table


def s(value: str) -> dict[str, str]:
    return {"S": value}


CALL = {"call_id": s("c1"), "started_at": s("2026-11-23T10:00:00Z"), "other_party": s("+48221234567"), "status": s("missed")}


def test_item_size_is_names_plus_values() -> None:
    assert cost.item_size({"call_id": s("abc")}) == 7 + 3
    assert cost.item_size({"version": {"N": "123"}}) == 7 + 2 + 1  # 3 digits: 2 bytes, plus 1
    assert cost.item_size({"ok": {"BOOL": True}}) == 2 + 1
    # a map: 3 bytes, then per element 1 byte, its name and its value
    assert cost.item_size({"utm": {"M": {"source": s("google")}}}) == 3 + 3 + 1 + 6 + 6
    assert cost.item_size({"moments": {"L": [s("a"), s("bc")]}}) == 7 + 3 + (1 + 1) + (1 + 2)
    assert cost.item_size(None) == 0


@pytest.mark.parametrize(("size", "units"), [(0, 1), (1, 1), (1024, 1), (1025, 2), (3000, 3)])
def test_a_write_unit_per_started_kilobyte(size: int, units: int) -> None:
    assert cost.write_units(size) == units


@pytest.mark.parametrize(
    ("size", "consistent", "units"),
    [(0, False, 0.5), (4096, False, 0.5), (4097, False, 1.0), (4096, True, 1.0), (9000, True, 3.0)],
)
def test_reads_by_4_kb_half_a_unit_when_eventually_consistent(size: int, consistent: bool, units: float) -> None:
    assert cost.read_units(size, consistent) == units


def index(projection: str, included: tuple[str, ...] = ()) -> cost.Index:
    return cost.Index("CallsTable", "by_other_party", ("other_party", "started_at"), ("call_id",), projection, included)


def test_an_index_is_written_only_when_what_it_holds_changes() -> None:
    answered = {**CALL, "status": s("answered")}
    keys_only, everything, statuses = index("KEYS_ONLY"), index("ALL"), index("INCLUDE", ("status",))
    # a new item enters every index that has its keys
    assert [i.write_units(None, CALL) for i in (keys_only, everything, statuses)] == [1, 1, 1]
    # a non-key change: nothing for keys only, one write where the attribute is projected
    assert [i.write_units(CALL, answered) for i in (keys_only, everything, statuses)] == [0, 1, 1]
    assert keys_only.write_units(CALL, {**CALL, "talk_time": {"N": "30"}}) == 0
    assert statuses.write_units(CALL, {**CALL, "talk_time": {"N": "30"}}) == 0
    # a key change: delete the old entry, put the new one
    assert keys_only.write_units(CALL, {**CALL, "other_party": s("+48601000001")}) == 2
    # an item without the index's keys is not in it; leaving the index is a delete
    assert keys_only.write_units({"call_id": s("c2")}, {"call_id": s("c2"), "status": s("x")}) == 0
    assert keys_only.write_units(CALL, None) == 1
    # the projected size decides the units: 1.5 KB projected ALL is 2, its keys only 1
    big = {**CALL, "extra": s("x" * 1500)}
    assert (everything.write_units(None, big), keys_only.write_units(None, big)) == (2, 1)


def traced(*requests: cost.Request) -> cost.Trace:
    trace = cost.Trace()
    trace.requests.extend(requests)
    return trace


def test_table_write_units_failed_conditions_and_transactions() -> None:
    indexes = {"CallsTable": [index("KEYS_ONLY")]}
    big = {**CALL, "extra": s("x" * 1500)}  # about 1.6 KB
    put = cost.Request("PutItem", writes=[("CallsTable", None, big)])
    assert cost.dynamodb_units(traced(put), indexes) == (2 + 1, 0.0)
    # a write whose condition fails pays by the existing item's size, and no index write
    refused = cost.Request("PutItem", writes=[("CallsTable", big, big)], failed=True)
    assert cost.dynamodb_units(traced(refused), indexes) == (2, 0.0)
    # an update: the larger of before and after
    shrink = cost.Request("UpdateItem", writes=[("CallsTable", big, CALL)])
    assert cost.dynamodb_units(traced(shrink), indexes) == (2, 0.0)
    # a transaction's writes cost twice
    transaction = cost.Request("TransactWriteItems", writes=[("DedupTable", None, {"id": s("a")})], transaction=True)
    assert cost.dynamodb_units(traced(transaction), indexes) == (2, 0.0)


def test_read_units_per_item_and_per_query_size() -> None:
    item: dict[str, Any] = {**CALL, "extra": s("x" * 5000)}  # about 5 KB
    indexes = {"CallsTable": [index("KEYS_ONLY")]}
    get = cost.Request("GetItem", reads=[("CallsTable", item)], consistent=True)
    missing = cost.Request("GetItem", reads=[("CallsTable", None)])
    batch = cost.Request("BatchGetItem", reads=[("CallsTable", item), ("CallsTable", CALL)])
    # a Query on a keys-only index reads the keys only: 3 small entries fit in one 4 KB block
    query = cost.Request("Query", reads=[("CallsTable", item)] * 3, index="by_other_party")
    scan_whole = cost.Request("Query", reads=[("CallsTable", item)] * 3)
    assert cost.dynamodb_units(traced(get), indexes) == (0, 2.0)
    assert cost.dynamodb_units(traced(missing), indexes) == (0, 0.5)
    assert cost.dynamodb_units(traced(batch), indexes) == (0, 1.0 + 0.5)
    assert cost.dynamodb_units(traced(query), indexes) == (0, 0.5)
    assert cost.dynamodb_units(traced(scan_whole), indexes) == (0, 2.0)  # 15 KB: 4 blocks


def test_template_indexes_and_the_before_projections() -> None:
    after = {i.name: i.projection for i in cost.template_indexes()["CallsTable"]}
    before = {i.name: i.projection for i in cost.template_indexes(cost.BEFORE_PROJECTIONS)["CallsTable"]}
    assert set(after) == {"by_other_party", "by_contact", "by_manager", "by_day"}
    assert set(before.values()) == {"ALL"}


def test_the_table_shows_value_goal_ratio_and_verdict() -> None:
    rows = [
        Row("cold import / floor", 1.17, 1.3, unit="x"),
        Row("calls per event", 9.0, 6),
        Row("bytecode", 95.0, 90, at_most=False, unit=" %"),
        Row("not run", None, 1.1),
    ]
    lines = table(rows).splitlines()
    assert lines[0] == "| Figure | Value | Goal | Value / goal | Pass |"
    assert lines[2] == "| cold import / floor | 1.17x | ≤ 1.3x | 0.90 | pass |"
    assert lines[3] == "| calls per event | 9.00 | ≤ 6 | 1.50 | **FAIL** |"
    assert lines[4] == "| bytecode | 95.00 % | ≥ 90 % | 0.95 | pass |"
    assert lines[5] == "| not run | not measured | ≤ 1.1 | not measured | n/a |"
    assert rows[1].as_dict()["pass"] is False


def test_estimate_multiplies_usage_by_the_named_prices() -> None:
    use = cost.Usage(
        dynamodb_write_units_per_event=10,
        dynamodb_read_units_per_event=4,
        listing_read_units_per_call=5,
        routing_read_units_per_ping=0.5,
        sqs_requests_per_event=3,
        log_bytes_per_event=1000,
        emf_bytes_per_ping=200,
        routing_ms=0,
        ack_ms=0,
        worker_ms=0,
    )
    usd = cost.estimate(use)
    events = cost.CALLS * cost.EVENTS_PER_CALL
    assert usd["usd_dynamodb_writes"] == pytest.approx(events * 10 * cost.DYNAMODB_WRITE_UNIT_USD)
    reads = events * 4 + cost.CALLS * cost.PINGS_PER_CALL * 0.5 + cost.CALLS * 5
    assert usd["usd_dynamodb_reads"] == pytest.approx(reads * cost.DYNAMODB_READ_UNIT_USD)
    assert usd["usd_sqs"] == pytest.approx(events * 3 * cost.SQS_REQUEST_USD)
    invocations = cost.CALLS * cost.PINGS_PER_CALL + 2 * events
    assert usd["usd_lambda"] == pytest.approx(invocations * cost.LAMBDA_REQUEST_USD)  # no duration: requests only
    logged = events * 1000 + invocations * cost.LAMBDA_PLATFORM_LOG_BYTES + cost.CALLS * 200
    assert usd["usd_logs"] == pytest.approx(logged / 1e9 * cost.LOGS_INGESTED_GB_USD)
    assert usd["usd_total"] == pytest.approx(sum(value for name, value in usd.items() if name != "usd_total"))
