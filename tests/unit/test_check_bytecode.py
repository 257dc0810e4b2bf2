"""scripts/check_bytecode.py reads PEP 552 headers right and counts modules without usable bytecode."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_bytecode", ROOT / "scripts" / "check_bytecode.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["check_bytecode"] = module
    spec.loader.exec_module(module)
    return module


check = _load()


def _pyc(path: Path, flags: int, magic: bytes = check.MAGIC_313) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(magic + flags.to_bytes(4, "little") + bytes(8) + b"code")


@pytest.mark.parametrize(
    ("flags", "magic", "kind"),
    [
        (0b01, check.MAGIC_313, "unchecked-hash"),
        (0b11, check.MAGIC_313, "checked-hash"),
        (0b00, check.MAGIC_313, "timestamp"),
        (0b01, (3495).to_bytes(2, "little") + b"\r\n", "other-python"),
    ],
)
def test_pyc_kind_reads_the_pep_552_flags(tmp_path: Path, flags: int, magic: bytes, kind: str) -> None:
    pyc = tmp_path / "m.cpython-313.pyc"
    _pyc(pyc, flags, magic)
    assert check.pyc_kind(pyc) == kind


def test_only_unchecked_hash_313_bytecode_counts(tmp_path: Path) -> None:
    build = tmp_path / "build"
    layer = build / "Layer" / "python"
    for name, flags in (("good", 0b01), ("checked", 0b11), ("stamped", 0b00)):
        (layer / f"{name}.py").parent.mkdir(parents=True, exist_ok=True)
        (layer / f"{name}.py").write_text("x = 1\n")
        _pyc(layer / "__pycache__" / f"{name}.cpython-313.pyc", flags)
    (layer / "bare.py").write_text("x = 1\n")
    (layer / "pydantic_core").mkdir()
    (layer / "pydantic_core" / "_pydantic_core.cpython-313-aarch64-linux-gnu.so").write_bytes(b"")

    report = check.inspect(build)

    assert (report.sources, report.unchecked) == (4, 1)
    assert sorted(report.missing) == ["Layer/python/bare.py", "Layer/python/checked.py", "Layer/python/stamped.py"]
    assert report.aarch64_pydantic_core
    assert check.main([str(build)]) == 1
    assert check.main([str(build), "--minimum", "25"]) == 0


def test_the_build_fails_without_the_arm64_wheel(tmp_path: Path) -> None:
    module = tmp_path / "build" / "Fn" / "app.py"
    module.parent.mkdir(parents=True)
    module.write_text("x = 1\n")
    _pyc(module.parent / "__pycache__" / "app.cpython-313.pyc", 0b01)
    assert check.main([str(tmp_path / "build")]) == 1
