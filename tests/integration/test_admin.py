"""SPEC C2 (employee mapping) through the admin route and the CSV CLI, against moto."""

from __future__ import annotations

from pathlib import Path

import pytest

from ringbridge import cli
from tests.integration.conftest import AwsStack

ANNA = {
    "name": "Anna Nowak",
    "crm_manager_id": "17",
    "ringostat_employee_id": "111111",
    "sip_accounts": ["company_anna"],
    "fmc_number": "0 601 234 567",
}


def test_c2_put_get_employee(aws: AwsStack) -> None:
    put = aws.admin("PUT", "/admin/employees/anna", json=ANNA)
    assert put.status_code == 200
    assert put.json["fmc_number"] == "+48601234567"
    assert aws.admin("GET", "/admin/employees/anna").json == put.json


@pytest.mark.parametrize(
    ("query", "found"),
    [("sip=COMPANY_ANNA", True), ("fmc=601234567", True), ("ringostat=111111", True), ("crm=17", True), ("sip=other", False)],
)
def test_c2_any_identifier_finds_the_employee_in_one_read(aws: AwsStack, query: str, found: bool) -> None:
    aws.admin("PUT", "/admin/employees/anna", json=ANNA)
    reads: list[str] = []
    from ringbridge.storage.aws import client

    client("dynamodb").meta.events.register("before-call.dynamodb", lambda model, **_: reads.append(model.name))
    response = aws.admin("GET", f"/admin/employees?{query}")
    assert response.status_code == 200
    assert [e["employee_id"] for e in response.json["employees"]] == (["anna"] if found else [])
    assert reads == ["GetItem"]


def test_c2_list_employees_uses_the_index(aws: AwsStack) -> None:
    aws.admin("PUT", "/admin/employees/anna", json=ANNA)
    aws.admin("PUT", "/admin/employees/piotr", json={"name": "Piotr", "sip_accounts": ["102"]})
    assert [e["employee_id"] for e in aws.admin("GET", "/admin/employees").json["employees"]] == ["anna", "piotr"]


def test_c2_changed_identifiers_drop_the_old_ones(aws: AwsStack) -> None:
    aws.admin("PUT", "/admin/employees/anna", json=ANNA)
    aws.admin("PUT", "/admin/employees/anna", json={**ANNA, "sip_accounts": ["anna2"], "fmc_number": None})
    assert aws.admin("GET", "/admin/employees?sip=company_anna").json == {"employees": []}
    assert aws.admin("GET", "/admin/employees?fmc=601234567").json == {"employees": []}
    assert aws.admin("GET", "/admin/employees?sip=anna2").json["employees"][0]["employee_id"] == "anna"


def test_c2_identifier_of_another_employee_is_409_and_nothing_written(aws: AwsStack) -> None:
    aws.admin("PUT", "/admin/employees/anna", json=ANNA)
    response = aws.admin("PUT", "/admin/employees/piotr", json={"name": "Piotr", "sip_accounts": ["102", "company_anna"]})
    assert response.status_code == 409
    assert "company_anna" in response.json["message"]
    assert aws.admin("GET", "/admin/employees/piotr").status_code == 404
    assert aws.admin("GET", "/admin/employees?sip=102").json == {"employees": []}


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        ({"sip_accounts": ["101"]}, 400, "name"),
        ({**ANNA, "fmc_number": "+48 000"}, 400, "phone number"),
        ({**ANNA, "sip_accounts": "company_anna"}, 400, "sip_accounts"),
        ({**ANNA, "role": "admin"}, 400, "role"),
    ],
)
def test_c2_bad_mapping_is_4xx_with_reason(aws: AwsStack, body: dict[str, object], status: int, reason: str) -> None:
    response = aws.admin("PUT", "/admin/employees/anna", json=body)
    assert response.status_code == status
    assert reason in response.json["message"]
    assert aws.admin("GET", "/admin/employees/anna").status_code == 404


def test_delete_unknown_employee_is_404(aws: AwsStack) -> None:
    assert aws.admin("DELETE", "/admin/employees/nobody").status_code == 404


def test_contact_seed_normalises_the_path_number(aws: AwsStack) -> None:
    aws.admin("PUT", "/admin/employees/anna", json=ANNA)
    put = aws.admin("PUT", "/admin/contacts/0048%20123%20456%20789", json={"name": "Kowalski", "responsible_employee_id": "anna"})
    assert put.status_code == 200
    assert put.json["phone"] == "+48123456789"
    assert put.json["route_to"] == "company_anna"
    assert aws.admin("GET", "/admin/contacts/123456789").json["contact_id"] == put.json["contact_id"]


