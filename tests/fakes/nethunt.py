"""A fake NetHunt Integration API (``/api/v1/zapier``): folders, records, call logs, comments.

Basic auth (e-mail, API key; else 401). Fields are addressed by name and must exist in the
folder (else 400). The record search matches a value exactly as stored, which is how
NetHunt behaves with phone numbers (only ``+48123456789`` finds ``+48123456789``).
Run standalone: ``python -m tests.fakes.nethunt --port 8082``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

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

CONTACT_FIELDS = ["Name", "Phone", "Source", "Źródło", "Kanał", "Kampania", "Słowo kluczowe", "Responsible"]
DEAL_FIELDS = ["Name", "Phone", "Stage", "Owner", "Description", "Źródło", "Kanał", "Kampania"]
TASK_FIELDS = ["Name", "Phone", "Due date", "Assignee", "Completed", "Description"]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _bad(message: str) -> ApiError:
    return ApiError(400, {"message": message})


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
        self.folders: dict[str, dict[str, Any]] = {
            CONTACTS: {"id": CONTACTS, "name": "Contacts", "fields": list(CONTACT_FIELDS)},
            DEALS: {"id": DEALS, "name": "Deals", "fields": list(DEAL_FIELDS)},
            TASKS: {"id": TASKS, "name": "Tasks", "fields": list(TASK_FIELDS)},
        }
        self.records: dict[str, dict[str, Any]] = {}
        self.call_logs: list[dict[str, Any]] = []
        self.comments: list[dict[str, Any]] = []
        self._next = 1
        self._urls = Map(
            [
                Rule(f"{PREFIX}/triggers/auth-test", endpoint="auth_test"),
                Rule(f"{PREFIX}/triggers/readable-folder", endpoint="folders"),
                Rule(f"{PREFIX}/triggers/writable-folder", endpoint="folders"),
                Rule(f"{PREFIX}/triggers/folder-field/<folder_id>", endpoint="folder_fields"),
                Rule(f"{PREFIX}/triggers/new-call-log/<folder_id>", endpoint="new_call_logs"),
                Rule(f"{PREFIX}/triggers/new-comment/<folder_id>", endpoint="new_comments"),
                Rule(f"{PREFIX}/searches/find-record/<folder_id>", endpoint="find_record"),
                Rule(f"{PREFIX}/actions/create-record/<folder_id>", endpoint="create_record"),
                Rule(f"{PREFIX}/actions/create-comment/<record_id>", endpoint="create_comment"),
                Rule(f"{PREFIX}/actions/create-call-log/<record_id>", endpoint="create_call_log"),
            ]
        )

    # State

    def _new_id(self, prefix: str) -> str:
        self._next += 1
        return f"{prefix}{self._next:06d}"

    def add_record(self, folder_id: str, fields: dict[str, Any]) -> str:
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

    def records_in(self, folder_id: str) -> list[dict[str, Any]]:
        return [r for r in self.records.values() if r["folderId"] == folder_id]

    def logs_of(self, record_id: str) -> list[dict[str, Any]]:
        return [log for log in self.call_logs if log["recordId"] == record_id]

    def comments_of(self, record_id: str) -> list[dict[str, Any]]:
        return [c for c in self.comments if c["recordId"] == record_id]

    # Helpers

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
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

    def _since(self, request: Request) -> tuple[str, int]:
        since = request.args.get("since", "1970-01-01T00:00:00.000Z")
        return since, int(request.args.get("limit", 100))

    # Routes

    def authorized(self, request: Request) -> bool:
        expected = base64.b64encode(f"{self.email}:{self.api_key}".encode()).decode()
        return request.headers.get("Authorization") == f"Basic {expected}"

    def route(self, request: Request) -> Response:
        endpoint, args = self._urls.bind_to_environ(request.environ).match()
        response: Response = getattr(self, f"_{endpoint}")(request, **args)
        return response

    def _auth_test(self, _request: Request) -> Response:
        return json_response([{"personalName": "Owner", "emailAddress": self.email}])

    def _folders(self, _request: Request) -> Response:
        return json_response([{"id": f["id"], "name": f["name"]} for f in self.folders.values()])

    def _folder_fields(self, _request: Request, folder_id: str) -> Response:
        return json_response([{"name": name} for name in self._folder(folder_id)["fields"]])

    def _find_record(self, request: Request, folder_id: str) -> Response:
        self._folder(folder_id)
        query, record_id = request.args.get("query"), request.args.get("recordId")
        if not query and not record_id:
            raise _bad("Either query or recordId is required")
        limit = int(request.args.get("limit", 1))
        found = []
        for record in self.records_in(folder_id):
            if record_id and record["recordId"] != record_id:
                continue
            if query:
                values = [v for value in record["fields"].values() for v in (value if isinstance(value, list) else [value])]
                if query not in [str(v) for v in values]:
                    continue
            found.append({k: record[k] for k in ("recordId", "createdAt", "updatedAt", "fields")})
        return json_response(found[:limit])

    def _create_record(self, request: Request, folder_id: str) -> Response:
        if request.method != "POST":
            raise _bad("POST only")
        folder = self._folder(folder_id)
        body = self._body(request)
        fields = body.get("fields")
        if not isinstance(fields, dict) or not fields:
            raise _bad("'fields' is required and must name at least one field")
        unknown = [name for name in fields if name not in folder["fields"]]
        if unknown:
            raise _bad(f"Unknown field(s) {', '.join(unknown)} in folder {folder['name']}")
        record_id = self.add_record(folder_id, fields)
        record = self.records[record_id]
        return json_response(
            {
                "recordId": record_id,
                "createdAt": record["createdAt"],
                "fields": fields,
                "link": f"https://nethunt.example/{record_id}",
            }
        )

    def _create_comment(self, request: Request, record_id: str) -> Response:
        self._record(record_id)
        text = self._body(request).get("text")
        if not isinstance(text, str) or not text.strip():
            raise _bad("'text' is required")
        comment = {"commentId": self._new_id("com"), "recordId": record_id, "text": text, "createdAt": _iso(self._now())}
        self.comments.append(comment)
        return json_response(comment)

    def _create_call_log(self, request: Request, record_id: str) -> Response:
        self._record(record_id)
        body = self._body(request)
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _bad("'text' is required")
        duration = body.get("duration", 0)
        if not isinstance(duration, (int, float)) or isinstance(duration, bool) or duration < 0:
            raise _bad("'duration' must be a non-negative number of minutes")
        log = {
            "callLogId": self._new_id("log"),
            "recordId": record_id,
            "text": text,
            "time": body.get("time"),
            "duration": duration,
            "createdAt": _iso(self._now()),
        }
        self.call_logs.append(log)
        return json_response(log)

    def _history(self, request: Request, folder_id: str, items: list[dict[str, Any]]) -> Response:
        self._folder(folder_id)
        since, limit = self._since(request)
        mine = [i for i in items if self.records[i["recordId"]]["folderId"] == folder_id and i["createdAt"] >= since]
        return json_response(list(reversed(mine))[:limit])  # newest first

    def _new_call_logs(self, request: Request, folder_id: str) -> Response:
        return self._history(request, folder_id, self.call_logs)

    def _new_comments(self, request: Request, folder_id: str) -> Response:
        return self._history(request, folder_id, self.comments)


def main() -> None:
    port = port_argument("A fake NetHunt Integration API on 127.0.0.1")
    fake = FakeNetHunt()
    serve_forever(
        fake,
        port,
        lambda url: (
            f"fake NetHunt at {url}{PREFIX}  (Basic {fake.email} / {fake.api_key}; "
            f"folders: contacts={CONTACTS} deals={DEALS} tasks={TASKS})"
        ),
    )


if __name__ == "__main__":
    main()
