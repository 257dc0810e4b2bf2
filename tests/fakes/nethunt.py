"""A strict fake of NetHunt's Integration API (``/api/v1/zapier``): folders, records, call logs, comments.

Sources, named at each rule:

- *official*: https://nethunt.com/integration-api (authorization, folders, folder fields and
  the start of find-record are all that is publicly readable of it);
- *clients*: independent public clients that agree with each other: woodway-expert/nethunt-mcp
  (src/nethunt_mcp/service.py), PipedreamHQ/pipedream (components/nethunt_crm/), kriscarilloxyz/
  nethunt-nodejs (index.js) and MindCloud's NetHunt reference ("NetHunt CRM: Native API
  Reference", "Create Record Call Log", public GitHub markdown);
- *guide*: NetHunt's Ringostat integration guide (contacts get the source "Ringostat"; the UTM
  fields Źródło, Kanał, Kampania, Słowo kluczowe are text fields);
- *strict*: nothing public says either way; the fake takes the narrow reading. These should
  become configuration if NetHunt turns out wider.

Run standalone: ``python -m tests.fakes.nethunt --port 8082``.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from werkzeug.exceptions import NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from tests.fakes import ApiError, FakeCrmServer, json_response, port_argument, serve_forever

EMAIL = "owner@example.com"
API_KEY = "fake-nethunt-key"
CONTACTS = "contacts-folder"
DEALS = "deals-folder"
TASKS = "tasks-folder"
PREFIX = "/api/v1/zapier"

# The workspace's users. Clients: user-type fields (owner, assignee) take a user's e-mail.
USERS = {EMAIL: "Owner", "anna@example.com": "Anna Nowak", "piotr@example.com": "Piotr Kowalski"}
ANNA_EMAIL, PIOTR_EMAIL = "anna@example.com", "piotr@example.com"

TEXT, PHONE, DROPDOWN, USER, DATE, CHECKBOX = "text", "phone", "dropdown", "user", "date", "checkbox"


@dataclass(frozen=True)
class FolderField:
    """A field of a folder. The API lists only the names (official); the type is the fake's own."""

    name: str
    kind: str = TEXT
    options: tuple[str, ...] = ()
    multiple: bool = False


CONTACT_FIELDS = (
    FolderField("Name"),
    FolderField("Phone", PHONE, multiple=True),
    FolderField("Source", DROPDOWN, ("Ringostat", "Website", "Referral")),  # guide: contacts "with the source Ringostat"
    FolderField("Źródło"),  # guide: text fields for the UTM tags
    FolderField("Kanał"),
    FolderField("Kampania"),
    FolderField("Słowo kluczowe"),
    FolderField("Responsible", USER),
)
DEAL_FIELDS = (
    FolderField("Name"),
    FolderField("Phone", PHONE, multiple=True),
    FolderField("Stage", DROPDOWN, ("New", "Negotiating", "Won", "Lost")),  # clients: stage is a list field, by option name
    FolderField("Owner", USER),
    FolderField("Description"),
    FolderField("Źródło"),
    FolderField("Kanał"),
    FolderField("Kampania"),
)
# Clients: a tasks folder with Name, Completed, Due date, Priority, Description, Assignee.
TASK_FIELDS = (
    FolderField("Name"),
    FolderField("Phone", PHONE, multiple=True),
    FolderField("Due date", DATE),
    FolderField("Assignee", USER),
    FolderField("Completed", CHECKBOX),
    FolderField("Priority", DROPDOWN, ("High", "Medium", "Low")),
    FolderField("Description"),
)

ISO_DATE = re.compile(r"^\d{4}-\d\d-\d\d$")
ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$")
EMAIL_FORM = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _bad(message: str) -> ApiError:
    # Strict: NetHunt's error bodies are not documented; a 400 with a message is assumed.
    return ApiError(400, {"message": message})


