"""SPEC R1-R4 on the domain alone, with an in-memory route store."""

from __future__ import annotations

import pytest

from ringbridge.domain.phones import InvalidPhoneNumber
from ringbridge.domain.routing import FallThroughReason, RoutingPing, decide_route, route_ping


class Routes:
    def __init__(self, routes: dict[str, str], fail: bool = False) -> None:
        self.routes = routes
        self.fail = fail
        self.reads = 0

    def route_for(self, phone: str) -> str | None:
        self.reads += 1
        if self.fail:
            raise TimeoutError("store is slow")
        return self.routes.get(phone)


def test_r1_ping_accepts_ringostat_parameters_and_extras() -> None:
    ping = RoutingPing.model_validate({"from": "380671112233", "direction": "in", "state": "ping", "call_id": "x"})
    assert ping.caller == "380671112233"
    assert ping.direction == "in"


def test_r2_known_caller_goes_to_responsible_sip_account() -> None:
    routes = Routes({"+48123456789": "company_anna"})
    phone, decision = route_ping(RoutingPing.model_validate({"from": "0 12 345 67 89"}), "PL", routes)
    assert phone == "+48123456789"
    assert decision.target == "company_anna"
    assert routes.reads == 1


@pytest.mark.parametrize(
    ("routes", "reason"),
    [
        ({}, FallThroughReason.UNKNOWN_CALLER),
        ({"+48123456789": ""}, FallThroughReason.NO_ROUTE),  # no manager, or an FMC-only one (R4)
    ],
)
def test_r3_no_target_falls_through(routes: dict[str, str], reason: FallThroughReason) -> None:
    decision = decide_route("+48123456789", Routes(routes))
    assert decision.target is None
    assert decision.fall_through is reason


def test_r3_store_failure_falls_through_instead_of_failing() -> None:
    decision = decide_route("+48123456789", Routes({}, fail=True))
    assert decision.fall_through is FallThroughReason.STORE_UNAVAILABLE


def test_p1_impossible_caller_is_refused() -> None:
    with pytest.raises(InvalidPhoneNumber):
        route_ping(RoutingPing.model_validate({"from": "+48 000"}), "PL", Routes({}))
