"""Load each function's handler from its CodeUri and invoke it as Lambda would."""

from __future__ import annotations

import importlib.util
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from local.template import FunctionSpec, Template


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = "local"
    log_stream_name: str = "local"
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def reset_function_state() -> None:
    """Forget what the functions cache per container (settings, clients, secrets, CRM).

    A new moto (each test, or a second local stack in one process) is a new "container".
    """
    from ringbridge import wiring

    wiring.reset()


def add_layers_to_path(template: Template) -> None:
    """Put each layer's source where Lambda's /opt/python would be: on sys.path."""
    for layer in template.layer_dirs():
        if str(layer) not in sys.path:
            sys.path.insert(0, str(layer))


def load_module(spec: FunctionSpec) -> ModuleType:
    module_name, _, _ = spec.handler.rpartition(".")
    path = spec.code_dir / f"{module_name}.py"
    unique = f"ringbridge_fn_{spec.logical_id}"
    if unique in sys.modules:
        return sys.modules[unique]
    # Lambda runs a handler with its code folder on sys.path (a function's own modules import by name).
    if str(spec.code_dir) not in sys.path:
        sys.path.insert(0, str(spec.code_dir))
    loader_spec = importlib.util.spec_from_file_location(unique, path)
    if loader_spec is None or loader_spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[unique] = module
    loader_spec.loader.exec_module(module)
    return module


class LocalFunction:
    def __init__(self, spec: FunctionSpec) -> None:
        self.spec = spec
        self._handler: Callable[[dict[str, Any], Any], Any] | None = None

    @property
    def handler(self) -> Callable[[dict[str, Any], Any], Any]:
        if self._handler is None:
            _, _, function_name = self.spec.handler.rpartition(".")
            self._handler = getattr(load_module(self.spec), function_name)
        return self._handler

    def invoke(self, event: dict[str, Any]) -> Any:
        context = LambdaContext(self.spec.logical_id, self.spec.memory_mb, self.spec.timeout)
        return self.handler(event, context)
