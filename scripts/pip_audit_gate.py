"""Run pip-audit on a requirements file and decide: fail on a known vulnerability, warn when it cannot tell.

pip-audit alone exits 0 when the vulnerability service cannot be reached (every package is
"skipped"), which would read as a clean audit. This gate says which it was:

- a known vulnerability in any package        -> exit 1 (with ``--fatal``; else a loud report, exit 0)
- some packages could not be audited (no
  network to the advisory database, a package
  missing from it)                             -> a WARNING naming them, exit 0
- pip-audit itself failed (e.g. no index)      -> a WARNING with its error, exit 0

Usage: python scripts/pip_audit_gate.py [--fatal] [--pip-audit PATH] REQUIREMENTS [-- PIP-AUDIT ARGS...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

SKIPPED_SHOWN = 5


@dataclass
class Verdict:
    vulnerable: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    audited: int = 0
    error: str | None = None

    @property
    def complete(self) -> bool:
        return self.error is None and not self.skipped


def read_report(report: dict[str, Any]) -> Verdict:
    """The verdict of pip-audit's JSON report (``--format json``)."""
    verdict = Verdict()
    for dependency in report.get("dependencies", []):
        if dependency.get("skip_reason"):
            verdict.skipped.append(str(dependency["skip_reason"]))
            continue
        name = f"{dependency.get('name')}=={dependency.get('version', '?')}"
        verdict.audited += 1
        for vuln in dependency.get("vulns", []):
            fixes = ", ".join(vuln.get("fix_versions", [])) or "no fix yet"
            aliases = ", ".join(vuln.get("aliases", []))
            verdict.vulnerable.append(f"{name}: {vuln.get('id')} ({aliases}) fixed in: {fixes}")
    return verdict


def run_pip_audit(pip_audit: str, requirements: str, extra: list[str]) -> Verdict:
    command = [pip_audit, "-r", requirements, "--format", "json", "--progress-spinner", "off", *extra]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - our own tool, fixed arguments
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("WARNING: Location")]
        return Verdict(error="\n".join(lines[-5:]) or f"pip-audit exited {result.returncode} without a report")
    return read_report(report)


def report(requirements: str, verdict: Verdict, *, fatal: bool) -> int:
    label = f"pip-audit {requirements}"
    if verdict.error is not None:
        print(f"WARNING: {label}: NOT AUDITED - pip-audit failed:\n{verdict.error}", file=sys.stderr)
    if verdict.skipped:
        print(
            f"WARNING: {label}: {len(verdict.skipped)} package(s) NOT AUDITED "
            "(the advisory database was unreachable or does not know them):",
            file=sys.stderr,
        )
        for line in verdict.skipped[:SKIPPED_SHOWN]:
            print(f"  {line}", file=sys.stderr)
        if len(verdict.skipped) > SKIPPED_SHOWN:
            print(f"  ... and {len(verdict.skipped) - SKIPPED_SHOWN} more", file=sys.stderr)
    if verdict.vulnerable:
        print(f"{'ERROR' if fatal else 'WARNING'}: {label}: known vulnerabilities:", file=sys.stderr)
        for line in verdict.vulnerable:
            print(f"  {line}", file=sys.stderr)
        return 1 if fatal else 0
    if verdict.error is None and verdict.audited:
        state = "complete" if verdict.complete else "INCOMPLETE, see the warning above"
        print(f"{label}: no known vulnerabilities in {verdict.audited} audited package(s) (audit {state})")
    elif verdict.error is None:
        print(f"WARNING: {label}: nothing could be audited; no vulnerability found, none ruled out", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("requirements")
    parser.add_argument("--fatal", action="store_true", help="exit 1 on a known vulnerability")
    parser.add_argument("--pip-audit", default="pip-audit", help="the pip-audit executable")
    parser.add_argument("extra", nargs="*", help="further pip-audit arguments (after --)")
    args = parser.parse_args(argv)
    verdict = run_pip_audit(args.pip_audit, args.requirements, args.extra)
    return report(args.requirements, verdict, fatal=args.fatal)


if __name__ == "__main__":
    sys.exit(main())
