"""Cold start of what ships: the built layer and functions, under python3.13, against Lambda's own floor.

Each sample is a fresh ``python3.13 -I -S -B`` (no virtualenv, no site-packages) whose ``sys.path`` is
Lambda's: the built function folder (``/var/task``), the built layer (``/opt/python``), then boto3 as
the python3.13 runtime ships it (the project's pinned boto3 and its dependencies, no CRT, in a folder
of their own, compiled like the runtime's). ``make build`` must have run. On a machine that is not
arm64 the layer's compiled extensions (pydantic-core, charset-normalizer) cannot load: the same
versions for this machine go in a folder just before the layer, everything else is the layer's.

- routing: ``import app`` + the first routing ping, DynamoDB (and SSM) answered by moto's server on
  loopback, against the floor: ``import boto3`` + a DynamoDB client + one ``GetItem`` to that server.
- every function: ``import app`` against ``import boto3`` + the clients its template policies allow.

Run alone: ``python -m tests.bench.coldstart`` (``make bench`` runs it with the rest).
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from local.template import ROOT, load_template

REPEATS = 7
# Lambda cannot write bytecode beside its read-only code (-B): another build (e.g. an older one) to compare.
BUILD = Path(os.environ.get("RINGBRIDGE_BENCH_BUILD", ROOT / ".aws-sam" / "build"))
RUNTIME_DIR = ROOT / ".aws-sam" / "bench"

# Runs in the isolated interpreter: argv[1] is JSON {"path": [...], "mode": ..., ...}; prints one JSON line last.
_PROBE = r"""
import json, sys, time
job = json.loads(sys.argv[1])
sys.path[:0] = job["path"]
started = time.perf_counter()
status = None
if job["mode"] == "floor":
    import boto3
    clients = [boto3.client(service) for service in job["services"]]
    if job.get("get_item"):
        boto3.client("dynamodb").get_item(**job["get_item"])
else:
    import app
    if job["mode"] == "ping":
        class Context:
            function_name = "RoutingFunction"; memory_limit_in_mb = 512; aws_request_id = "cold"
            invoked_function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:RoutingFunction"
            def get_remaining_time_in_millis(self): return 3000
        status = app.lambda_handler(job["event"], Context())["statusCode"]
elapsed = time.perf_counter() - started
print(json.dumps({"seconds": elapsed, "status": status, "modules": len(sys.modules)}))
"""


def python313() -> str:
    """pyenv's (or PATH's) python3.13, the functions' runtime."""
    candidates = [os.environ.get("PY313", "")]
    try:
        versions = subprocess.run(["pyenv", "versions", "--bare"], capture_output=True, text=True, check=False).stdout.split()
        newest = sorted((v for v in versions if v.startswith("3.13")), key=lambda v: [int(p) for p in re.findall(r"\d+", v)])
        if newest:
            prefix = subprocess.run(["pyenv", "prefix", newest[-1]], capture_output=True, text=True, check=True).stdout.strip()
            candidates.append(str(Path(prefix) / "bin" / "python3.13"))
    except (OSError, subprocess.CalledProcessError):
        pass
    candidates.append(shutil.which("python3.13") or "")
    for candidate in filter(None, candidates):
        check = [candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 13))"]
        probe = subprocess.run(check, capture_output=True, text=True, check=False)
        if probe.stdout.strip() == "True":
            return candidate
    raise SystemExit("the cold-start benchmark needs python3.13 (pyenv install 3.13, or PY313=/path/to/python3.13)")


