"""Check that what ``sam build`` made ships bytecode python3.13 uses as it is, and arm64 wheels.

For every ``.py`` under the build folder, a ``__pycache__/<name>.cpython-313.pyc`` beside it must carry
python3.13's magic number and PEP 552 flags 0b01: hash-based, source not checked (``unchecked-hash``).
A timestamp ``.pyc`` would not match after deploy's zip, and Lambda's read-only code folders mean it
would compile again on every cold start. The layer must also hold pydantic-core's aarch64 extension.

Usage: python scripts/check_bytecode.py [BUILD_DIR] [--minimum PERCENT]   (exit 1 below the minimum)
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

MAGIC_313 = (3571).to_bytes(2, "little") + b"\r\n"  # importlib.util.MAGIC_NUMBER of every CPython 3.13
CACHE_TAG = "cpython-313"
HASH_BASED = 0b01
CHECK_SOURCE = 0b10


@dataclass
class Report:
    sources: int = 0
    unchecked: int = 0
    missing: list[str] = field(default_factory=list)
    aarch64_pydantic_core: bool = False

    @property
    def percent(self) -> float:
        return 100.0 * self.unchecked / self.sources if self.sources else 0.0


def pyc_kind(pyc: Path) -> str:
    """``unchecked-hash``, ``checked-hash``, ``timestamp`` or ``other-python`` (another magic number)."""
    header = pyc.read_bytes()[:16]
    if header[:4] != MAGIC_313:
        return "other-python"
    flags = int.from_bytes(header[4:8], "little")
    if not flags & HASH_BASED:
        return "timestamp"
    return "checked-hash" if flags & CHECK_SOURCE else "unchecked-hash"


def inspect(build_dir: Path) -> Report:
    report = Report()
    for source in sorted(build_dir.rglob("*.py")):
        report.sources += 1
        pyc = source.parent / "__pycache__" / f"{source.stem}.{CACHE_TAG}.pyc"
        if pyc.is_file() and pyc_kind(pyc) == "unchecked-hash":
            report.unchecked += 1
        else:
            report.missing.append(str(source.relative_to(build_dir)))
    report.aarch64_pydantic_core = any(build_dir.glob("*/python/pydantic_core/_pydantic_core*aarch64*.so"))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="check_bytecode")
    parser.add_argument("build_dir", nargs="?", type=Path, default=Path(".aws-sam/build"))
    parser.add_argument("--minimum", type=float, default=90.0, help="least percentage of modules with usable bytecode")
    args = parser.parse_args(argv)
    report = inspect(args.build_dir)
    print(f"bytecode: {report.unchecked} of {report.sources} modules ({report.percent:.1f} %) have unchecked-hash {CACHE_TAG}")
    for name in report.missing[:5]:
        print(f"  without: {name}")
    print(f"pydantic-core aarch64 extension: {'yes' if report.aarch64_pydantic_core else 'MISSING'}")
    return 0 if report.percent >= args.minimum and report.aarch64_pydantic_core else 1


if __name__ == "__main__":
    sys.exit(main())
