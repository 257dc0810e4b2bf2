"""Issue 6: the pip-audit gate fails on a known vulnerability and only warns when it cannot tell."""

from __future__ import annotations

import pytest

from scripts.pip_audit_gate import Verdict, read_report, report

CLEAN = {"dependencies": [{"name": "requests", "version": "2.34.2", "vulns": []}], "fixes": []}
VULNERABLE = {
    "dependencies": [
        {
            "name": "urllib3",
            "version": "1.26.0",
            "vulns": [{"id": "PYSEC-2021-108", "fix_versions": ["1.26.5"], "aliases": ["CVE-2021-33503"], "description": "…"}],
        },
        {"name": "requests", "version": "2.34.2", "vulns": []},
    ]
}
UNREACHABLE = {"dependencies": [{"name": "requests", "skip_reason": "Dependency not found on PyPI and could not be audited"}]}


def test_clean_report_passes(capsys: pytest.CaptureFixture[str]) -> None:
    verdict = read_report(CLEAN)
    assert verdict.complete and verdict.audited == 1
    assert report("r.txt", verdict, fatal=True) == 0
    assert "no known vulnerabilities in 1 audited package(s) (audit complete)" in capsys.readouterr().out


def test_a_known_vulnerability_fails_only_when_fatal(capsys: pytest.CaptureFixture[str]) -> None:
    verdict = read_report(VULNERABLE)
    assert verdict.vulnerable == ["urllib3==1.26.0: PYSEC-2021-108 (CVE-2021-33503) fixed in: 1.26.5"]
    assert report("r.txt", verdict, fatal=True) == 1
    assert "ERROR" in capsys.readouterr().err
    assert report("r.txt", verdict, fatal=False) == 0
    assert "WARNING" in capsys.readouterr().err


def test_no_advisory_database_warns_loudly_and_passes(capsys: pytest.CaptureFixture[str]) -> None:
    verdict = read_report(UNREACHABLE)
    assert not verdict.complete and verdict.audited == 0
    assert report("r.txt", verdict, fatal=True) == 0
    err = capsys.readouterr().err
    assert "1 package(s) NOT AUDITED" in err and "nothing could be audited" in err


def test_pip_audit_failing_warns_and_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert report("r.txt", Verdict(error="no index reachable"), fatal=True) == 0
    assert "NOT AUDITED - pip-audit failed" in capsys.readouterr().err
