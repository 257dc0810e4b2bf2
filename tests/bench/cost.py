"""What a million calls cost on AWS, by AWS's billing rules, from what the bench run actually did.

The worker bench's run (ack and worker, in this process) is traced: every DynamoDB request with
the item images before and after it (read from moto's backend), every SQS message sent, every
byte the functions log at the production log level (INFO). :func:`usage` turns that trace into
billed units per event under a set of index projections, :func:`estimate` units into money.
"After" is this run under the template's projections; "before" is ``main`` as it was before the
performance work, recorded the same way (``baseline_main.json``: that run under the projections
``main`` had, every calls index and the contacts' ``by_contact_id`` projecting ALL). The
per-event counts come from the traced run, never from constants; what cannot be measured here
is a named assumption below.

DynamoDB on-demand, as AWS bills it:

- a write: one write unit per 1 KB (rounded up) of the larger of the item before and after;
  a transaction's write twice that; a write whose condition fails still pays by the item's size;
- every global secondary index the item is projected into: its own write units, by the
  projected size: a put when the item enters the index, a delete when it leaves, both when an
  index key changes, one write when a projected attribute changes, **none** when the write
  changes nothing the index holds (an index of keys only is untouched by non-key updates);
- a read: eventually consistent half a unit per 4 KB, strongly consistent one per 4 KB;
  GetItem and BatchGetItem per item (a missing item still costs the minimum); Query by the
  total size it reads, rounded up to 4 KB;
- item size: the UTF-8 bytes of every attribute name and value (numbers about one byte per two
  digits, plus one; lists and maps 3 bytes plus one byte per element).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import logging
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.template import load_template

# ---------------------------------------------------------------- prices (update them here)
# AWS on-demand list prices for us-east-1 (N. Virginia), each as published on AWS's pricing pages and
# repeated by independent pricing guides (checked on PRICES_DATE). Other regions differ (eu-central-1 is
# about a fifth dearer for DynamoDB, HTTP API and Logs): set the region's prices here to price it.
PRICES_REGION = "us-east-1"
PRICES_DATE = "2026-11-24"
DYNAMODB_WRITE_UNIT_USD = 0.625 / 1e6  # per write request unit (on-demand, since the November 2024 price cut)
DYNAMODB_READ_UNIT_USD = 0.125 / 1e6  # per read request unit
LAMBDA_GB_SECOND_USD = 0.0000133334  # arm64, the first 7.5 billion GB-seconds a month
LAMBDA_REQUEST_USD = 0.20 / 1e6
SQS_REQUEST_USD = 0.40 / 1e6  # standard queue, per 64 KB chunk of a request
HTTP_API_REQUEST_USD = 1.00 / 1e6  # API Gateway HTTP API, first 300 million a month (512 KB increments)
LOGS_INGESTED_GB_USD = 0.50  # CloudWatch Logs, standard class, per GB ingested (EMF metrics included)
CUSTOM_METRIC_MONTH_USD = 0.30  # per metric name and dimension set a month: fixed, not per call

# ---------------------------------------------------------------- the traffic model (assumptions)
CALLS = 1_000_000
EVENTS_PER_CALL = 2  # e.g. "call taken" and "after call": each acked, queued, synced once
PINGS_PER_CALL = 1  # one routing ping for each incoming call
# How often a call record is shown by a listing (GET /calls pages, GET /stats) over its life.
LISTINGS_PER_CALL = 10
# Lambda's own lines per invocation (START, END, REPORT): about this many bytes.
LAMBDA_PLATFORM_LOG_BYTES = 330
# Before/after: today's `main` projected ALL on these indexes; the template says what they are now.
BEFORE_PROJECTIONS = {
    ("CallsTable", "by_other_party"): "ALL",
    ("CallsTable", "by_contact"): "ALL",
    ("CallsTable", "by_manager"): "ALL",
    ("CallsTable", "by_day"): "ALL",
    ("ContactsTable", "by_contact_id"): "ALL",
}

KB = 1024
# `main`'s usage before the performance work, recorded by `python -m tests.bench --record-baseline`.
BASELINE = Path(__file__).with_name("baseline_main.json")
WRITES = {"PutItem", "UpdateItem", "DeleteItem"}


# ---------------------------------------------------------------- sizes and units
def _number_size(raw: str) -> int:
    digits = raw.lstrip("-").replace(".", "").strip("0") or "0"
    return math.ceil(len(digits) / 2) + 1


def _value_size(value: dict[str, Any]) -> int:
    ((kind, raw),) = value.items()
    sizes: dict[str, Any] = {
        "S": lambda: len(raw.encode()),
        "N": lambda: _number_size(raw),
        "B": lambda: len(raw) if isinstance(raw, bytes) else len(str(raw).encode()),
        "BOOL": lambda: 1,
        "NULL": lambda: 1,
        "SS": lambda: sum(len(element.encode()) for element in raw),
        "NS": lambda: sum(_number_size(element) for element in raw),
        "BS": lambda: sum(len(element) for element in raw),
        "L": lambda: 3 + sum(1 + _value_size(element) for element in raw),
        "M": lambda: 3 + sum(1 + len(name.encode()) + _value_size(element) for name, element in raw.items()),
    }
    if kind not in sizes:
        raise ValueError(f"unknown DynamoDB type {kind}")
    size: int = sizes[kind]()
    return size


def item_size(item: dict[str, Any] | None) -> int:
    """An item's billed size in bytes: attribute names plus values."""
    return sum(len(name.encode()) + _value_size(value) for name, value in (item or {}).items())


