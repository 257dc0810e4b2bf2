"""Cold start: import time of each function's module in a fresh interpreter, against ``import boto3``."""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

from local.template import ROOT, load_template

REPEATS = 5
_TIMED = """
import sys, time, importlib.util
sys.path.insert(0, {layer!r})
started = time.perf_counter()
{body}
print(time.perf_counter() - started)
"""
_LOAD_FUNCTION = (
    "spec = importlib.util.spec_from_file_location('app', {path!r}); "
    "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)"
)


def _seconds(body: str, layer: Path) -> float:
    samples = []
    for _ in range(REPEATS):
        out = subprocess.run(
            [sys.executable, "-c", _TIMED.format(layer=str(layer), body=body)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout
        samples.append(float(out.strip().splitlines()[-1]))
    return statistics.median(samples)


def run() -> dict[str, float]:
    template = load_template()
    layer = template.layer_dirs()[0]
    boto3_seconds = _seconds("import boto3", layer)
    figures = {"import_boto3_ms": boto3_seconds * 1000}
    for spec in template.functions():
        module = spec.code_dir / (spec.handler.rpartition(".")[0] + ".py")
        seconds = _seconds(_LOAD_FUNCTION.format(path=str(module)), layer)
        figures[f"{spec.logical_id}_import_ms"] = seconds * 1000
        figures[f"{spec.logical_id}_ratio_to_boto3"] = seconds / boto3_seconds
    return figures
