"""What `make test` needs from this machine, checked in seconds before it spends minutes.

Each prerequisite is reported as ``ok`` or ``MISSING`` with what to install; the exit code is 1
when anything is missing. Standard library only, and it runs on an old Python too (3.7+), to say that it is too old: it
runs before the virtualenv exists.

- Python 3.11 or newer: the interpreter that creates the virtualenv (``make PYTHON=...``), and
  the virtualenv itself when it is already there.
- The functions' runtime (``Runtime:`` in template.yaml, e.g. python3.13) for ``sam build``:
  pyenv's version of it (the Makefile exposes it beside the default) or ``python3.13`` on PATH.
- Debian's Chromium for the page test (tests/e2e/test_page.py).
- Node.js and npm for dynalite, the second DynamoDB implementation the integration tests run on.

Usage: python scripts/check_prerequisites.py [--root DIR]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    Which = Callable[[str], str | None]
    # Run a command; return (exit code, its output): 127 when it cannot be started.
    Run = Callable[[Sequence[str]], tuple[int, str]]

MIN_PYTHON = (3, 11)
# dynalite's package.json declares node >= 20 (tests/dynalite/package.json).
MIN_NODE = 20
CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Finding:
    what: str
    ok: bool
    detail: str = ""
    fix: str = ""


def run_command(command: Sequence[str]) -> tuple[int, str]:
    try:
        done = subprocess.run(list(command), capture_output=True, text=True, timeout=30, check=False)  # noqa: S603 - fixed commands
    except (OSError, subprocess.TimeoutExpired) as error:
        return 127, str(error)
    return done.returncode, (done.stdout + done.stderr).strip()


def version_tuple(text: str) -> tuple[int, ...] | None:
    match = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", text)
    return tuple(int(part) for part in match.groups() if part is not None) if match else None


def dotted(version: Sequence[int]) -> str:
    return ".".join(str(part) for part in version)


def first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "no output"


def sam_runtime(template: Path) -> str:
    """The functions' runtime, ``python3.13``, from the template's ``Globals``."""
    match = re.search(r"^\s+Runtime:\s*(python3\.\d+)\s*$", template.read_text(encoding="utf-8"), flags=re.MULTILINE)
    if match is None:
        raise ValueError(f"{template}: no `Runtime: python3.N` line")
    return match.group(1)


def check_python(version: Sequence[int], executable: str, what: str, fix: str) -> Finding:
    if tuple(version[:2]) >= MIN_PYTHON:
        return Finding(what, True, f"Python {dotted(version[:3])} ({executable})")
    return Finding(what, False, f"Python {dotted(version[:3])} at {executable} is older than {dotted(MIN_PYTHON)}", fix)


def check_venv(venv_python: Path, run: Run) -> Finding | None:
    """The existing virtualenv (None when there is none yet: `make install` creates it)."""
    if not venv_python.exists():
        return None
    code, output = run([str(venv_python), "-c", "import sys; print(*sys.version_info[:3], sep='.')"])
    version = version_tuple(output) if code == 0 else None
    fix = "recreate it with a newer Python: make clean && make PYTHON=python3.11 install"
    if version is None:
        return Finding("the virtualenv .venv", False, f"{venv_python} does not run: {first_line(output)}", fix)
    return check_python(version, str(venv_python), "the virtualenv .venv", fix)


def check_runtime(runtime: str, which: Which, run: Run) -> Finding:
    what = f"{runtime} for `sam build` (the functions' runtime in template.yaml)"
    version = runtime[len("python") :]
    fix = (
        f"install Python {version}: `pyenv install {version}` (the Makefile finds pyenv's newest {version} by itself), "
        f"or put a `{runtime}` on PATH"
    )
    if which(runtime) is None:
        return Finding(what, False, f"no `{runtime}` on PATH and no pyenv version {version}", fix)
    code, output = run([runtime, "--version"])
    if code != 0 or version_tuple(output) is None:
        if "exists in these Python versions" in output:
            # pyenv's shim for a version that is installed but not selected.
            fix = f"pyenv has it but does not expose it: run through make (it sets PYENV_VERSION=<default>:{version}.x)"
        return Finding(what, False, f"`{runtime} --version` failed: {first_line(output)}", fix)
    return Finding(what, True, first_line(output))


def check_chromium(which: Which, exists: Callable[[Path], bool] = Path.exists) -> Finding:
    what = "Chromium for the page test (tests/e2e/test_page.py)"
    found = str(CHROMIUM) if exists(CHROMIUM) else which("chromium")
    if found:
        return Finding(what, True, found)
    return Finding(
        what, False, "no `chromium`", "apt-get install chromium (Debian's package; Playwright's own browser download is not used)"
    )


def check_node(which: Which, run: Run) -> list[Finding]:
    what = f"Node.js {MIN_NODE} or newer for dynalite (the integration tests' second DynamoDB)"
    fix = f"apt-get install nodejs npm (or Node.js {MIN_NODE}+ from your usual source)"
    findings = []
    if which("node") is None:
        findings.append(Finding(what, False, "no `node` on PATH", fix))
    else:
        code, output = run(["node", "--version"])
        version = version_tuple(output) if code == 0 else None
        if version is None:
            findings.append(Finding(what, False, f"`node --version` failed: {first_line(output)}", fix))
        elif version[0] < MIN_NODE:
            findings.append(Finding(what, False, f"Node.js {dotted(version)} is older than {MIN_NODE}", fix))
        else:
            findings.append(Finding(what, True, f"Node.js {dotted(version)}"))
    npm_what = "npm to install dynalite (npm ci in tests/dynalite)"
    if which("npm") is None:
        findings.append(Finding(npm_what, False, "no `npm` on PATH", "apt-get install npm"))
    else:
        code, output = run(["npm", "--version"])
        findings.append(
            Finding(npm_what, True, f"npm {first_line(output)}")
            if code == 0
            else Finding(npm_what, False, f"`npm --version` failed: {first_line(output)}", "apt-get install npm")
        )
    return findings


def check_all(root: Path, which: Which = shutil.which, run: Run = run_command) -> list[Finding]:
    findings = [
        check_python(
            tuple(sys.version_info[:3]),
            sys.executable,
            f"Python {dotted(MIN_PYTHON)} or newer for the virtualenv",
            "install Python 3.11 or newer and name it: make PYTHON=python3.11 test",
        )
    ]
    venv = check_venv(root / ".venv" / "bin" / "python", run)
    if venv is not None:
        findings.append(venv)
    findings.append(check_runtime(sam_runtime(root / "template.yaml"), which, run))
    findings.append(check_chromium(which))
    findings.extend(check_node(which, run))
    return findings


def report(findings: Sequence[Finding]) -> str:
    lines = ["prerequisites of make test:"]
    for finding in findings:
        lines.append(f"  {'ok' if finding.ok else 'MISSING':<8} {finding.what}: {finding.detail}")
        if not finding.ok:
            lines.append(f"  {'':<8}   -> {finding.fix}")
    missing = [finding for finding in findings if not finding.ok]
    if missing:
        lines.append(f"{len(missing)} prerequisite(s) missing: install them, then run make test again.")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository (default: this script's)")
    args = parser.parse_args(argv)
    findings = check_all(args.root)
    print(report(findings), flush=True)
    return 0 if all(finding.ok for finding in findings) else 1


if __name__ == "__main__":
    sys.exit(main())