def write_units(size: int) -> int:
    return max(1, math.ceil(size / KB))


def read_units(size: int, consistent: bool) -> float:
    blocks = max(1, math.ceil(size / (4 * KB)))
    return blocks * (1.0 if consistent else 0.5)


# ---------------------------------------------------------------- indexes
@dataclass(frozen=True)
class Index:
    table: str
    name: str
    keys: tuple[str, ...]  # the index's own key attributes
    table_keys: tuple[str, ...]
    projection: str  # ALL | KEYS_ONLY | INCLUDE
    included: tuple[str, ...] = ()

    def project(self, item: dict[str, Any] | None) -> dict[str, Any] | None:
        """What the index holds of ``item`` (None: the item lacks a key, so it is not in the index)."""
        if item is None or any(key not in item for key in self.keys):
            return None
        if self.projection == "ALL":
            return item
        kept = set(self.keys) | set(self.table_keys) | (set(self.included) if self.projection == "INCLUDE" else set())
        return {name: value for name, value in item.items() if name in kept}

    def write_units(self, before: dict[str, Any] | None, after: dict[str, Any] | None) -> int:
        old, new = self.project(before), self.project(after)
        if old is None and new is None:
            return 0
        if old is None or new is None:
            return write_units(item_size(old if new is None else new))
        if any(old[key] != new[key] for key in self.keys):
            return write_units(item_size(old)) + write_units(item_size(new))
        return 0 if old == new else write_units(item_size(new))


def template_indexes(overrides: dict[tuple[str, str], str] | None = None) -> dict[str, list[Index]]:
    """Every table's global secondary indexes as the template declares them (``overrides``: projections)."""
    indexes: dict[str, list[Index]] = {}
    for table, props in load_template().tables.items():
        table_keys = tuple(key["AttributeName"] for key in props["KeySchema"])
        indexes[table] = []
        for gsi in props.get("GlobalSecondaryIndexes", []):
            projection = gsi["Projection"]
            kind = (overrides or {}).get((table, gsi["IndexName"]), projection["ProjectionType"])
            indexes[table].append(
                Index(
                    table=table,
                    name=gsi["IndexName"],
                    keys=tuple(key["AttributeName"] for key in gsi["KeySchema"]),
                    table_keys=table_keys,
                    projection=kind,
                    included=tuple(projection.get("NonKeyAttributes", [])),
                )
            )
    return indexes


# ---------------------------------------------------------------- the trace
@dataclass
class Request:
    """One DynamoDB request: what it wrote (item images) or read (full images of what it returned)."""

    operation: str
    writes: list[tuple[str, dict[str, Any] | None, dict[str, Any] | None]] = field(default_factory=list)
    reads: list[tuple[str, dict[str, Any] | None]] = field(default_factory=list)  # (table, full item)
    index: str | None = None
    consistent: bool = False
    transaction: bool = False
    failed: bool = False


