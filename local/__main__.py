"""``python -m local``: run ringbridge on this machine until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from local.stack import LocalStack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--moto-port", type=int, default=3001, help="moto server port (0: a free one)")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a template parameter, e.g. --param FunnelMode=repeatable (repeatable)",
    )
    args = parser.parse_args(argv)
    parameters = dict(item.split("=", 1) for item in args.param)

    stack = LocalStack(host=args.host, port=args.port, moto_port=args.moto_port, parameters=parameters).start()
    stopped = threading.Event()
    # Ctrl-C and a service manager's SIGTERM both stop cleanly (SIGINT explicitly: a shell that
    # starts us in the background would otherwise leave it ignored).
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    print(f"ringbridge is running on {stack.base_url} (AWS stand-in: moto on 127.0.0.1:{stack.moto_port})")
    print("Webhook URLs to paste into Ringostat:")
    for route_key, url in stack.webhook_urls().items():
        print(f"  {route_key:<28} {url}")
    print(f"Admin routes take:  Authorization: Bearer {stack.secrets.get('ADMIN_TOKEN', '')}")
    cli_env = " ".join(
        f"{key}={value}"
        for key, value in {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{stack.moto_port}",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
            "SIP_MAPPINGS_TABLE": stack.environment.get("SIP_MAPPINGS_TABLE", ""),
            "CONTACTS_TABLE": stack.environment.get("CONTACTS_TABLE", ""),
            "PYTHONPATH": "layers/ringbridge",
        }.items()
    )
    print(f"Admin CLI:  env {cli_env} .venv/bin/python -m ringbridge.cli --help")
    if stack.ringostat is not None:
        print(f"Ringostat stand-in:  {stack.ringostat.url} (--param RingostatApiUrl=https://api.ringostat.net: the real one)")
    print("READY", flush=True)
    stopped.wait()
    print("stopping…", flush=True)
    stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
