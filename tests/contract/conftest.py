"""Prints how many requests and answers the contract checks validated in this run."""

from __future__ import annotations

from typing import Any

from tests.contract import CONTRACTS


def pytest_terminal_summary(terminalreporter: Any) -> None:
    lines = []
    for contract in CONTRACTS:
        if contract.tally:
            errors = sorted((k, v) for k, v in contract.tally.items() if k.startswith("error "))
            shown = ", ".join(f"{k.removeprefix('error ')}: {v}" for k, v in errors) or "none"
            lines.append(
                f"{contract.name}: {contract.tally['requests']} requests and {contract.tally['answers']} answers kept the "
                f"contract (error answers among them by status: {shown}); refused as meant: "
                f"{contract.tally['requests refused']} requests, {contract.tally['answers refused']} answers"
            )
    if lines:
        terminalreporter.write_sep("-", "API contract checks")
        for line in lines:
            terminalreporter.write_line(line)
