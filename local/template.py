"""Read template.yaml: functions, their HTTP routes and SQS triggers, tables, queues.

The template is the single source of truth for the local stack and the tests: a route,
table or queue added there needs no change here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """A YAML loader that turns CloudFormation's short tags into their long form."""


def _construct_tag(loader: _CfnLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


@dataclass(frozen=True)
class HttpRoute:
    method: str
    path: str
    function: str

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\{(\w+)\+\}", r"(?P<\1>.+)", self.path)
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex)
        return re.compile(f"^{regex}$")


@dataclass(frozen=True)
class SqsTrigger:
    queue: str
    batch_size: int
    report_batch_item_failures: bool


@dataclass
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str
    timeout: int
    memory_mb: int
    environment: dict[str, Any]
    routes: list[HttpRoute] = field(default_factory=list)
    sqs_triggers: list[SqsTrigger] = field(default_factory=list)


@dataclass
class Template:
    raw: dict[str, Any]

    @property
    def resources(self) -> dict[str, Any]:
        return dict(self.raw["Resources"])

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {name: res for name, res in self.resources.items() if res["Type"] == kind}

    def parameter_defaults(self) -> dict[str, str]:
        return {name: str(spec.get("Default", "")) for name, spec in self.raw.get("Parameters", {}).items()}

    @property
    def tables(self) -> dict[str, dict[str, Any]]:
        return {name: res["Properties"] for name, res in self.of_type("AWS::DynamoDB::Table").items()}

    @property
    def queues(self) -> dict[str, dict[str, Any]]:
        return {name: res.get("Properties", {}) for name, res in self.of_type("AWS::SQS::Queue").items()}

    def layer_dirs(self) -> list[Path]:
        return [ROOT / res["Properties"]["ContentUri"] for res in self.of_type("AWS::Serverless::LayerVersion").values()]

    def functions(self) -> list[FunctionSpec]:
        globals_ = self.raw.get("Globals", {}).get("Function", {})
        global_env = globals_.get("Environment", {}).get("Variables", {})
        specs = []
        for name, res in self.of_type("AWS::Serverless::Function").items():
            props = res["Properties"]
            spec = FunctionSpec(
                logical_id=name,
                code_dir=ROOT / props["CodeUri"],
                handler=props["Handler"],
                timeout=int(props.get("Timeout", globals_.get("Timeout", 3))),
                memory_mb=int(props.get("MemorySize", globals_.get("MemorySize", 128))),
                environment={**global_env, **props.get("Environment", {}).get("Variables", {})},
            )
            for event in props.get("Events", {}).values():
                event_props = event.get("Properties", {})
                if event["Type"] == "HttpApi":
                    spec.routes.append(HttpRoute(event_props["Method"].upper(), event_props["Path"], name))
                elif event["Type"] == "SQS":
                    spec.sqs_triggers.append(
                        SqsTrigger(
                            queue=event_props["Queue"]["Fn::GetAtt"][0],
                            batch_size=int(event_props.get("BatchSize", 10)),
                            report_batch_item_failures="ReportBatchItemFailures" in event_props.get("FunctionResponseTypes", []),
                        )
                    )
            specs.append(spec)
        return specs

    def routes(self) -> list[HttpRoute]:
        return [route for spec in self.functions() for route in spec.routes]


def load_template(path: Path = TEMPLATE_PATH) -> Template:
    with path.open(encoding="utf-8") as handle:
        return Template(yaml.load(handle, Loader=_CfnLoader))  # noqa: S506 - SafeLoader subclass


class Intrinsics:
    """Resolves ``Ref``, ``Fn::GetAtt`` and ``Fn::Sub`` against the local resources."""

    def __init__(self, parameters: dict[str, str], attributes: dict[str, dict[str, str]]) -> None:
        # attributes: logical id -> {"Ref": ..., "Arn": ..., "QueueUrl": ...}
        self.parameters = parameters
        self.attributes = attributes

    def _lookup(self, name: str, attribute: str = "Ref") -> str:
        if attribute == "Ref" and name in self.parameters:
            return self.parameters[name]
        pseudo = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::URLSuffix": "amazonaws.com"}
        if name in pseudo:
            return pseudo[name]
        try:
            return self.attributes[name][attribute]
        except KeyError as error:
            raise KeyError(f"template.yaml names {name}.{attribute}, which the local stack does not provide") from error

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self._lookup(argument)
            if key == "Fn::GetAtt":
                return self._lookup(argument[0], argument[1])
            if key == "Fn::Sub":
                return re.sub(r"\$\{([\w:]+)(?:\.(\w+))?\}", lambda m: self._lookup(m.group(1), m.group(2) or "Ref"), argument)
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value
