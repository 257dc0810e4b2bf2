"""Start the whole system on this machine: moto's server, tables, queues, secrets, handlers, HTTP."""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass, field
from typing import Any

from local.bus import LocalBus, notify_pattern
from local.gateway import Gateway
from local.poller import QueuePoller
from local.resources import REGION, create_resources, function_environment
from local.ringostat_fake import RingostatFake
from local.runtime import LocalFunction, add_layers_to_path, reset_function_state
from local.template import Template, load_template

DEFAULT_SECRETS = {
    "WEBHOOK_TOKEN": "local-webhook-secret",
    "ADMIN_TOKEN": "local-admin-secret",
}
LOCAL_RINGOSTAT = "local"
# The local Ringostat's project staff (what POST /admin/ringostat/import-employees reads).
DEMO_STAFF = (
    {
        "staffId": 111111,
        "fio": "Anna Nowak",
        "email": "anna@example.com",
        "directions": {
            "main": [{"type": "sip", "direction": "company_anna", "isMobile": False}],
            "additional": [{"type": "phone", "direction": "48601234567", "isMobile": True}],
        },
    },
    {
        "staffId": 222222,
        "fio": "Piotr Zieliński",
        "email": "piotr@example.com",
        "directions": {"main": [{"type": "sip", "direction": "company_piotr", "isMobile": False}]},
    },
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def local_secret(parameter_env: str) -> str:
    """``WEBHOOK_TOKEN_PARAM`` -> the value of ``RINGBRIDGE_WEBHOOK_TOKEN`` (or a printed default)."""
    name = parameter_env.removesuffix("_PARAM")
    return os.environ.get(f"RINGBRIDGE_{name}") or DEFAULT_SECRETS.get(name, f"local-{name.lower().replace('_', '-')}")


@dataclass
class LocalStack:
    host: str = "127.0.0.1"
    port: int = 3000
    moto_port: int = 0
    template: Template = field(default_factory=load_template)
    pollers: list[QueuePoller] = field(default_factory=list)
    secrets: dict[str, str] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)
    # Like `sam deploy --parameter-overrides`: template parameters for this run.
    parameters: dict[str, str] = field(default_factory=dict)
    # False: nothing feeds the queue to the worker until someone calls ``worker_poller().poll_once()``.
    run_pollers: bool = True
    # Started when RingostatApiUrl is left at "local" (the default here): click-to-call, the staff
    # import and reconciliation then talk to it; a real URL (--param RingostatApiUrl=https://…) switches it off.
    ringostat: RingostatFake | None = None
    # Started when NotifyWebhookUrl is set: the call events NotifyOn selects are POSTed to it (A1).
    bus: LocalBus | None = None

    def start(self) -> LocalStack:
        import boto3
        from moto.server import ThreadedMotoServer
        from werkzeug.serving import make_server

        # werkzeug's request log would print query strings, and so the webhook token.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.moto_port = self.moto_port or free_port()
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=self.moto_port, verbose=False)
        self._moto.start()
        # Never reach a real AWS account from the local stack.
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": f"http://127.0.0.1:{self.moto_port}",
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_SESSION_TOKEN": "local",
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
                "POWERTOOLS_METRICS_DISABLED": os.environ.get("POWERTOOLS_METRICS_DISABLED", "true"),
            }
        )
        if self.parameters.get("RingostatApiUrl", LOCAL_RINGOSTAT) == LOCAL_RINGOSTAT:
            self.ringostat = RingostatFake(
                auth_key=local_secret("RINGOSTAT_AUTH_KEY_PARAM"),
                project_id=local_secret("RINGOSTAT_PROJECT_ID_PARAM"),
                staff=list(DEMO_STAFF),
            ).start()
            self.parameters = {**self.parameters, "RingostatApiUrl": self.ringostat.url}
        self.sqs = boto3.client("sqs")
        attributes = create_resources(self.template, boto3.client("dynamodb"), self.sqs, self.parameters)
        self.environment = function_environment(self.template, attributes, self.parameters)
        os.environ.update(self.environment)
        ssm = boto3.client("ssm")
        for key, parameter in self.environment.items():
            if key.endswith("_PARAM"):
                self.secrets[key.removesuffix("_PARAM")] = local_secret(key)
                ssm.put_parameter(Name=parameter, Value=local_secret(key), Type="SecureString", Overwrite=True)

        add_layers_to_path(self.template)
        reset_function_state()  # a new stack is a new set of containers
        settings = {**self.template.parameter_defaults(), **self.parameters}
        if settings.get("NotifyWebhookUrl"):
            self.bus = LocalBus(settings["NotifyWebhookUrl"], notify_pattern(self.template, settings["NotifyOn"]))
            self.bus.attach()
        self.functions = {spec.logical_id: LocalFunction(spec) for spec in self.template.functions()}
        for function in self.functions.values():
            for trigger in function.spec.sqs_triggers:
                queue = attributes[trigger.queue]
                self.pollers.append(QueuePoller(self.sqs, queue["QueueUrl"], queue["Arn"], trigger, function))
        if self.run_pollers:
            for poller in self.pollers:
                poller.start()
        self.gateway = Gateway(self.functions, self.template.routes())
        self._http = make_server(self.host, self.port, self.gateway, threaded=True)
        self.port = int(self._http.server_port)
        self._http_thread = threading.Thread(target=self._http.serve_forever, name="gateway", daemon=True)
        self._http_thread.start()
        return self

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def webhook_urls(self) -> dict[str, str]:
        token = self.secrets.get("WEBHOOK_TOKEN", "")
        return {
            route.route_key: f"{self.base_url}{route.path}?token={token}"
            for route in self.template.routes()
            if route.path.startswith("/ringostat/")
        }

    def stop(self) -> None:
        for poller in self.pollers:
            poller.stop()
        if self.bus is not None:
            self.bus.detach()
        if self.ringostat is not None:
            self.ringostat.stop()
        if hasattr(self, "_http"):
            self._http.shutdown()
        if hasattr(self, "_moto"):
            # moto keeps its data per process: a later stack in this process must start empty.
            import requests

            requests.post(f"http://127.0.0.1:{self.moto_port}/moto-api/reset", timeout=10)
            self._moto.stop()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
