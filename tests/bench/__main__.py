"""``make bench``: ringbridge's speed, scale and cost figures, printed as a table and written as JSON.

Not part of the test suite: absolute figures depend on the machine, so each goal is a ratio
measured in the same run (ack slow/fast CRM, import time against boto3's, per-event cost at
1,000 and 100,000 preloaded rows against an empty store).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from pathlib import Path
from typing import Any


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    parser = argparse.ArgumentParser(prog="python -m tests.bench")
    parser.add_argument("--pings", type=int, default=2000, help="routing pings to send")
    parser.add_argument("--acks", type=int, default=500, help="call events per side (fast and slow CRM) in the ack run")
    parser.add_argument("--events", type=int, default=200, help="call events per worker run")
    parser.add_argument("--keycrm-events", type=int, default=20, help="call events through the fake KeyCRM (60 requests/min)")
    parser.add_argument("--scale", type=int, nargs="*", default=[1_000, 100_000], help="rows preloaded for the scale runs")
    parser.add_argument("--output", type=Path, default=Path("bench-results.json"))
    args = parser.parse_args(argv)

    from tests.bench import ack, coldstart, cost, routing, worker

    results: dict[str, Any] = {"taken_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")}
    results["routing"] = routing.run(args.pings)
    results["ack"] = ack.run(args.acks)
    results["worker_builtin"] = worker.builtin(args.events)
    results["worker_keycrm"] = worker.keycrm(args.keycrm_events)
    base = results["worker_builtin"]
    for rows in args.scale:
        scaled = worker.at_scale(rows, args.events)
        for name in ("worker_dynamodb_reads_per_event", "worker_dynamodb_writes_per_event", "worker_ms_per_event"):
            scaled[f"{name}_ratio_to_empty"] = scaled[name] / base[name]
        results[f"scale_{rows}"] = scaled
    results["cold_start"] = coldstart.run()
    results["cost"] = cost.estimate(results["routing"], {**base, "ack_ms_p50": results["ack"]["fast_crm_p50_ms"]})
    print_table(results)
    args.output.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"\nwritten to {args.output}")
    return 0


def print_table(results: dict[str, Any]) -> None:
    rows = [
        (section, name, value)
        for section, figures in results.items()
        if isinstance(figures, dict)
        for name, value in figures.items()
    ]
    width = max(len(f"{s}.{n}") for s, n, _ in rows)
    print(f"ringbridge bench, {results['taken_at']}")
    print(f"{'figure':<{width}}  value")
    for section, name, value in rows:
        shown = f"{value:,.3f}" if isinstance(value, float) else str(value)
        print(f"{section + '.' + name:<{width}}  {shown}")


if __name__ == "__main__":
    sys.exit(main())
