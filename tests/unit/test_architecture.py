"""The structure the README promises, checked on the code: layers point down, handlers stay thin."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "layers" / "ringbridge" / "ringbridge"
# What the domain and the use cases may not import: AWS, HTTP, and the layers above them.
FORBIDDEN_BELOW_ADAPTERS = (
    "boto3",
    "botocore",
    "requests",
    "aws_lambda_powertools",
    "ringbridge.storage",
    "ringbridge.crm",
    "ringbridge.web",
    "ringbridge.wiring",
    "ringbridge.ringostat",
    "ringbridge.config",
)
HANDLER_MAX_LINES = 120


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", ["domain", "usecases"])
def test_domain_and_use_cases_import_no_aws_http_or_adapters(layer: str) -> None:
    offenders = {
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in (PACKAGE / layer).rglob("*.py")
        for name in imports_of(path)
        if name.startswith(FORBIDDEN_BELOW_ADAPTERS)
    }
    assert not offenders


def test_use_cases_do_not_import_each_others_callers() -> None:
    """The domain never reaches up into the use cases."""
    offenders = {
        str(path)
        for path in (PACKAGE / "domain").rglob("*.py")
        if any(n.startswith("ringbridge.usecases") for n in imports_of(path))
    }
    assert not offenders


@pytest.mark.parametrize("handler", sorted((ROOT / "functions").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_handlers_are_thin(handler: Path) -> None:
    assert len(handler.read_text(encoding="utf-8").splitlines()) <= HANDLER_MAX_LINES


def test_web_package_only_re_exports() -> None:
    tree = ast.parse((PACKAGE / "web" / "__init__.py").read_text(encoding="utf-8"))
    kinds = {type(node).__name__ for node in tree.body}
    assert kinds <= {"Expr", "ImportFrom", "Assign"}
