"""The layer ships phonenumberslite: it must read every number exactly as the full phonenumbers does.

The expectations were written by the full package of the same version (tests/fixtures/phone_expectations.py).
"""

from __future__ import annotations

import gzip
import json
from importlib import metadata

import phonenumbers
import pytest

from tests.fixtures.phone_expectations import EXPECTATIONS, cases, read


def _installed(distribution: str) -> bool:
    try:
        metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True


def test_only_phonenumberslite_provides_phonenumbers() -> None:
    assert _installed("phonenumberslite")
    assert not _installed("phonenumbers"), "both install the phonenumbers package: uninstall phonenumbers"
    with pytest.raises(ImportError):
        import phonenumbers.geocoder  # noqa: F401


def test_lite_reads_every_case_as_the_full_package() -> None:
    stored = json.loads(gzip.decompress(EXPECTATIONS.read_bytes()))
    assert stored["phonenumbers"] == phonenumbers.__version__ == metadata.version("phonenumberslite")
    rows = stored["cases"]
    assert len(rows) >= 12_000
    assert [(text, region) for text, region, _ in rows] == cases()
    differences = [(text, region, want, got) for text, region, want in rows if (got := read(text, region)) != want]
    assert not differences, f"{len(differences)} of {len(rows)} differ, e.g. {differences[:3]}"
