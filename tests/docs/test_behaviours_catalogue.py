"""docs/behaviours.md is the catalogue the code and the tests cite: it must be complete and true."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import ROOT

CATALOGUE = ROOT / "docs" / "behaviours.md"
# Every behaviour id of the project's behaviour digest.
BEHAVIOUR_IDS = {
    *(f"C{n}" for n in range(1, 4)),
    *(f"L{n}" for n in range(1, 5)),
    *(f"P{n}" for n in range(1, 9)),
    *(f"F{n}" for n in range(1, 7)),
    "T1",
    *(f"R{n}" for n in range(1, 5)),
    *(f"X{n}" for n in range(1, 4)),
    "S1",
    "A1",
}
_ENTRY = re.compile(r"^### (?P<id>[A-Z]\d+) ", re.MULTILINE)
_TEST = re.compile(r"`(?P<path>tests/[\w/]+\.py)::(?P<name>test_\w+)`")
_TEST_NAME_IDS = re.compile(r"def test_(?P<ids>(?:[a-z]\d_)+)")
_ID = re.compile(r"\b[CLPFTRXSA]\d\b")


def _entries() -> dict[str, str]:
    text = CATALOGUE.read_text(encoding="utf-8")
    matches = list(_ENTRY.finditer(text))
    ends = [m.start() for m in matches[1:]] + [len(text)]
    return {m.group("id"): text[m.end() : end].split("\n## ")[0] for m, end in zip(matches, ends, strict=True)}


def _cited_ids() -> dict[str, set[str]]:
    """Ids named by test names (``test_p2_f1_…``) and by ``SPEC …`` lines of the code and the tests."""
    cited: dict[str, set[str]] = {}
    for folder in ("tests", "layers", "functions", "local"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            ids = {token.upper() for match in _TEST_NAME_IDS.finditer(text) for token in match.group("ids").split("_") if token}
            ids |= {token for line in text.splitlines() if "SPEC" in line for token in _ID.findall(line)}
            for behaviour in ids:
                cited.setdefault(behaviour, set()).add(path.relative_to(ROOT).as_posix())
    return cited


def test_every_behaviour_has_one_entry() -> None:
    assert sorted(_entries()) == sorted(BEHAVIOUR_IDS)
    text = CATALOGUE.read_text(encoding="utf-8")
    assert len(_ENTRY.findall(text)) == len(BEHAVIOUR_IDS), "an id has two entries"


def test_every_id_the_code_cites_is_in_the_catalogue() -> None:
    unknown = {behaviour: sorted(paths) for behaviour, paths in _cited_ids().items() if behaviour not in BEHAVIOUR_IDS}
    assert unknown == {}


def test_every_entry_names_its_code_and_existing_tests() -> None:
    problems = []
    for behaviour, entry in _entries().items():
        if "- Code:" not in entry:
            problems.append(f"{behaviour}: no '- Code:' line")
        tests = list(_TEST.finditer(entry))
        if not tests:
            problems.append(f"{behaviour}: names no test")
        for test in tests:
            path = ROOT / test.group("path")
            if not path.exists() or not re.search(rf"^def {test.group('name')}\(", _read(path), flags=re.MULTILINE):
                problems.append(f"{behaviour}: {test.group('path')}::{test.group('name')} does not exist")
    assert problems == []


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")
