"""``make bench``: ringbridge's speed, scale and cost figures, as the README's table and as JSON.

Not part of the test suite: absolute figures depend on the machine, so each goal is a ratio
measured in the same run (cold start against Lambda's floor, the routing handler against a raw
GetItem, the cost after against before) or a count (DynamoDB and SQS requests per event).
The table: figure, value, goal, value against the goal (at most 1.00 passes), pass/fail.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.template import ROOT

LAYER = ROOT / ".aws-sam" / "build" / "RingbridgeLayer"
# Lambda's limits for a function with its layers: 250 MB unzipped, 50 MB zipped (direct upload).
LAYER_UNZIPPED_LIMIT_MB = 250.0
LAYER_ZIPPED_LIMIT_MB = 50.0
TIMES = "\N{MULTIPLICATION SIGN}"


@dataclass(frozen=True)
class Row:
    figure: str
    value: float | None  # None: the run did not measure it
    goal: float
    at_most: bool = True  # the goal is a ceiling (else a floor)
    unit: str = ""

    @property
    def ratio(self) -> float | None:
        """The value against its goal: at most 1 passes."""
        if self.value is None:
            return None
        if self.at_most:
            return self.value / self.goal
        return self.goal / self.value if self.value else float("inf")

    @property
    def passed(self) -> bool | None:
        return None if self.ratio is None else self.ratio <= 1.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "figure": self.figure,
            "value": self.value,
            "goal": f"{'≤' if self.at_most else '≥'} {self.goal:g}{self.unit}",
            "ratio": self.ratio,
            "pass": self.passed,
        }


def _shown(value: float | None, unit: str = "") -> str:
    if value is None:
        return "not measured"
    return f"{value:,.2f}{unit}"


def table(rows: list[Row]) -> str:
    """The rows as a Markdown table (what the README shows)."""
    lines = ["| Figure | Value | Goal | Value / goal | Pass |", "| --- | --- | --- | --- | --- |"]
    for row in rows:
        verdict = {True: "pass", False: "**FAIL**", None: "n/a"}[row.passed]
        goal = f"{'≤' if row.at_most else '≥'} {row.goal:g}{row.unit}"
        lines.append(f"| {row.figure} | {_shown(row.value, row.unit)} | {goal} | {_shown(row.ratio)} | {verdict} |")
    return "\n".join(lines)


def _find(figures: dict[str, Any], *words: str) -> float | None:
    """The first figure whose name holds every word (other benches name their own figures)."""
    for name, value in figures.items():
        if all(word in name for word in words) and isinstance(value, int | float):
            return float(value)
    return None


def rows_of(results: dict[str, Any]) -> list[Row]:
    cold, routing, worker, cost = results["cold_start"], results["routing"], results["worker_builtin"], results["cost"]
    rows = [
        Row("Usable bytecode in the build (unchecked-hash, python3.13)", results["build"]["bytecode_percent"], 90, False, " %"),
        Row("Routing: cold first ping / Lambda floor", cold.get("routing_cold_first_ping_ratio_to_floor"), 1.3, unit=TIMES),
    ]
    for name, value in sorted(cold.items()):
        if name.endswith("_import_ratio_to_floor") and not name.startswith("RoutingFunction"):
            rows.append(Row(f"{name.removesuffix('_import_ratio_to_floor')}: cold import / its floor", value, 1.3, unit=TIMES))
    ack_calls = worker["ack_dynamodb_reads_per_event"] + worker["ack_dynamodb_writes_per_event"]
    rows += [
        Row("Ack: DynamoDB reads + writes + SQS sends per new event", ack_calls + cost["ack_sqs_sends_per_event"], 3),
        Row(
            "Worker: DynamoDB calls per mixed event",
            worker["worker_dynamodb_reads_per_event"] + worker["worker_dynamodb_writes_per_event"],
            6,
        ),
        Row("Routing: handler in-process / raw GetItem", _find(routing, "ratio", "getitem"), 1.1, unit=TIMES),
        Row(
            "Routing: warm handler CPU after idling, store stubbed",
            _find(routing, "cpu", "idl") or _find(routing, "handler_cpu_ms"),
            0.3,
            unit=" ms",
        ),
        Row(
            f"Cost per 1M calls, USD: after ${cost['after_usd_total']:,.2f} / before ${cost['before_usd_total']:,.2f}",
            cost["ratio_after_to_before"],
            0.6,
            unit=TIMES,
        ),
        Row("Layer size unzipped", results["build"]["layer_unzipped_mb"], LAYER_UNZIPPED_LIMIT_MB, unit=" MB"),
        Row("Layer size zipped", results["build"]["layer_zipped_mb"], LAYER_ZIPPED_LIMIT_MB, unit=" MB"),
    ]
    return rows


def build_figures(layer: Path = LAYER) -> dict[str, float]:
    """The built layer's size (unzipped, and zipped as `sam deploy` uploads it) and the usable bytecode."""
    from scripts.check_bytecode import inspect

    files = [path for path in layer.rglob("*") if path.is_file()]
    unzipped = sum(path.stat().st_size for path in files)
    archive = ROOT / ".aws-sam" / "bench" / "layer.zip"
    archive.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path in files:
            zipped.write(path, path.relative_to(layer))
    return {
        "bytecode_percent": inspect(ROOT / ".aws-sam" / "build").percent,
        "layer_unzipped_mb": unzipped / 1e6,
        "layer_zipped_mb": archive.stat().st_size / 1e6,
    }