def runtime_boto3(python: str) -> Path:
    """boto3 as Lambda's python3.13 runtime ships it: the project's pinned version, its dependencies, no CRT."""
    pinned = re.search(r"^boto3==(\S+)", (ROOT / "requirements-dev.txt").read_text(), re.MULTILINE)
    if pinned is None:
        raise SystemExit("requirements-dev.txt pins no boto3")
    target = RUNTIME_DIR / f"runtime-boto3-{pinned.group(1)}"
    if not (target / "boto3").is_dir():
        shutil.rmtree(target, ignore_errors=True)
        pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile"]
        subprocess.run([*pip, "--only-binary=:all:", "--target", str(target), f"boto3=={pinned.group(1)}"], check=True)
        # The runtime's own modules come compiled.
        compile_all = [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash"]
        subprocess.run([*compile_all, str(target)], check=True)
    return target


def host_native(python: str, layer: Path) -> list[str]:
    """On x86_64 (not Lambda's arm64): the layer's native packages, same versions, built for this machine."""
    if platform.machine().lower() in {"aarch64", "arm64"}:
        return []
    pins = sorted(
        f"{match.group(1)}=={match.group(2)}"
        for info in layer.glob("*.dist-info")
        if (match := re.fullmatch(r"(.+)-([^-]+)\.dist-info", info.name))
        and any(layer.joinpath(match.group(1).lower()).glob("*.so"))
    )
    target = RUNTIME_DIR / ("host-native-" + "-".join(pin.replace("==", "_") for pin in pins))
    if pins and not target.is_dir():
        pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile", "--no-deps"]
        subprocess.run([*pip, "--only-binary=:all:", "--target", str(target), *pins], check=True)
        compile_all = [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash"]
        subprocess.run([*compile_all, str(target)], check=True)
    return [str(target)] if pins else []


def _allowed_services(resource: dict[str, Any]) -> list[str]:
    policies = json.dumps(resource["Properties"].get("Policies", []))
    # the AWS services ringbridge's code makes clients for (events: the call-event bus, A1)
    services = [name for name in ("dynamodb", "sqs", "ssm", "events") if f'"{name}:' in policies]
    if "SQSSendMessagePolicy" in policies and "sqs" not in services:
        services.append("sqs")
    return services


def _routing_event(token: str) -> dict[str, Any]:
    body = json.dumps({"from": "+48601000001", "direction": "in", "state": "ping"})
    return {
        "version": "2.0",
        "routeKey": "POST /ringostat/routing",
        "rawPath": "/ringostat/routing",
        "rawQueryString": f"token={token}",
        "queryStringParameters": {"token": token},
        "headers": {"content-type": "application/json", "host": "127.0.0.1"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "bench",
            "http": {"method": "POST", "path": "/ringostat/routing", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"},
            "requestId": "cold",
            "routeKey": "POST /ringostat/routing",
            "stage": "$default",
        },
        "body": body,
        "isBase64Encoded": False,
    }


def _sample(python: str, job: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    command = [python, "-I", "-S", "-B", "-c", _PROBE, json.dumps(job)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode:
        raise RuntimeError(f"cold-start probe failed ({job['mode']}): {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _paired_ms(
    python: str, job: dict[str, Any], floor: dict[str, Any], env: dict[str, str]
) -> tuple[float, float, dict[str, Any]]:
    """Medians of ``job`` and of its ``floor``, their samples interleaved: a busy moment of the machine weighs on both."""
    jobs: list[dict[str, Any]] = []
    floors: list[dict[str, Any]] = []
    for _ in range(REPEATS):
        jobs.append(_sample(python, job, env))
        floors.append(_sample(python, floor, env))
    median = statistics.median
    return median(s["seconds"] for s in jobs) * 1000, median(s["seconds"] for s in floors) * 1000, jobs[-1]


def run() -> dict[str, float]:
    from local.stack import LocalStack

    if not (BUILD / "RingbridgeLayer" / "python").is_dir():
        raise SystemExit("no built layer: run `make build` first")
    python = python313()
    boto3_dir = str(runtime_boto3(python))
    layer_dir = BUILD / "RingbridgeLayer" / "python"
    layer = [*host_native(python, layer_dir), str(layer_dir)]
    template = load_template()
    figures: dict[str, float] = {}
    with LocalStack(port=0, run_pollers=False, parameters={"LogLevel": "WARNING"}) as stack:
        env = {**os.environ, "POWERTOOLS_LOG_LEVEL": "WARNING"}
        table = stack.environment["CONTACTS_TABLE"]
        get_item = {"TableName": table, "Key": {"phone": {"S": "+48601000001"}}}
        floor = {"mode": "floor", "path": [boto3_dir], "services": ["dynamodb"], "get_item": get_item}
        routing = [str(BUILD / "RoutingFunction"), *layer, boto3_dir]
        ping = {"mode": "ping", "path": routing, "event": _routing_event(stack.secrets["WEBHOOK_TOKEN"])}
        ping_ms, floor_ms, last = _paired_ms(python, ping, floor, env)
        if last["status"] != 200:
            raise RuntimeError(f"the cold routing ping answered {last['status']}")
        figures["routing_floor_boto3_client_getitem_ms"] = floor_ms
        figures["routing_cold_first_ping_ms"] = ping_ms
        figures["routing_cold_first_ping_ratio_to_floor"] = ping_ms / floor_ms
        for spec in template.functions():
            services = _allowed_services(template.resources[spec.logical_id])
            path = [str(BUILD / spec.logical_id), *layer, boto3_dir]
            clients = {"mode": "floor", "path": [boto3_dir], "services": services}
            import_ms, clients_ms, last = _paired_ms(python, {"mode": "import", "path": path}, clients, env)
            figures[f"{spec.logical_id}_import_ms"] = import_ms
            figures[f"{spec.logical_id}_floor_boto3_{'_'.join(services)}_ms"] = clients_ms
            figures[f"{spec.logical_id}_import_ratio_to_floor"] = import_ms / clients_ms
            figures[f"{spec.logical_id}_modules_loaded"] = float(last["modules"])
    return figures


def main() -> int:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    for name, value in run().items():
        print(f"{name:<58} {value:10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
