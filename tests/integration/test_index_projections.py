"""The indexes project only what their readers use (template.yaml), and the readers cope with that.

Each check is two-sided: the index alone does not carry the record's fields (a listing reading
them from the index would show nothing), and the listing through storage still shows them all.
Both DynamoDB implementations the tests run on (moto, dynalite) honour projections.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ringbridge.domain.call_history import parse_call_query
from ringbridge.domain.calls import CallStatus, Direction
from ringbridge.storage.aws import client
from ringbridge.storage.builtin_records import BuiltinRecords
from ringbridge.storage.call_history import INDEX_KEYS, DynamoCallHistory
from ringbridge.storage.calls import DynamoCalls
from tests.integration.conftest import AwsStack
from tests.integration.crm_api_helpers import call, seed_calls, seed_contact


def _index_items(table: str, index: str, key: str, value: str) -> list[dict[str, object]]:
    response = client("dynamodb").query(
        TableName=table,
        IndexName=index,
        KeyConditionExpression="#k = :v",
        ExpressionAttributeNames={"#k": key},
        ExpressionAttributeValues={":v": {"S": value}},
    )
    items: list[dict[str, object]] = response["Items"]
    return items


def test_l1_call_indexes_hold_keys_only_and_listings_still_show_every_field(aws: AwsStack) -> None:
    table = aws.environment["CALLS_TABLE"]
    started = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    record = call("p1", started, direction=Direction.OUTGOING, status=CallStatus.MISSED, contact_id="contact-1", manager="anna")
    seed_calls(table, [record])
    keys = {"call_id", "started_at"}
    partitions = {
        "by_other_party": record.other_party,
        "by_contact": "contact-1",
        "by_manager": "anna",
        "by_day": record.call_day,
    }
    for index, attribute in INDEX_KEYS.items():
        value = partitions[index]
        assert value is not None
        (item,) = _index_items(table, index, attribute, value)
        # KEYS_ONLY: the table's key and the index's own; status, talk time, version... are not there
        assert set(item) == keys | {attribute}, index

    stored = DynamoCalls(table).get("p1")
    assert stored is not None
    history = DynamoCallHistory(table)
    for query in ({"phone": record.other_party or ""}, {"contact_id": "contact-1"}, {"manager": "anna"}, {}):
        records, _ = history.page(parse_call_query(query, "PL"))
        assert records == [stored], query
    # L1 filters apply to the fetched records: a status or direction the call does not have finds nothing
    for query in ({"manager": "anna", "status": "answered"}, {"contact_id": "contact-1", "direction": "incoming"}):
        assert history.page(parse_call_query(query, "PL"))[0] == [], query
    assert len(history.page(parse_call_query({"manager": "anna", "status": "missed"}, "PL"))[0]) == 1


def test_f1_contact_id_index_holds_keys_only_and_still_gives_the_number(aws: AwsStack) -> None:
    env = aws.environment
    contact_id = seed_contact(aws, name="Biuro")
    (item,) = _index_items(env["CONTACTS_TABLE"], "by_contact_id", "contact_id", contact_id)
    assert set(item) == {"phone", "contact_id"}  # no name, no last calls: the index is not rewritten per call
    records = BuiltinRecords(env["CONTACTS_TABLE"], env["CARDS_TABLE"], env["TASKS_TABLE"], env["CALLS_TABLE"])
    assert records.phone_of_contact(contact_id) == "+48221234567"