def is_iso_time(value: Any, date_only_allowed: bool = True) -> bool:
    """ISO 8601 as the clients send it (``2026-01-01T00:00:00.000Z``), or a bare date where allowed."""
    if not isinstance(value, str):
        return False
    if date_only_allowed and ISO_DATE.match(value):
        return True
    if not ISO_TIME.match(value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


class FakeNetHunt(FakeCrmServer):
    name = "nethunt"

    def __init__(
        self,
        email: str = EMAIL,
        api_key: str = API_KEY,
        monotonic: Callable[[], float] | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(*([monotonic] if monotonic else []))
        self.email, self.api_key = email, api_key
        self._now = now
        self.users = dict(USERS)
        self.folders: dict[str, dict[str, Any]] = {
            CONTACTS: {"id": CONTACTS, "name": "Contacts", "fields": {f.name: f for f in CONTACT_FIELDS}},
            DEALS: {"id": DEALS, "name": "Deals", "fields": {f.name: f for f in DEAL_FIELDS}},
            TASKS: {"id": TASKS, "name": "Tasks", "fields": {f.name: f for f in TASK_FIELDS}},
        }
        self.records: dict[str, dict[str, Any]] = {}
        self.call_logs: list[dict[str, Any]] = []
        self.comments: list[dict[str, Any]] = []
        # Clients: call logs and comments from the folder triggers carry their record's
        # `recordId`, but one published schema marks it optional. False drops it from the answers.
        self.trigger_record_ids = True
        self._next = 1
        self._urls = Map(
            [
                Rule(f"{PREFIX}/triggers/auth-test", endpoint="auth_test", methods=["GET"]),
                Rule(f"{PREFIX}/triggers/readable-folder", endpoint="folders", methods=["GET"]),
                Rule(f"{PREFIX}/triggers/writable-folder", endpoint="folders", methods=["GET"]),
                Rule(f"{PREFIX}/triggers/folder-field/<folder_id>", endpoint="folder_fields", methods=["GET"]),
                Rule(f"{PREFIX}/triggers/new-call-log/<folder_id>", endpoint="new_call_logs", methods=["GET"]),
                Rule(f"{PREFIX}/triggers/new-comment/<folder_id>", endpoint="new_comments", methods=["GET"]),
                Rule(f"{PREFIX}/triggers/updated-record/<folder_id>", endpoint="updated_records", methods=["GET"]),
                Rule(f"{PREFIX}/searches/find-record/<folder_id>", endpoint="find_record", methods=["GET"]),
                Rule(f"{PREFIX}/actions/create-record/<folder_id>", endpoint="create_record", methods=["POST"]),
                Rule(f"{PREFIX}/actions/update-record/<record_id>", endpoint="update_record", methods=["POST"]),
                Rule(f"{PREFIX}/actions/create-comment/<record_id>", endpoint="create_comment", methods=["POST"]),
                Rule(f"{PREFIX}/actions/create-call-log/<record_id>", endpoint="create_call_log", methods=["POST"]),
            ]
        )

    # State

    def _new_id(self, prefix: str) -> str:
        self._next += 1
        return f"{prefix}{self._next:06d}"

    def add_record(self, folder_id: str, fields: dict[str, Any]) -> str:
        """A record as if people had entered it; values are checked as the API checks them, lists allowed."""
        folder = self.folders[folder_id]
        for name, value in fields.items():
            for item in value if isinstance(value, list) else [value]:
                problem = self._field_problem(folder, name, item, seeding=True)
                if problem:
                    raise ValueError(problem)
        with self.lock:
            record_id = self._new_id("rec")
            stamp = _iso(self._now())
            self.records[record_id] = {
                "recordId": record_id,
                "folderId": folder_id,
                "createdAt": stamp,
                "updatedAt": stamp,
                "fields": dict(fields),
            }
            return record_id

    def change_record(self, record_id: str, fields: dict[str, Any]) -> None:
        """People change a record in NetHunt (e.g. reassign a contact): its ``updatedAt`` moves."""
        with self.lock:
            record = self.records[record_id]
            record["fields"].update(fields)
            record["updatedAt"] = _iso(self._now())

    def delete_record(self, record_id: str) -> None:
        """People delete a record in NetHunt: find-record by its id answers nothing from then on."""
        with self.lock:
            del self.records[record_id]

    def drop_field(self, folder_id: str, name: str) -> None:
        """A folder without this field (e.g. a deals folder with no phone field, as most have)."""
        del self.folders[folder_id]["fields"][name]

    def records_in(self, folder_id: str) -> list[dict[str, Any]]:
        return [r for r in self.records.values() if r["folderId"] == folder_id]

    def logs_of(self, record_id: str) -> list[dict[str, Any]]:
        return [log for log in self.call_logs if log["recordId"] == record_id]

    def comments_of(self, record_id: str) -> list[dict[str, Any]]:
        return [c for c in self.comments if c["recordId"] == record_id]

    # Field values

    def _field_problem(self, folder: dict[str, Any], name: str, value: Any, seeding: bool = False) -> str | None:
        """Why ``value`` cannot go into field ``name`` of ``folder``, or None."""
        field: FolderField | None = folder["fields"].get(name)
        if field is None:
            # Strict: a field is addressed by its name (clients) and must exist in the folder.
            return f"Unknown field {name!r} in folder {folder['name']}"
        if isinstance(value, list) and not seeding:
            if not field.multiple and field.kind != DROPDOWN:
                return f"Field {name!r} takes one value"
            problems = [self._field_problem(folder, name, item) for item in value]
            return next((p for p in problems if p), None)
        return None if self._value_fits(field, value) else self._expected(field, value)

    def _value_fits(self, field: FolderField, value: Any) -> bool:
        if field.kind == DROPDOWN:
            return value in field.options  # clients: a list field takes the option by its exact name
        if field.kind == USER:
            # Clients: user fields take the e-mail of a workspace user, not an id.
            return isinstance(value, str) and bool(EMAIL_FORM.match(value)) and value in self.users
        if field.kind == DATE:
            return is_iso_time(value)  # clients: ISO 8601 (UTC with Z, or with an offset)
        if field.kind == CHECKBOX:
            return isinstance(value, bool)
        return isinstance(value, str)  # text and phone

    @staticmethod
    def _expected(field: FolderField, value: Any) -> str:
        if field.kind == DROPDOWN:
            return f"{value!r} is not an option of field {field.name!r} ({', '.join(field.options)})"
        wanted = {
            USER: "the e-mail of a workspace user",
            DATE: "an ISO 8601 date or time",
            CHECKBOX: "true or false",
        }.get(field.kind, "text")
        return f"Field {field.name!r} takes {wanted}, not {value!r}"

    def _check_fields(self, folder: dict[str, Any], fields: Any) -> dict[str, Any]:
        if not isinstance(fields, dict) or not fields:
            raise _bad("'fields' is required and must name at least one field")
        for name, value in fields.items():
            problem = self._field_problem(folder, name, value)
            if problem:
                raise _bad(problem)
        return fields

    # Helpers

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        # Official: JSON payloads ("application/json" media type).
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError:
            raise _bad("Malformed JSON") from None
        if not isinstance(body, dict):
            raise _bad("Body must be a JSON object")
        return body

    def _folder(self, folder_id: str) -> dict[str, Any]:
        if folder_id not in self.folders:
            raise NotFound(f"Folder {folder_id} not found")
        return self.folders[folder_id]

    def _record(self, record_id: str) -> dict[str, Any]:
        if record_id not in self.records:
            raise NotFound(f"Record {record_id} not found")
        return self.records[record_id]

    @staticmethod
    def _limit(request: Request, default: int) -> int:
        raw = request.args.get("limit", str(default))
        if not raw.isdigit() or int(raw) < 1:
            raise _bad("'limit' must be a positive integer")
        return int(raw)

    def _since(self, request: Request) -> str:
        # Clients: `since` is an ISO UTC time such as 2026-01-01T00:00:00.000Z.
        since = request.args.get("since", "1970-01-01T00:00:00.000Z")
        if not is_iso_time(since, date_only_allowed=False):
            raise _bad("'since' must be an ISO 8601 time")
        return _iso(datetime.fromisoformat(since.replace("Z", "+00:00")))

    # Routes

    def authorized(self, request: Request) -> bool:
        # Official: Basic authentication, the login e-mail as user name and the API key as password.
        expected = base64.b64encode(f"{self.email}:{self.api_key}".encode()).decode()
        return request.headers.get("Authorization") == f"Basic {expected}"

    def unauthorized_body(self) -> dict[str, Any]:
        return {"message": "Unauthorized"}  # strict: the body is not documented

    def route(self, request: Request) -> Response:
        # Official: GET and POST only; a route answers its own method (else 405).
        endpoint, args = self._urls.bind_to_environ(request.environ).match()
        response: Response = getattr(self, f"_{endpoint}")(request, **args)
        return response

    def _auth_test(self, _request: Request) -> Response:
        return json_response([{"personalName": self.users.get(self.email, "Owner"), "emailAddress": self.email}])

    def _folders(self, _request: Request) -> Response:
        return json_response([{"id": f["id"], "name": f["name"]} for f in self.folders.values()])  # official

    def _folder_fields(self, _request: Request, folder_id: str) -> Response:
        return json_response([{"name": name} for name in self._folder(folder_id)["fields"]])  # official: names only

    def _find_record(self, request: Request, folder_id: str) -> Response:
        self._folder(folder_id)
        query, record_id = request.args.get("query"), request.args.get("recordId")
        if not query and not record_id:
            raise _bad("Either query or recordId is required")  # clients: one of the two
        limit = self._limit(request, 1)  # clients: limit defaults to 1
        found = []
        for record in self.records_in(folder_id):
            # Official (integration-api page) and clients (PipedreamHQ/pipedream `findRecordById`:
            # `find-record/{folderId}?recordId=…`; another public client reads `?recordId=…&limit=1` as
            # an array, empty when there is no such record): the id selects the folder's one record.
            # Strict: a record of another folder, or one deleted, is not found (an empty array, not a 404).
            if record_id and record["recordId"] != record_id:
                continue
            if query:
                # Observed with phone numbers: a value is found only as it is stored.
                values = [v for value in record["fields"].values() for v in (value if isinstance(value, list) else [value])]
                if query not in [str(v) for v in values]:
                    continue
            # Clients: find-record answers [{recordId, createdAt, updatedAt, fields}].
            found.append({k: record[k] for k in ("recordId", "createdAt", "updatedAt", "fields")})
        return json_response(found[:limit])

    def _updated_records(self, request: Request, folder_id: str) -> Response:
        # Clients (crm-apis notes): `since` and `limit`, newest first, no paging. Strict: a record
        # is listed as updated from its creation on (unconfirmed either way); the answer has
        # find-record's shape.
        self._folder(folder_id)
        since, limit = self._since(request), self._limit(request, 100)
        mine = [r for r in self.records_in(folder_id) if r["updatedAt"] >= since]
        mine.sort(key=lambda r: r["updatedAt"], reverse=True)
        return json_response([{k: r[k] for k in ("recordId", "createdAt", "updatedAt", "fields")} for r in mine[:limit]])

    def _create_record(self, request: Request, folder_id: str) -> Response:
        folder = self._folder(folder_id)
        body = self._body(request)
        time_zone = body.get("timeZone")
        # Clients: `timeZone` (a time zone database name) is required beside `fields`.
        if not isinstance(time_zone, str) or not time_zone:
            raise _bad("'timeZone' is required")
        try:
            ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise _bad(f"Unknown time zone {time_zone!r}") from None
        fields = self._check_fields(folder, body.get("fields"))
        record_id = self.add_record(folder_id, fields)
        record = self.records[record_id]
        # Clients: {recordId, createdAt, fields, link}.
        return json_response(
            {
                "recordId": record_id,
                "createdAt": record["createdAt"],
                "fields": fields,
                "link": f"https://nethunt.example/{record_id}",
            }
        )

    def _update_record(self, request: Request, record_id: str) -> Response:
        record = self._record(record_id)
        folder = self.folders[record["folderId"]]
        actions = self._body(request).get("fieldActions")
        # Clients: `fieldActions` keyed by field name, each {overwrite?, add?, remove?}.
        if not isinstance(actions, dict) or not actions:
            raise _bad("'fieldActions' is required")
        overwrite_default = request.args.get("overwrite", "false") == "true"
        for name, action in actions.items():
            if not isinstance(action, dict) or not set(action) <= {"overwrite", "add", "remove"}:
                raise _bad(f"Field action for {name!r} takes overwrite, add and remove")
            for key in ("add", "remove"):
                if key in action:
                    problem = self._field_problem(folder, name, action[key])
                    if problem:
                        raise _bad(problem)
        for name, action in actions.items():
            current = record["fields"].get(name)
            if "add" in action:
                if action.get("overwrite", overwrite_default) or not folder["fields"][name].multiple:
                    record["fields"][name] = action["add"]
                else:
                    existing = current if isinstance(current, list) else ([current] if current is not None else [])
                    added = action["add"] if isinstance(action["add"], list) else [action["add"]]
                    record["fields"][name] = existing + added
            if "remove" in action and current is not None:
                removed = action["remove"] if isinstance(action["remove"], list) else [action["remove"]]
                kept = [v for v in (current if isinstance(current, list) else [current]) if v not in removed]
                record["fields"][name] = kept
        record["updatedAt"] = _iso(self._now())
        return json_response({"fields": record["fields"], "updatedAt": record["updatedAt"]})  # clients

    def _create_comment(self, request: Request, record_id: str) -> Response:
        self._record(record_id)
        text = self._body(request).get("text")
        if not isinstance(text, str) or not text.strip():
            raise _bad("'text' is required")  # clients: {text}
        comment = {"commentId": self._new_id("com"), "recordId": record_id, "text": text, "createdAt": _iso(self._now())}
        self.comments.append(comment)
        # Strict: the answer's shape is not published; like the call log's, it names only the new item.
        return json_response({"commentId": comment["commentId"], "createdAt": comment["createdAt"]})

    def _create_call_log(self, request: Request, record_id: str) -> Response:
        self._record(record_id)
        body = self._body(request)
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _bad("'text' is required")  # clients: text is required
        duration = body.get("duration", 0)
        if not isinstance(duration, (int, float)) or isinstance(duration, bool) or duration < 0:
            raise _bad("'duration' must be a non-negative number of minutes")  # clients: minutes, minimum 0
        if "time" in body and not is_iso_time(body["time"], date_only_allowed=False):
            raise _bad("'time' must be an ISO 8601 UTC time")  # clients: ISO UTC time the call started
        log = {
            "callLogId": self._new_id("log"),
            "recordId": record_id,
            "text": text,
            "time": body.get("time"),
            "duration": duration,
            "createdAt": _iso(self._now()),
        }
        self.call_logs.append(log)
        # MindCloud's reference: the answer is {callLogId, createdAt}.
        return json_response({"callLogId": log["callLogId"], "createdAt": log["createdAt"]})

    def _history(self, request: Request, folder_id: str, items: list[dict[str, Any]]) -> Response:
        self._folder(folder_id)
        since, limit = self._since(request), self._limit(request, 100)
        mine = [i for i in items if self.records[i["recordId"]]["folderId"] == folder_id and i["createdAt"] >= since]
        answer = [dict(i) if self.trigger_record_ids else {k: v for k, v in i.items() if k != "recordId"} for i in mine]
        return json_response(list(reversed(answer))[:limit])  # clients: newest first, no paging

    def _new_call_logs(self, request: Request, folder_id: str) -> Response:
        return self._history(request, folder_id, self.call_logs)

    def _new_comments(self, request: Request, folder_id: str) -> Response:
        return self._history(request, folder_id, self.comments)


def main() -> None:
    port = port_argument("A strict fake NetHunt Integration API on 127.0.0.1")
    fake = FakeNetHunt()
    serve_forever(
        fake,
        port,
        lambda url: (
            f"fake NetHunt at {url}{PREFIX}  (Basic {fake.email} / {fake.api_key}; "
            f"folders: contacts={CONTACTS} deals={DEALS} tasks={TASKS}; users: {', '.join(fake.users)})"
        ),
    )


if __name__ == "__main__":
    main()
