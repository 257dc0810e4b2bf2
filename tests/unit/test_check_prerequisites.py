"""`make test` first says what this machine lacks, and how to get it (scripts/check_prerequisites.py)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from scripts.check_prerequisites import (
    Finding,
    check_all,
    check_chromium,
    check_node,
    check_python,
    check_runtime,
    check_venv,
    main,
    report,
    sam_runtime,
)
from tests.conftest import ROOT

PYENV_SHIM_ERROR = "pyenv: python3.13: command not found\n\nThe `python3.13' command exists in these Python versions:\n  3.13.0\n"


class Machine:
    """Programs on PATH and what each prints for ``--version``."""

    def __init__(self, programs: dict[str, tuple[int, str]]) -> None:
        self.programs = programs
        self.ran: list[list[str]] = []

    def which(self, name: str) -> str | None:
        return f"/usr/bin/{name}" if name in self.programs else None

    def run(self, command: Sequence[str]) -> tuple[int, str]:
        self.ran.append(list(command))
        name = Path(command[0]).name
        return self.programs.get(name, (127, f"{name}: not found"))


COMPLETE = {
    "python3.13": (0, "Python 3.13.0"),
    "chromium": (0, "Chromium 131.0"),
    "node": (0, "v20.20.2"),
    "npm": (0, "11.19.1"),
    "python": (0, "3.11.7"),
}


def by_what(findings: list[Finding], word: str) -> Finding:
    return next(finding for finding in findings if word in finding.what)


def test_the_runtime_comes_from_the_template() -> None:
    assert sam_runtime(ROOT / "template.yaml").startswith("python3.")


def test_a_template_without_a_runtime_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text("Globals:\n  Function:\n    Timeout: 3\n")
    with pytest.raises(ValueError, match="Runtime"):
        sam_runtime(tmp_path / "template.yaml")


@pytest.mark.parametrize(("version", "ok"), [((3, 10, 14), False), ((3, 11, 0), True), ((3, 13, 1), True)])
def test_python_3_11_or_newer(version: tuple[int, int, int], ok: bool) -> None:
    finding = check_python(version, "/usr/bin/python3", "Python for the virtualenv", "make PYTHON=python3.11 test")
    assert finding.ok is ok
    if not ok:
        assert "older than 3.11" in finding.detail
        assert finding.fix == "make PYTHON=python3.11 test"


def test_an_old_virtualenv_is_named_with_how_to_recreate_it(tmp_path: Path) -> None:
    python = tmp_path / "python"
    python.touch()
    finding = check_venv(python, Machine({"python": (0, "3.9.2")}).run)
    assert finding is not None and not finding.ok
    assert "make clean" in finding.fix
    assert check_venv(tmp_path / "absent", Machine({}).run) is None


def test_runtime_missing_says_how_to_install_it() -> None:
    finding = check_runtime("python3.13", Machine({}).which, Machine({}).run)
    assert not finding.ok
    assert "pyenv install 3.13" in finding.fix
    assert "python3.13" in finding.fix


def test_runtime_behind_an_unselected_pyenv_shim_points_at_make() -> None:
    machine = Machine({"python3.13": (127, PYENV_SHIM_ERROR)})
    finding = check_runtime("python3.13", machine.which, machine.run)
    assert not finding.ok
    assert "PYENV_VERSION" in finding.fix
    assert "command not found" in finding.detail


def test_runtime_found() -> None:
    machine = Machine(COMPLETE)
    finding = check_runtime("python3.13", machine.which, machine.run)
    assert finding.ok
    assert finding.detail == "Python 3.13.0"
    assert machine.ran == [["python3.13", "--version"]]


def test_chromium_missing_says_apt_get_install_chromium() -> None:
    finding = check_chromium(Machine({}).which, exists=lambda _: False)
    assert not finding.ok
    assert "apt-get install chromium" in finding.fix
    assert check_chromium(Machine({"chromium": (0, "")}).which, exists=lambda _: False).ok


@pytest.mark.parametrize(
    ("programs", "missing"),
    [
        ({}, {"Node.js", "npm"}),
        ({"node": (0, "v18.19.0"), "npm": (0, "9.2.0")}, {"Node.js"}),
        ({"node": (0, "v20.20.2")}, {"npm"}),
        ({"node": (0, "v22.1.0"), "npm": (0, "10.7.0")}, set()),
    ],
)
def test_node_20_and_npm_for_dynalite(programs: dict[str, tuple[int, str]], missing: set[str]) -> None:
    machine = Machine(programs)
    findings = check_node(machine.which, machine.run)
    assert {finding.what.split()[0] for finding in findings if not finding.ok} == missing
    for finding in findings:
        assert finding.ok or "apt-get install" in finding.fix


def test_a_complete_machine_passes_and_the_report_lists_each_prerequisite(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text("Globals:\n  Function:\n    Runtime: python3.13\n")
    machine = Machine(COMPLETE)
    findings = check_all(tmp_path, machine.which, machine.run)
    assert all(finding.ok for finding in findings), report(findings)
    text = report(findings)
    assert "MISSING" not in text
    for word in ("virtualenv", "python3.13", "Chromium", "Node.js", "npm"):
        assert word in text


def test_the_report_names_every_missing_prerequisite_with_its_fix() -> None:
    findings = [
        Finding("Chromium for the page test", False, "no `chromium`", "apt-get install chromium"),
        Finding("npm", True, "npm 11"),
        Finding("Node.js 20", False, "no `node` on PATH", "apt-get install nodejs npm"),
    ]
    lines = report(findings).splitlines()
    assert lines[1].split()[0] == "MISSING" and "-> apt-get install chromium" in lines[2]
    assert lines[3].split()[0] == "ok"
    assert "-> apt-get install nodejs npm" in lines[5]
    assert lines[-1].startswith("2 prerequisite(s) missing")


def test_main_exits_1_when_something_is_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "template.yaml").write_text("Globals:\n  Function:\n    Runtime: python3.99\n")
    assert main(["--root", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "MISSING  python3.99 for `sam build`" in out
    assert "pyenv install 3.99" in out
