"""Every path in the README's "Where to change what" table exists: a newcomer must land on a real file."""

from __future__ import annotations

import re

from tests.conftest import ROOT

README = ROOT / "README.md"
HEADING = "## Where to change what"
_CODE = re.compile(r"`([^`\s]+)`")


def table_paths() -> list[str]:
    text = README.read_text(encoding="utf-8")
    assert HEADING in text, f"README.md has no '{HEADING}' section"
    section = text.split(HEADING, 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|") and not re.match(r"^\|\s*-", line)][1:]
    paths = []
    for row in rows:
        where = row.strip().strip("|").split("|")[-1]
        paths += [token for token in _CODE.findall(where) if "/" in token or "." in token]
    return paths


def test_the_table_names_one_path_per_row() -> None:
    section = README.read_text(encoding="utf-8").split(HEADING, 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|") and not re.match(r"^\|\s*-", line)][1:]
    assert rows, "the table is empty"
    for row in rows:
        where = row.strip().strip("|").split("|")[-1]
        assert len(_CODE.findall(where)) == 1, f"one file per kind of change: {row}"


def test_every_path_of_the_table_exists() -> None:
    missing = [path for path in table_paths() if not (ROOT / path.rstrip("/")).exists()]
    assert not missing, "not in the repository: " + ", ".join(missing)
