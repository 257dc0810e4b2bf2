"""Smart forwarding (SPEC R1-R4): which SIP account should take a ringing call."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from ringbridge.domain.phones import normalize_phone


class RoutingPing(BaseModel):
    """What Ringostat's webhook number sends (R1): ``from``, ``direction``, ``state``.

    Unknown extra parameters an admin may add are accepted and ignored.
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    caller: str = Field(alias="from", min_length=1, max_length=64)
    direction: str | None = Field(default=None, max_length=64)
    state: str | None = Field(default=None, max_length=64)


class FallThroughReason(StrEnum):
    """Why no target was named (R3): logged and counted, never sent to Ringostat."""

    UNKNOWN_CALLER = "unknown_caller"
    NO_ROUTE = "no_sip_route"  # no manager, manager unmapped, or FMC only (R4)
    STORE_UNAVAILABLE = "store_unavailable"


@dataclass(frozen=True)
class RoutingDecision:
    target: str | None
    fall_through: FallThroughReason | None = None


class RouteLookup(Protocol):
    """The one read of the hot path: a contact's denormalised route.

    Returns ``None`` for an unknown number, ``""`` for a known contact with no SIP route.
    """

    def route_for(self, phone: str) -> str | None: ...


def decide_route(caller_phone: str, routes: RouteLookup) -> RoutingDecision:
    """Name the responsible manager's SIP account, or say why Ringostat should go on."""
    try:
        route = routes.route_for(caller_phone)
    except Exception:  # noqa: BLE001 - any storage failure must fall through, never hang a caller
        return RoutingDecision(None, FallThroughReason.STORE_UNAVAILABLE)
    if route is None:
        return RoutingDecision(None, FallThroughReason.UNKNOWN_CALLER)
    if not route:
        return RoutingDecision(None, FallThroughReason.NO_ROUTE)
    return RoutingDecision(route)


def route_ping(ping: RoutingPing, default_country: str, routes: RouteLookup) -> tuple[str, RoutingDecision]:
    """Normalise the caller (400 on an impossible number) and decide the route."""
    phone = normalize_phone(ping.caller, default_country)
    return phone, decide_route(phone, routes)
