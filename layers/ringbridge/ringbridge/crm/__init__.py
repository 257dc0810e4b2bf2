"""CRM adapters (C3): KeyCRM and NetHunt behind the domain's ``CrmPort``, and one factory.

The API key comes from the caller (``ringbridge.wiring`` reads it from SSM); everything else
from the CRM's variables of the configuration (``Settings.crm_environment``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import requests

from ringbridge.crm.common import ManagerDirectory
from ringbridge.crm.http import (
    Clock,
    CrmError,
    CrmHttpClient,
    CrmRejected,
    CrmUnavailable,
    RateLimit,
    RetryPolicy,
    budget_key,
)
from ringbridge.crm.keycrm import KeyCrmAdapter, KeyCrmConfig
from ringbridge.crm.nethunt import NetHuntAdapter, NetHuntConfig
from ringbridge.domain.crm import CrmPort
from ringbridge.domain.ports import RateBudget

__all__ = [
    "CrmError",
    "CrmRejected",
    "CrmUnavailable",
    "KeyCrmAdapter",
    "KeyCrmConfig",
    "NetHuntAdapter",
    "NetHuntConfig",
    "RateSettings",
    "build_crm",
    "build_keycrm",
    "build_nethunt",
]


class BearerAuth(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "BearerAuth(***)"  # never the key, even in a debugger or a traceback


@dataclass(frozen=True)
class RateSettings:
    """How a CRM key's requests are spread: the budget all containers share, the margin, the wait."""

    budget: RateBudget | None = None  # None: this container's own slots (no other container counted)
    margin: float = 0.1  # the fraction of the CRM's limit left unused
    max_wait: float = 20.0  # seconds a request may wait for its slot before the message goes back


def _rate_limit(crm: str, api_key: str, requests_per_minute: int, rate: RateSettings | None, clock: Clock | None) -> RateLimit:
    rate = rate or RateSettings()
    return RateLimit(
        crm,
        requests_per_minute,
        60.0,
        budget=rate.budget,
        key=budget_key(crm, api_key),
        margin=rate.margin,
        max_wait=rate.max_wait,
        clock=clock,
    )


def build_keycrm(
    api_key: str,
    config: KeyCrmConfig,
    managers: ManagerDirectory | None = None,
    clock: Clock | None = None,
    retry: RetryPolicy | None = None,
    rate: RateSettings | None = None,
) -> KeyCrmAdapter:
    limit = _rate_limit("keycrm", api_key, config.requests_per_minute, rate, clock)
    client = CrmHttpClient("keycrm", config.base_url, BearerAuth(api_key), rate_limit=limit, retry=retry, clock=clock)
    return KeyCrmAdapter(client, config, managers, monotonic=clock.monotonic if clock else None)


def build_nethunt(
    api_key: str,
    config: NetHuntConfig,
    managers: ManagerDirectory | None = None,
    clock: Clock | None = None,
    retry: RetryPolicy | None = None,
    rate: RateSettings | None = None,
) -> NetHuntAdapter:
    limit = _rate_limit("nethunt", api_key, config.requests_per_minute, rate, clock)
    auth = requests.auth.HTTPBasicAuth(config.email, api_key)
    client = CrmHttpClient("nethunt", config.base_url, auth, rate_limit=limit, retry=retry, clock=clock)
    if clock is not None:
        return NetHuntAdapter(client, config, managers, monotonic=clock.monotonic)
    return NetHuntAdapter(client, config, managers)


def build_crm(
    kind: str,
    api_key: str,
    env: Mapping[str, str] | None = None,
    managers: ManagerDirectory | None = None,
    builtin: Callable[[], CrmPort] | None = None,
    rate: RateSettings | None = None,
    clock: Clock | None = None,
) -> CrmPort:
    """The CRM named by ``kind`` (the ``Crm`` parameter): ``keycrm``, ``nethunt`` or ``builtin``."""
    source = os.environ if env is None else env
    match kind.strip().lower():
        case "keycrm":
            return build_keycrm(api_key, KeyCrmConfig.from_env(source), managers, clock=clock, rate=rate)
        case "nethunt":
            return build_nethunt(api_key, NetHuntConfig.from_env(source), managers, clock=clock, rate=rate)
        case "builtin" if builtin is not None:
            return builtin()
        case _:
            raise ValueError(f"unknown CRM kind {kind!r}: expected keycrm, nethunt or builtin")