def test_r2_contact_seed_names_the_manager_and_follows_a_reassignment(aws: AwsStack) -> None:
    """The caller look-up shows the responsible manager's name: set by the seed, changed with the manager."""
    aws.admin("PUT", "/admin/employees/anna", json=ANNA)
    aws.admin("PUT", "/admin/employees/piotr", json={"name": "Piotr Lis", "sip_accounts": ["company_piotr"]})
    seeded = aws.admin("PUT", "/admin/contacts/123456789", json={"name": "Kowalski", "responsible_employee_id": "anna"})
    assert seeded.json["manager_name"] == "Anna Nowak"
    moved = aws.admin("PUT", "/admin/contacts/123456789", json={"responsible_employee_id": "piotr"})
    assert (moved.json["manager_name"], moved.json["route_to"], moved.json["name"]) == ("Piotr Lis", "company_piotr", "Kowalski")
    aws.admin("PUT", "/admin/employees/piotr", json={"name": "Piotr Lis-Nowak", "sip_accounts": ["company_piotr2"]})
    renamed = aws.admin("GET", "/admin/contacts/123456789").json
    assert (renamed["manager_name"], renamed["route_to"]) == ("Piotr Lis-Nowak", "company_piotr2")
    aws.admin("DELETE", "/admin/employees/piotr")
    gone = aws.admin("GET", "/admin/contacts/123456789").json
    assert "route_to" not in gone or gone["route_to"] is None
    assert gone["manager_name"] is None


def test_contact_seed_with_unknown_employee_is_422_and_nothing_written(aws: AwsStack) -> None:
    response = aws.admin("PUT", "/admin/contacts/+48123456789", json={"responsible_employee_id": "ghost"})
    assert response.status_code == 422
    assert "ghost" in response.json["message"]
    assert aws.admin("GET", "/admin/contacts/+48123456789").status_code == 404


def test_contact_seed_with_impossible_number_is_400(aws: AwsStack) -> None:
    response = aws.admin("PUT", "/admin/contacts/+48000", json={"name": "x"})
    assert response.status_code == 400
    assert "phone number" in response.json["message"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer local-webhook-secret"}])
def test_admin_routes_need_the_admin_secret(aws: AwsStack, headers: dict[str, str]) -> None:
    assert aws.http.get("/admin/employees", headers=headers).status_code == 401
    # The webhook secret in the query never opens admin routes.
    assert aws.http.get("/admin/employees", query_string={"token": "local-admin-secret"}).status_code == 401


def test_c2_csv_import_writes_the_same_mapping(aws: AwsStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv_file = tmp_path / "employees.csv"
    csv_file.write_text(
        "employee_id,name,crm_manager_id,ringostat_employee_id,sip_accounts,fmc_number\n"
        "anna,Anna Nowak,17,111111,company_anna;101,0 601 234 567\n"
        "piotr,Piotr,18,222222,,+48 602 000 111\n"
        "bad,,19,,,\n"
        "ghost,Ghost,20,,company_anna,\n",
        encoding="utf-8",
    )
    env = aws.environment
    code = cli.main(
        [
            "--sip-mappings-table",
            env["SIP_MAPPINGS_TABLE"],
            "--contacts-table",
            env["CONTACTS_TABLE"],
            "employees",
            "import",
            str(csv_file),
        ]
    )
    out = capsys.readouterr()
    assert code == 1
    assert "imported 2 employee(s), refused 2" in out.out
    assert "line 4: missing name" in out.err
    assert "line 5: sip identifier 'company_anna' already belongs to another employee" in out.err
    assert aws.admin("GET", "/admin/employees?sip=101").json["employees"][0]["employee_id"] == "anna"
    assert aws.admin("GET", "/admin/employees/piotr").json["fmc_number"] == "+48602000111"
    cli.main(["--sip-mappings-table", env["SIP_MAPPINGS_TABLE"], "--contacts-table", env["CONTACTS_TABLE"], "employees", "list"])
    listed = capsys.readouterr().out.strip().splitlines()
    assert len(listed) == 2


def test_cli_refuses_unknown_columns(aws: AwsStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv_file = tmp_path / "employees.csv"
    csv_file.write_text("employee,name\nanna,Anna\n", encoding="utf-8")
    env = aws.environment
    code = cli.main(
        [
            "--sip-mappings-table",
            env["SIP_MAPPINGS_TABLE"],
            "--contacts-table",
            env["CONTACTS_TABLE"],
            "employees",
            "import",
            str(csv_file),
        ]
    )
    assert code == 2
    assert "unknown columns: employee" in capsys.readouterr().err
    assert aws.admin("GET", "/admin/employees").json == {"employees": []}
