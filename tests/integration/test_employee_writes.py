"""C2: the employee mapping is saved with single-item conditional writes (storage/employees.py).

No TransactWriteItems, so these run on dynalite as well as moto. What they hold the order to:
an identifier belongs to one employee, a refused or failed save leaves the mapping as it was,
and a save cut off halfway never routes an identifier to the wrong employee.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from ringbridge.domain.employees import Employee, EmployeeKeyKind
from ringbridge.domain.errors import Conflict
from ringbridge.storage.employees import DynamoEmployees
from tests.integration.conftest import AwsStack

ANNA = Employee(employee_id="anna", name="Anna", ringostat_employee_id="111", sip_accounts=["a1"], fmc_number="+48601234567")
PIOTR = Employee(employee_id="piotr", name="Piotr", sip_accounts=["p1"])


def _store(aws: AwsStack) -> DynamoEmployees:
    return DynamoEmployees(aws.environment_table("SipMappingsTable"))


def _table(aws: AwsStack) -> dict[str, str]:
    """Every identifier item: key -> the employee it routes to."""
    return {item["key"]: item["employee_id"] for item in aws.items("SipMappingsTable")}


def _names(aws: AwsStack) -> dict[str, str]:
    return {item["key"]: item["name"] for item in aws.items("SipMappingsTable")}


def test_c2_two_employees_claiming_one_sip_account_at_once_one_wins_and_the_other_leaves_nothing(aws: AwsStack) -> None:
    store = _store(aws)
    for round_ in range(6):
        shared = f"shared{round_}"
        claims = [
            Employee(employee_id=f"anna{round_}", name="Anna", sip_accounts=[f"a{round_}", shared]),
            Employee(employee_id=f"piotr{round_}", name="Piotr", sip_accounts=[f"p{round_}", shared]),
        ]

        def save(employee: Employee) -> str:
            try:
                store.save(employee)
            except Conflict:
                return "409"
            return employee.employee_id

        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(save, claims))
        winners = [result for result in results if result != "409"]
        assert len(winners) == 1, results
        winner = winners[0]
        loser = next(claim.employee_id for claim in claims if claim.employee_id != winner)
        table = _table(aws)
        assert table[f"sip#{shared}"] == winner
        assert loser not in table.values()  # the refused save undid its own claims
        found = store.find(EmployeeKeyKind.SIP, shared)
        assert found is not None and found.employee_id == winner
        assert store.get(loser) is None


def test_c2_a_refused_change_leaves_every_copy_as_it_was(aws: AwsStack) -> None:
    store = _store(aws)
    store.save(ANNA)
    store.save(PIOTR)
    before = aws.items("SipMappingsTable")
    changed = ANNA.model_copy(update={"name": "Anna Changed", "sip_accounts": ["a1", "a2", "p1"], "crm_manager_id": "17"})
    with pytest.raises(Conflict, match="'p1' already belongs to another employee"):
        store.save(changed)
    assert sorted(aws.items("SipMappingsTable"), key=lambda item: item["key"]) == sorted(before, key=lambda item: item["key"])


def test_c2_a_failed_last_write_is_undone(aws: AwsStack, monkeypatch: pytest.MonkeyPatch) -> None:
    store = _store(aws)
    store.save(ANNA)
    before = aws.items("SipMappingsTable")

    def unavailable(*_: Any) -> None:
        raise RuntimeError("DynamoDB timed out")

    monkeypatch.setattr(store, "_put_canonical", unavailable)
    with pytest.raises(RuntimeError):
        store.save(ANNA.model_copy(update={"name": "Anna Changed", "sip_accounts": ["a2"], "crm_manager_id": "17"}))
    after = aws.items("SipMappingsTable")
    assert sorted(after, key=lambda item: item["key"]) == sorted(before, key=lambda item: item["key"])


class _Killed(BaseException):
    """The Lambda stopped between two writes: nothing after it runs, not even an undo."""


def test_c2_a_save_cut_off_halfway_routes_nothing_wrong_and_its_retry_completes_it(
    aws: AwsStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store(aws)
    store.save(ANNA)
    store.save(PIOTR)
    moved = ANNA.model_copy(update={"sip_accounts": ["a2"], "fmc_number": None})
    put_canonical: Callable[..., None] = store._put_canonical

    def killed(*_: Any) -> None:
        raise _Killed

    monkeypatch.setattr(store, "_put_canonical", killed)
    with pytest.raises(_Killed):
        store.save(moved)
    table = _table(aws)
    # Half written: the new SIP account routes to Anna (whom it was meant for), the old ones still do
    # too, Piotr's are untouched, and the mapping as listed is still Anna's old one.
    assert table["sip#a2"] == "anna" and table["sip#a1"] == "anna"
    assert {key for key, owner in table.items() if owner == "piotr"} == {"employee#piotr", "sip#p1"}
    assert store.get("anna") == ANNA
    # Another employee cannot take the half-claimed identifier meanwhile.
    with pytest.raises(Conflict):
        store.save(PIOTR.model_copy(update={"sip_accounts": ["p1", "a2"]}))
    monkeypatch.setattr(store, "_put_canonical", put_canonical)
    store.save(moved)
    assert store.get("anna") == moved
    assert {key for key, owner in _table(aws).items() if owner == "anna"} == {"employee#anna", "ringostat#111", "sip#a2"}


def test_c2_a_concurrent_save_of_the_same_employee_wins_and_the_other_is_undone(
    aws: AwsStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store(aws)
    store.save(ANNA)
    other = _store(aws)
    first = ANNA.model_copy(update={"name": "Anna First", "sip_accounts": ["a1", "a3"]})
    second = ANNA.model_copy(update={"name": "Anna Second", "sip_accounts": ["a1"]})
    put_canonical: Callable[..., None] = store._put_canonical

    def the_other_gets_there_first(*args: Any) -> None:
        other.save(second)
        put_canonical(*args)

    monkeypatch.setattr(store, "_put_canonical", the_other_gets_there_first)
    with pytest.raises(Conflict, match="changed meanwhile"):
        store.save(first)
    assert store.get("anna") == second
    names = _names(aws)
    assert "sip#a3" not in names  # the loser's claim is undone
    assert {names[key] for key in ("employee#anna", "sip#a1", "ringostat#111")} == {"Anna Second"}


def test_c2_delete_removes_every_identifier(aws: AwsStack) -> None:
    store = _store(aws)
    store.save(ANNA)
    store.save(PIOTR)
    assert store.delete("anna") is True
    assert set(_table(aws)) == {"employee#piotr", "sip#p1"}
    assert store.delete("anna") is False