@dataclass
class Trace:
    requests: list[Request] = field(default_factory=list)
    sqs_sent_bytes: list[int] = field(default_factory=list)
    sqs_sent_queues: list[str] = field(default_factory=list)
    log_bytes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- installation on ringbridge's boto3 session (its clients are created after this)
    def install(self) -> None:
        from local.runtime import add_layers_to_path

        add_layers_to_path(load_template())
        from ringbridge.observability import logger
        from ringbridge.storage.aws import _session, reset_clients

        events = _session().events
        events.register("before-parameter-build.dynamodb", self._before, unique_id=f"cost-before-{id(self)}")
        events.register("after-call.dynamodb", self._after, unique_id=f"cost-after-{id(self)}")
        events.register("before-parameter-build.sqs", self._sqs, unique_id=f"cost-sqs-{id(self)}")
        reset_clients()
        # Count what INFO would log (the template's default level) without printing it.
        self._logger = logger._logger  # Powertools' logging.Logger
        self._level = self._logger.level
        self._counter = _ByteCounter(self, logger.registered_formatter)
        self._handler_levels = [(handler, handler.level) for handler in self._logger.handlers]
        for handler, level in self._handler_levels:
            handler.setLevel(max(level, self._level))  # what printed before still prints, no more
        self._logger.addHandler(self._counter)
        self._logger.setLevel(logging.INFO)

    def uninstall(self) -> None:
        from ringbridge.storage.aws import _session

        events = _session().events
        events.unregister("before-parameter-build.dynamodb", unique_id=f"cost-before-{id(self)}")
        events.unregister("after-call.dynamodb", unique_id=f"cost-after-{id(self)}")
        events.unregister("before-parameter-build.sqs", unique_id=f"cost-sqs-{id(self)}")
        self._logger.removeHandler(self._counter)
        self._logger.setLevel(self._level)
        for handler, level in self._handler_levels:
            handler.setLevel(level)

    # -- hooks
    def _before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        targets = _targets(model.name, params)
        context["cost_request"] = Request(
            operation=model.name,
            index=params.get("IndexName"),
            consistent=bool(params.get("ConsistentRead")),
            transaction=model.name.startswith("Transact"),
        )
        context["cost_targets"] = [(table, key, _image(table, key)) for table, key in targets]
        context["cost_table"] = params.get("TableName", "")

    def _after(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        request: Request | None = context.pop("cost_request", None)
        if request is None:
            return
        request.failed = "Error" in parsed
        for table, key, before in context.pop("cost_targets", []):
            request.writes.append((table, before, _image(table, key)))
        for table, item in _returned(model.name, parsed, context.get("cost_table", "")):
            request.reads.append((table, item))
        with self._lock:
            self.requests.append(request)

    def _sqs(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        bodies = [params["MessageBody"]] if "MessageBody" in params else [e["MessageBody"] for e in params.get("Entries", [])]
        if model.name.startswith("SendMessage"):
            with self._lock:
                self.sqs_sent_bytes.extend(len(body.encode()) for body in bodies)
                self.sqs_sent_queues.extend(params["QueueUrl"].rsplit("/", 1)[-1] for _ in bodies)


class _ByteCounter(logging.Handler):
    def __init__(self, trace: Trace, formatter: logging.Formatter) -> None:
        super().__init__(logging.INFO)
        self.trace = trace
        self.setFormatter(formatter)

    def emit(self, record: logging.LogRecord) -> None:
        self.trace.log_bytes += len(self.format(record).encode()) + 1


def _backend() -> Any:
    from moto.dynamodb.models import dynamodb_backends

    from local.resources import ACCOUNT, REGION

    return dynamodb_backends[ACCOUNT][REGION]


def _image(table: str, key: dict[str, Any]) -> dict[str, Any] | None:
    """The item's current image in moto's backend (typed JSON), or None."""
    item = _backend().get_item(table, key)
    return copy.deepcopy(item.to_json()["Attributes"]) if item is not None else None


@functools.cache
def _key_names(table: str) -> tuple[str, ...]:
    return tuple(key["AttributeName"] for key in load_template().tables[table]["KeySchema"])


def _table_key(table: str, item: dict[str, Any]) -> dict[str, Any]:
    return {name: item[name] for name in _key_names(table)}


def _targets(operation: str, params: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The (table, key) pairs a write touches."""
    if operation in WRITES:
        key = params.get("Key") or _table_key(params["TableName"], params["Item"])
        return [(params["TableName"], key)]
    if operation == "TransactWriteItems":
        targets = []
        for entry in params["TransactItems"]:
            ((kind, body),) = entry.items()
            if kind != "ConditionCheck":
                targets.append((body["TableName"], body.get("Key") or _table_key(body["TableName"], body["Item"])))
        return targets
    if operation == "BatchWriteItem":
        return [
            (table, (entry.get("DeleteRequest") or {}).get("Key") or _table_key(table, entry["PutRequest"]["Item"]))
            for table, entries in params["RequestItems"].items()
            for entry in entries
        ]
    return []


def _returned(operation: str, parsed: dict[str, Any], table: str) -> list[tuple[str, dict[str, Any] | None]]:
    """What a read returned, as full images (an index's items are re-read whole, to project them again)."""
    if operation == "GetItem":
        return [(table, parsed.get("Item"))]
    if operation in {"Query", "Scan"}:
        return [(table, _image(table, _table_key(table, item))) for item in parsed.get("Items", [])]
    if operation == "BatchGetItem":
        return [(name, item) for name, items in parsed.get("Responses", {}).items() for item in items]
    return []


# ---------------------------------------------------------------- money
def dynamodb_units(trace: Trace, indexes: dict[str, list[Index]]) -> tuple[float, float]:
    """(write units, read units) of the traced requests under ``indexes``' projections."""
    writes = reads = 0.0
    for request in trace.requests:
        factor = 2 if request.transaction else 1
        for table, before, after in request.writes:
            if request.failed:
                writes += factor * write_units(item_size(before))
                continue
            writes += factor * write_units(max(item_size(before), item_size(after)))
            writes += sum(index.write_units(before, after) for index in indexes.get(table, []))
        reads += _read_units(request, indexes)
    return writes, reads


def _read_units(request: Request, indexes: dict[str, list[Index]]) -> float:
    if request.operation in {"GetItem", "BatchGetItem"}:
        return sum(read_units(item_size(item), request.consistent) for _, item in request.reads) or (
            read_units(0, request.consistent) if request.operation == "GetItem" else 0.0
        )
    if request.operation in {"Query", "Scan"}:
        size = 0
        for table, item in request.reads:
            index = next((i for i in indexes.get(table, []) if i.name == request.index), None)
            size += item_size(index.project(item) if index else item)
        return read_units(size, request.consistent)
    return 0.0


@dataclass(frozen=True)
class Traffic:
    """What one bench run measured: the trace of ``events`` call events, and the functions' times."""

    trace: Trace
    events: int
    pings: int
    routing_ms: float
    ack_ms: float
    worker_ms: float
    routing_reads_per_ping: float
    call_item_bytes: float  # the mean size of the call records the run wrote
    emf_bytes_per_ping: int


def _memory_gb(function: str) -> float:
    spec = next(spec for spec in load_template().functions() if spec.logical_id == function)
    return spec.memory_mb / 1024


def listing_units(traffic: Traffic, projection: str) -> float:
    """Read units per call shown in a listing: the index's items (ALL), or its keys and one BatchGetItem each."""
    if projection == "ALL":
        return read_units(0, False) * traffic.call_item_bytes / (4 * KB)
    keys = 60  # call_id, started_at, one partition key: well under 100 bytes
    return 0.5 * keys / (4 * KB) + read_units(int(traffic.call_item_bytes), False)


@dataclass(frozen=True)
class Usage:
    """What one call event and one routing ping use, in billed units: what the prices multiply."""

    dynamodb_write_units_per_event: float
    dynamodb_read_units_per_event: float
    listing_read_units_per_call: float
    routing_read_units_per_ping: float
    sqs_requests_per_event: float
    log_bytes_per_event: float
    emf_bytes_per_ping: float
    routing_ms: float
    ack_ms: float
    worker_ms: float


def usage(traffic: Traffic, overrides: dict[tuple[str, str], str] | None = None) -> Usage:
    """The traced run's usage under the template's projections (``overrides``: other projections)."""
    indexes = template_indexes(overrides)
    per_event = 1 / traffic.events
    writes, reads = dynamodb_units(traffic.trace, indexes)
    calls_projection = next(i.projection for i in indexes["CallsTable"] if i.name == "by_day")
    sent = traffic.trace.sqs_sent_bytes
    sqs_chunks = sum(max(1, math.ceil(size / (64 * KB))) for size in sent)
    return Usage(
        dynamodb_write_units_per_event=writes * per_event,
        dynamodb_read_units_per_event=reads * per_event,
        listing_read_units_per_call=LISTINGS_PER_CALL * listing_units(traffic, calls_projection),
        routing_read_units_per_ping=traffic.routing_reads_per_ping * read_units(0, False),  # one small GetItem
        # a message is sent, received and deleted (the worker's batches, at worst one message each)
        sqs_requests_per_event=(sqs_chunks + 2 * len(sent)) * per_event,
        log_bytes_per_event=traffic.trace.log_bytes * per_event,
        emf_bytes_per_ping=traffic.emf_bytes_per_ping,
        routing_ms=traffic.routing_ms,
        ack_ms=traffic.ack_ms,
        worker_ms=traffic.worker_ms,
    )


def estimate(use: Usage) -> dict[str, float]:
    """USD per ``CALLS`` calls at the prices above."""
    events = CALLS * EVENTS_PER_CALL
    pings = CALLS * PINGS_PER_CALL
    gb_seconds = (
        pings * use.routing_ms / 1000 * _memory_gb("RoutingFunction")
        + events * use.ack_ms / 1000 * _memory_gb("CallEventsFunction")
        + events * use.worker_ms / 1000 * _memory_gb("CrmSyncFunction")
    )
    invocations = pings + 2 * events
    log_bytes = events * use.log_bytes_per_event + invocations * LAMBDA_PLATFORM_LOG_BYTES + pings * use.emf_bytes_per_ping
    read_units = (
        events * use.dynamodb_read_units_per_event
        + pings * use.routing_read_units_per_ping
        + CALLS * use.listing_read_units_per_call
    )
    costs = {
        "usd_dynamodb_writes": events * use.dynamodb_write_units_per_event * DYNAMODB_WRITE_UNIT_USD,
        "usd_dynamodb_reads": read_units * DYNAMODB_READ_UNIT_USD,
        "usd_sqs": events * use.sqs_requests_per_event * SQS_REQUEST_USD,
        "usd_lambda": gb_seconds * LAMBDA_GB_SECOND_USD + invocations * LAMBDA_REQUEST_USD,
        "usd_http_api": (pings + events) * HTTP_API_REQUEST_USD,
        "usd_logs": log_bytes / 1e9 * LOGS_INGESTED_GB_USD,
    }
    costs["usd_total"] = sum(costs.values())
    return costs


def load_baseline(path: Path = BASELINE) -> tuple[Usage, dict[str, str]]:
    """The recorded usage of `main` before the performance work, and where it was measured."""
    recorded = json.loads(path.read_text(encoding="utf-8"))
    return Usage(**recorded["usage"]), {key: str(value) for key, value in recorded.items() if key != "usage"}


def compare(traffic: Traffic, baseline: Path = BASELINE) -> dict[str, Any]:
    """`main` as recorded (before), this run with the same projections, and this run with the template (after)."""
    before_use, measured = load_baseline(baseline)
    now_all, after_use = usage(traffic, BEFORE_PROJECTIONS), usage(traffic)
    before, projections_only, after = estimate(before_use), estimate(now_all), estimate(after_use)
    figures: dict[str, Any] = {f"before_{name}": value for name, value in before.items()}
    figures.update({f"after_{name}": value for name, value in after.items()})
    figures["before_measured"] = measured
    figures["before_usage"] = dataclasses.asdict(before_use)
    figures["after_usage"] = dataclasses.asdict(after_use)
    figures["this_run_with_before_projections_usage"] = dataclasses.asdict(now_all)
    figures["this_run_with_before_projections_usd_total"] = projections_only["usd_total"]
    figures["ratio_after_to_before"] = after["usd_total"] / before["usd_total"]
    figures["ratio_projections_alone"] = after["usd_total"] / projections_only["usd_total"]
    return figures


def record_baseline(traffic: Traffic, path: Path, commit: str) -> None:
    """Write this run's usage under the before projections as the recorded `main` (``--record-baseline``)."""
    import datetime

    recorded = {
        "measured_on": datetime.date.today().isoformat(),
        "commit": commit,
        "what": "make bench's traced worker run at this commit's request counts, with its index projections "
        "(calls and contact-id indexes ALL)",
        "usage": dataclasses.asdict(usage(traffic, BEFORE_PROJECTIONS)),
    }
    path.write_text(json.dumps(recorded, indent=2) + "\n", encoding="utf-8")


def emf_bytes_per_ping() -> int:
    """The size of the EMF document the routing function logs per ping (one count metric)."""
    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.metrics import MetricUnit

    metrics = Metrics(namespace="ringbridge", service="ringbridge")
    metrics.add_metric(name="Routing_routed", unit=MetricUnit.Count, value=1)
    document = metrics.serialize_metric_set()
    metrics.clear_metrics()
    return len(json.dumps(document, separators=(",", ":")).encode()) + 1


def sync_queue_sends(trace: Trace) -> int:
    """Messages sent to the queue the CRM sync worker reads (the ack's sends)."""
    events = load_template().resources["CrmSyncFunction"]["Properties"]["Events"].values()
    queues = {event["Properties"]["Queue"]["Fn::GetAtt"][0] for event in events if event["Type"] == "SQS"}
    return sum(1 for queue in trace.sqs_sent_queues if queue in queues)


def call_item_bytes(trace: Trace) -> float:
    """The mean size of the call records as the run left them."""
    latest: dict[str, int] = {}
    for request in trace.requests:
        for table, _, after in request.writes:
            if table == "CallsTable" and after is not None:
                latest[after["call_id"]["S"]] = item_size(after)
    return sum(latest.values()) / len(latest) if latest else 0.0
