"""``make bench``: ringbridge's speed figures, printed as a table and written as JSON.

Not part of the test suite: figures depend on the machine, so goals are expressed as
ratios measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from tests.bench import routing


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    parser = argparse.ArgumentParser(prog="python -m tests.bench")
    parser.add_argument("--requests", type=int, default=2000, help="routing pings to send")
    parser.add_argument("--output", type=Path, default=Path("bench-results.json"))
    args = parser.parse_args(argv)

    results: dict[str, Any] = {"routing": routing.run(args.requests)}
    print_table(results)
    args.output.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"\nwritten to {args.output}")
    return 0


def print_table(results: dict[str, Any]) -> None:
    rows = [(section, name, value) for section, figures in results.items() for name, value in figures.items()]
    width = max(len(f"{s}.{n}") for s, n, _ in rows)
    print(f"{'figure':<{width}}  value")
    for section, name, value in rows:
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        print(f"{section + '.' + name:<{width}}  {shown}")


if __name__ == "__main__":
    sys.exit(main())
