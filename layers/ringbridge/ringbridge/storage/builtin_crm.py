"""The built-in store as a CRM (C3 ``builtin``): contacts, cards, tasks and the call history in DynamoDB.

Every create is a conditional write keyed so that a repeat finds what the first one made:
a contact by its number, a card or task by the call that opened it.

No exactly-once decision ("has this number an active card, an open task?") reads the ``by_phone``
index: in DynamoDB a global secondary index is eventually consistent, so a card or task written a
moment ago may be missing from it, and two quick calls from one number would make two. The
decision follows a pointer read with a strongly consistent GetItem (the contact's ``open_card_id``
and ``open_task_id``) to the pointed item, read the same way. The index serves listings only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from ringbridge.domain.calls import CallRecord, Utm
from ringbridge.domain.clock import utc_stamp
from ringbridge.domain.crm import CardDraft, ContactDraft, CrmCard, CrmContact, CrmTask, TaskDraft
from ringbridge.domain.crm_lists import CONTACTS_LIST_KEY, name_key
from ringbridge.domain.employees import Employee
from ringbridge.storage.aws import client, from_item, to_item

LAST_CALLS_KEPT = 5
# Contacts whose last calls this process remembers as last read (a bound, not a cache: every write is conditional).
SEEN_KEPT = 256

# A number with no contact (contact creation off for its calls, P7) keeps its open-task pointer on an
# item of the tasks table keyed by the number: a conditional put on one key is atomic and strongly
# consistent like the contact's pointer, and needs no other table. The item has no ``phone`` or
# ``created_at``, so the ``by_phone`` index (and so every listing) never holds it.
OPEN_TASK_POINTER = "open-task#"


def _utm(utm: Utm) -> dict[str, str] | None:
    return {key: value for key, value in utm.model_dump().items() if value is not None} or None


class BuiltinCrm:
    def __init__(
        self, contacts_table: str, cards_table: str, tasks_table: str, calls_table: str, dynamodb: Any | None = None
    ) -> None:
        self.contacts_table = contacts_table
        self.cards_table = cards_table
        self.tasks_table = tasks_table
        self.calls_table = calls_table
        self._dynamodb = dynamodb
        self._last_calls_seen: dict[str, tuple[int, list[dict[str, Any]]]] = {}
        # A number's two open-task pointers (the contact's, the number's own) as ``find_contact`` read them,
        # taken by the next task decision of the same sync instead of reading them again.
        self._task_pointers_seen: dict[str, tuple[str | None, str | None]] = {}

    @property
    def dynamodb(self) -> Any:
        return self._dynamodb or client("dynamodb")

    def _put_new(self, table: str, key: str, item: dict[str, Any]) -> bool:
        """Write ``item`` unless its key exists; False when it did (a repeat finds the first one)."""
        try:
            self.dynamodb.put_item(TableName=table, Item=to_item(item), ConditionExpression=f"attribute_not_exists({key})")
        except self.dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    # ------------------------------------------------------------------ contacts
    def _contact_item(self, phone: str) -> dict[str, Any] | None:
        item = self.dynamodb.get_item(TableName=self.contacts_table, Key={"phone": {"S": phone}}, ConsistentRead=True).get("Item")
        return self._seen(phone, from_item(item) if item else None)

    def _seen(self, phone: str, item: dict[str, Any] | None) -> dict[str, Any] | None:
        """Note the contact's last calls as read (the base of the next ``_remember_last_call``, checked by a condition)."""
        if len(self._last_calls_seen) > SEEN_KEPT:
            self._last_calls_seen.clear()
        if item is not None:
            self._last_calls_seen[phone] = (int(item.get("last_calls_rev") or 0), list(item.get("last_calls") or []))
        return item

    def find_contact(self, phone: str) -> CrmContact | None:
        """The contact, read in one BatchGetItem with the number's own open-task pointer (both strongly consistent)."""
        keys = {
            self.contacts_table: {"Keys": [{"phone": {"S": phone}}], "ConsistentRead": True},
            self.tasks_table: {"Keys": [{"task_id": {"S": self.number_pointer_key(phone)}}], "ConsistentRead": True},
        }
        found: dict[str, list[dict[str, Any]]] = {}
        for _ in range(5):
            answer = self.dynamodb.batch_get_item(RequestItems=keys)
            for table, items in answer.get("Responses", {}).items():
                found.setdefault(table, []).extend(from_item(item) for item in items)
            keys = answer.get("UnprocessedKeys") or {}
            if not keys:
                break
        else:
            raise RuntimeError("DynamoDB keeps leaving the contact unread")  # throttled: the message is retried
        item = self._seen(phone, next(iter(found.get(self.contacts_table, [])), None))
        pointer = next(iter(found.get(self.tasks_table, [])), {}).get("open_task_id")
        if len(self._task_pointers_seen) > SEEN_KEPT:
            self._task_pointers_seen.clear()
        self._task_pointers_seen[phone] = ((item or {}).get("open_task_id"), pointer)
        return self._contact(item) if item is not None else None

    def _task_pointers(self, phone: str) -> tuple[str | None, str | None]:
        """The contact's and the number's open-task pointers: as this sync's ``find_contact`` read them, else read now."""
        seen = self._task_pointers_seen.pop(phone, None)
        if seen is not None:
            return seen
        return (self._contact_item(phone) or {}).get("open_task_id"), self._number_task_pointer(phone)

    @staticmethod
    def _contact(item: dict[str, Any]) -> CrmContact:
        return CrmContact(
            crm_id=item["contact_id"],
            phone=item["phone"],
            name=item.get("name"),
            responsible_employee_id=item.get("responsible_employee_id"),
            has_utm=bool(item.get("utm")),
            open_card_id=item.get("open_card_id"),
            open_task_id=item.get("open_task_id"),
            pointers_known=True,
        )

    def write_utm(self, contact: CrmContact, utm: Utm, keyword: str | None) -> None:
        """P8: the contact item takes the call's tags (and keyword)."""
        values: dict[str, Any] = {":utm": to_item({"v": _utm(utm) or {}})["v"], ":now": {"S": utc_stamp()}}
        expression = "SET utm = :utm, updated_at = :now"
        if keyword:
            expression += ", keyword = :keyword"
            values[":keyword"] = {"S": keyword}
        self.dynamodb.update_item(
            TableName=self.contacts_table,
            Key={"phone": {"S": contact.phone}},
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(phone)",
            ExpressionAttributeValues=values,
        )

    def create_contact(self, draft: ContactDraft) -> CrmContact:
        now = utc_stamp()
        responsible = draft.responsible
        item = {
            "phone": draft.phone,
            "contact_id": uuid.uuid4().hex,
            "name": draft.name,
            "source": draft.source,
            "utm": _utm(draft.utm),
            "keyword": draft.keyword,
            "responsible_employee_id": responsible.employee_id if responsible else None,
            "manager_name": responsible.name if responsible else None,
            "route_to": responsible.routing_target if responsible else None,
            "created_by_call": draft.call_id,
            # the contact search's index (``by_name``): every contact in one partition, sorted by name
            "list_key": CONTACTS_LIST_KEY,
            "name_key": name_key(draft.name or draft.phone),
            "created_at": now,
            "updated_at": now,
        }
        try:
            self.dynamodb.put_item(
                TableName=self.contacts_table,
                Item=to_item(item),
                ConditionExpression="attribute_not_exists(phone)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self.dynamodb.exceptions.ConditionalCheckFailedException as exists:
            # A parallel call or an earlier try made it: that one stands, as the failed condition returned it.
            old = exists.response.get("Item")
            standing = self._seen(draft.phone, from_item(old)) if old else self._contact_item(draft.phone)
            if standing is None:  # pragma: no cover - a conditional failure means the item exists
                raise RuntimeError("contact vanished after creation") from exists
            return self._contact(standing)
        self._seen(draft.phone, item)
        return self._contact({key: value for key, value in item.items() if value is not None})

    # ------------------------------------------------------------------ cards
    def find_active_card(self, phone: str, contact: CrmContact, known_id: str | None = None) -> CrmCard | None:
        """The card the contact's ``open_card_id`` points to, if it is still active (consistent reads only).

        ``contact`` comes from ``find_contact``/``create_contact``: its pointer was read consistently with it.
        """
        card_id = contact.open_card_id
        card = self._get(self.cards_table, "card_id", card_id) if card_id else None
        if card is None or not card.get("active"):
            return None
        return CrmCard(crm_id=card["card_id"], phone=phone, active=True)

    def create_card(self, draft: CardDraft) -> CrmCard:
        card_id = f"card-{draft.call_id}"
        item = {
            "card_id": card_id,
            "phone": draft.phone,
            "contact_id": draft.contact.crm_id,
            "funnel_id": draft.funnel_id,
            "title": draft.title,
            "stage": "new",
            "status": "open",
            "active": True,
            "version": 0,
            "manager_employee_id": draft.manager.employee_id if draft.manager else None,
            "manager_name": draft.manager.name if draft.manager else None,
            "utm": _utm(draft.utm),
            "summary": draft.summary,
            "call_id": draft.call_id,
            "created_at": utc_stamp(),
        }
        self._put_new(self.cards_table, "card_id", item)
        self.dynamodb.update_item(
            TableName=self.contacts_table,
            Key={"phone": {"S": draft.phone}},
            UpdateExpression="SET open_card_id = :card",
            ConditionExpression="attribute_exists(phone)",
            ExpressionAttributeValues={":card": {"S": card_id}},
        )
        return CrmCard(crm_id=card_id, phone=draft.phone, active=True)

    # ------------------------------------------------------------------ tasks
    def find_open_task(self, phone: str, known_id: str | None = None) -> CrmTask | None:
        """The number's open task: the contact's ``open_task_id``, else the number's own pointer (consistent reads)."""
        for task_id in self._task_pointers(phone):
            task = self._get(self.tasks_table, "task_id", task_id) if task_id else None
            if task is not None and task.get("status") == "open":
                return CrmTask(crm_id=task["task_id"], phone=phone, open=True)
        return None

    def create_task(self, draft: TaskDraft) -> CrmTask:
        """Claim the number's open-task pointer, then write the task; a lost claim returns the winner's task.

        The pointer is claimed first and conditionally: free, already this task (a retry), or the task
        seen closed or missing when this call looked. So two writers can never both leave an open task.
        """
        task_id = f"task-{draft.call_id}"
        winner = self._claim_task_pointer(draft, task_id)
        if winner is not None:
            return winner
        item = {
            "task_id": task_id,
            "phone": draft.phone,
            "contact_id": draft.contact.crm_id if draft.contact else None,
            "assignee_employee_id": draft.assignee_id,
            "assignee_name": draft.assignee.name if draft.assignee else None,
            "due_at": draft.due_at,
            "text": draft.text,
            "status": "open",
            "call_id": draft.call_id,
            "created_at": utc_stamp(),
            "version": 0,
        }
        self._put_new(self.tasks_table, "task_id", item)
        return CrmTask(crm_id=task_id, phone=draft.phone, open=True)

    def _claim_task_pointer(self, draft: TaskDraft, task_id: str) -> CrmTask | None:
        """Point the number at ``task_id``; None when done, else the open task that holds the pointer."""
        on_contact = draft.contact is not None
        for attempt in range(3):
            if on_contact and attempt == 0:
                seen = draft.contact.open_task_id if draft.contact else None  # as read with the contact
            elif on_contact:
                seen = (self._contact_item(draft.phone) or {}).get("open_task_id")
            else:
                seen = self._number_task_pointer(draft.phone)
            if seen and seen != task_id:
                current = self._get(self.tasks_table, "task_id", seen)
                if current is not None and current.get("status") == "open":
                    return CrmTask(crm_id=seen, phone=draft.phone, open=True)
            values = {":task": {"S": task_id}, ":seen": {"S": seen or task_id}}
            try:
                if on_contact:
                    self.dynamodb.update_item(
                        TableName=self.contacts_table,
                        Key={"phone": {"S": draft.phone}},
                        UpdateExpression="SET open_task_id = :task",
                        ConditionExpression=(
                            "attribute_exists(phone) AND "
                            "(attribute_not_exists(open_task_id) OR open_task_id = :task OR open_task_id = :seen)"
                        ),
                        ExpressionAttributeValues=values,
                    )
                else:
                    self.dynamodb.update_item(
                        TableName=self.tasks_table,
                        Key={"task_id": {"S": OPEN_TASK_POINTER + draft.phone}},
                        UpdateExpression="SET open_task_id = :task",
                        ConditionExpression="attribute_not_exists(open_task_id) OR open_task_id = :task OR open_task_id = :seen",
                        ExpressionAttributeValues=values,
                    )
            except self.dynamodb.exceptions.ConditionalCheckFailedException:
                continue  # moved meanwhile: look again
            return None
        raise RuntimeError("the number's open-task pointer keeps moving")

    def close_callback(self, phone: str, call: CallRecord, known_id: str | None = None) -> str | None:
        """T1: the number's open call-back task, if its missed call came before ``call``, is done; its id, or None.

        The task is closed with a conditional write (still open), then its pointers are released; a repeat
        finds it closed and changes nothing.
        """
        task_id = next((pointer for pointer in self._task_pointers(phone) if pointer), None)
        task = self._get(self.tasks_table, "task_id", task_id) if task_id else None
        if task is None or task.get("status") != "open":
            return None
        missed = self._get(self.calls_table, "call_id", str(task.get("call_id"))) if task.get("call_id") else None
        missed_at = str((missed or {}).get("started_at") or task.get("created_at") or "")
        if not call.started_at or call.started_at <= missed_at:
            return None  # not a later call: it cannot be the call-back
        try:
            self.dynamodb.update_item(
                TableName=self.tasks_table,
                Key={"task_id": {"S": task["task_id"]}},
                UpdateExpression=(
                    "SET #status = :done, closed_at = :now, closed_by_call_id = :call, "
                    "#version = if_not_exists(#version, :zero) + :one"
                ),
                ConditionExpression="#status = :open",
                ExpressionAttributeNames={"#status": "status", "#version": "version"},
                ExpressionAttributeValues={
                    ":done": {"S": "done"},
                    ":open": {"S": "open"},
                    ":now": {"S": utc_stamp()},
                    ":call": {"S": call.call_id},
                    ":zero": {"N": "0"},
                    ":one": {"N": "1"},
                },
            )
        except self.dynamodb.exceptions.ConditionalCheckFailedException:
            return None  # closed meanwhile (by a person, or a repeat of this call)
        self.release_pointer(phone, "open_task_id", task["task_id"])
        return str(task["task_id"])

    def release_pointer(self, phone: str, pointer: str, item_id: str) -> None:
        """Remove the contact's ``open_card_id``/``open_task_id`` (and a number's own task pointer) if it is ``item_id``."""
        self._conditional(self.contacts_table, "phone", phone, f"REMOVE {pointer}", f"{pointer} = :id", item_id)
        if pointer == "open_task_id":
            number = self.number_pointer_key(phone)
            self._conditional(self.tasks_table, "task_id", number, f"REMOVE {pointer}", f"{pointer} = :id", item_id)

    def _conditional(self, table: str, key: str, value: str, update: str, condition: str, item_id: str) -> None:
        try:
            self.dynamodb.update_item(
                TableName=table,
                Key={key: {"S": value}},
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues={":id": {"S": item_id}},
            )
        except self.dynamodb.exceptions.ConditionalCheckFailedException:
            return  # it points elsewhere (or nowhere): nothing to release

    @staticmethod
    def number_pointer_key(phone: str) -> str:
        return OPEN_TASK_POINTER + phone

    def _number_task_pointer(self, phone: str) -> str | None:
        item = self._get(self.tasks_table, "task_id", self.number_pointer_key(phone))
        return item.get("open_task_id") if item else None

    def _get(self, table: str, key: str, value: str) -> dict[str, Any] | None:
        item = self.dynamodb.get_item(TableName=table, Key={key: {"S": value}}, ConsistentRead=True).get("Item")
        return from_item(item) if item else None

    # ------------------------------------------------------------------ reading back
    def cards_of(self, phone: str) -> list[dict[str, Any]]:
        """A number's cards, newest first (Query on the ``by_phone`` index)."""
        return list(self._by_phone(self.cards_table, phone))

    def tasks_of(self, phone: str) -> list[dict[str, Any]]:
        return list(self._by_phone(self.tasks_table, phone))

    def _by_phone(
        self,
        table: str,
        phone: str,
        condition: str | None = None,
        values: dict[str, Any] | None = None,
        names: dict[str, str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """A number's cards or tasks, newest first, optionally filtered (Query on ``by_phone``, never Scan)."""
        request: dict[str, Any] = {
            "TableName": table,
            "IndexName": "by_phone",
            "KeyConditionExpression": "phone = :phone",
            "ExpressionAttributeValues": {":phone": {"S": phone}, **(values or {})},
            "ScanIndexForward": False,
        }
        if condition:
            request["FilterExpression"] = condition
        if names:
            request["ExpressionAttributeNames"] = names
        for page in self.dynamodb.get_paginator("query").paginate(**request):
            for item in page.get("Items", []):
                yield from_item(item)

    # ------------------------------------------------------------------ call history
    def log_call(self, call: CallRecord, contact: CrmContact | None, manager: Employee | None) -> None:
        """The call record is the history entry: link it to its contact and manager (L1, L2)."""
        links = {
            "contact_id": contact.crm_id if contact else None,
            "contact_name": contact.name if contact else None,
            "manager_employee_id": manager.employee_id if manager else None,
            "manager_name": manager.name if manager else None,
        }
        present = {key: value for key, value in links.items() if value is not None}
        if any(getattr(call, key) != value for key, value in present.items()):  # a repeat (L4) that links the same writes nothing
            # The version moves too: a comment saved meanwhile (PATCH with If-Match) must not undo these links.
            self.dynamodb.update_item(
                TableName=self.calls_table,
                Key={"call_id": {"S": call.call_id}},
                UpdateExpression="SET " + ", ".join(f"#{key} = :{key}" for key in present) + ", version = version + :one",
                ConditionExpression="attribute_exists(call_id)",
                ExpressionAttributeNames={f"#{key}": key for key in present},
                ExpressionAttributeValues={**{f":{key}": {"S": value} for key, value in present.items()}, ":one": {"N": "1"}},
            )
        if contact is not None:
            self._remember_last_call(call, contact)

    def _remember_last_call(self, call: CallRecord, contact: CrmContact) -> None:
        """Keep the contact's last calls on its item, so caller look-up is one read (S1, X3).

        The list is merged onto the one read with the contact (no second read) and written only if
        nobody changed it since (``last_calls_rev``); otherwise it is read again and merged anew.
        """
        summary = {
            "call_id": call.call_id,
            "started_at": call.started_at or "",
            "direction": call.direction.value if call.direction else "",
            "status": call.status.value if call.status else "",
        }
        for _ in range(3):
            seen = self._last_calls_seen.get(contact.phone)
            if seen is None:
                if self._contact_item(contact.phone) is None:
                    return  # the contact is gone: nothing to keep its calls on
                seen = self._last_calls_seen[contact.phone]
            rev, known = seen
            calls = [c for c in known if c.get("call_id") != call.call_id]
            calls = sorted([summary, *calls], key=lambda c: c.get("started_at", ""), reverse=True)[:LAST_CALLS_KEPT]
            try:
                self.dynamodb.update_item(
                    TableName=self.contacts_table,
                    Key={"phone": {"S": contact.phone}},
                    UpdateExpression="SET last_calls = :calls, last_calls_rev = :next, updated_at = :now",
                    ConditionExpression=(
                        "attribute_exists(phone) AND "
                        + ("last_calls_rev = :rev" if rev else "attribute_not_exists(last_calls_rev)")
                    ),
                    ExpressionAttributeValues={
                        ":calls": to_item({"v": calls})["v"],
                        ":next": {"N": str(rev + 1)},
                        ":now": {"S": utc_stamp()},
                        **({":rev": {"N": str(rev)}} if rev else {}),
                    },
                )
            except self.dynamodb.exceptions.ConditionalCheckFailedException:
                self._last_calls_seen.pop(contact.phone, None)  # changed meanwhile (or gone): read it again
                continue
            self._last_calls_seen[contact.phone] = (rev + 1, calls)
            return
        raise RuntimeError("the contact's last calls keep changing")