def _traced(run: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any], Any]:
    from tests.bench import cost

    trace = cost.Trace()
    trace.install()
    try:
        return run(), trace
    finally:
        trace.uninstall()


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    parser = argparse.ArgumentParser(prog="python -m tests.bench")
    parser.add_argument("--pings", type=int, default=2000, help="routing pings to send")
    parser.add_argument("--acks", type=int, default=500, help="call events per side (fast and slow CRM) in the ack run")
    parser.add_argument("--events", type=int, default=200, help="call events per worker run")
    parser.add_argument("--cost-events", type=int, default=100, help="call events in the traced run the cost model reads")
    parser.add_argument("--keycrm-events", type=int, default=20, help="call events through the fake KeyCRM (60 requests/min)")
    parser.add_argument("--scale", type=int, nargs="*", default=[1_000, 100_000], help="rows preloaded for the scale runs")
    parser.add_argument("--output", type=Path, default=Path("bench-results.json"))
    parser.add_argument(
        "--record-baseline",
        action="store_true",
        help="write this run's usage as the recorded 'before' (tests/bench/baseline_main.json): run it on main only",
    )
    args = parser.parse_args(argv)

    from tests.bench import ack, coldstart, cost, routing, worker

    started = datetime.datetime.now(datetime.UTC)
    results: dict[str, Any] = {
        "taken_at": started.isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform(terse=True)}",
        "python": platform.python_version(),
    }
    results["build"] = build_figures()
    results["routing"] = routing.run(args.pings)
    results["ack"] = ack.run(args.acks)
    results["worker_builtin"] = worker.builtin(args.events)
    # The cost model's run: the same worker bench, traced (the tracing slows it: its times are not used).
    traced, trace = _traced(lambda: worker.builtin(args.cost_events))
    results["worker_keycrm"] = worker.keycrm(args.keycrm_events)
    base = results["worker_builtin"]
    for rows in args.scale:
        scaled = worker.at_scale(rows, args.events)
        for name in ("worker_dynamodb_reads_per_event", "worker_dynamodb_writes_per_event", "worker_ms_per_event"):
            scaled[f"{name}_ratio_to_empty"] = scaled[name] / base[name]
        results[f"scale_{rows}"] = scaled
    results["cold_start"] = coldstart.run()
    traffic = cost.Traffic(
        trace=trace,
        events=int(traced["events"]),
        pings=args.pings,
        routing_ms=results["routing"]["p50_ms"],
        ack_ms=results["ack"]["fast_crm_p50_ms"],
        worker_ms=base["worker_ms_per_event"],
        routing_reads_per_ping=results["routing"]["dynamodb_reads_per_ping"],
        call_item_bytes=cost.call_item_bytes(trace),
        emf_bytes_per_ping=cost.emf_bytes_per_ping(),
    )
    if args.record_baseline:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, cwd=ROOT)
        cost.record_baseline(traffic, cost.BASELINE, commit.stdout.strip())
    results["cost"] = {
        **cost.compare(traffic),
        "ack_sqs_sends_per_event": cost.sync_queue_sends(trace) / traffic.events,
        "call_item_bytes": traffic.call_item_bytes,
        "prices": f"{cost.PRICES_REGION} on-demand list prices of {cost.PRICES_DATE}",
    }
    results["seconds"] = (datetime.datetime.now(datetime.UTC) - started).total_seconds()
    rows = rows_of(results)
    results["table"] = [row.as_dict() for row in rows]
    print(f"ringbridge bench, {results['taken_at']} ({results['machine']}, python {results['python']}):\n")
    print(table(rows))
    args.output.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"\nevery figure in {args.output}; {results['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
