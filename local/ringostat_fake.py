"""A stand-in for Ringostat's REST API, strict about what the real one demands.

It serves what ringbridge sends (see ``ringbridge.ringostat.client``):

- ``POST /callback/outward_call`` (form ``extension``, ``destination``) - click-to-call (X1);
- ``POST /minicrm/contacts/sync`` (``{"contacts": [...]}``) - the contact book (S1);
- ``POST /api/json-rpc`` method ``getProjectStaffListAndDirections`` - the staff list (C2);
- ``GET /calls/list`` (``export_type=json``, ``from``, ``to``, ``fields``) - the call log,
  at most ``CALLS_LIST_LIMIT`` rows per request (the oldest first, as ``order=calldate asc``).

Every request needs the ``Auth-key`` header (401 otherwise) and, where the real API takes it,
the project id (header ``x-project-id`` or parameter ``projectId``; 403 when it is another
project's). The local stack starts one when ``RingostatApiUrl`` is left at ``local``; tests
start their own and seed it (``staff``, ``calls``) and read what it received (``requests``,
``contacts``, ``outward_calls``).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

CALLS_LIST_LIMIT = 6500
# Fields /calls/list accepts (the official sample request's list and the R package's additions).
KNOWN_CALL_FIELDS = frozenset(
    [
        "calldate",
        "caller",
        "dst",
        "pool_name",
        "disposition",
        "category_mark",
        "duration",
        "call_type",
        "waittime",
        "billsec",
        "connected_with",
        "call_counter",
        "proper_flag",
        "repeated_flag",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_content",
        "utm_term",
        "uniqueid",
        "category_number",
        "employee_number",
        "employee_mark",
        "employee_fio",
        "client_id",
        "remote_ip",
        "refferrer",
        "landing",
        "recording",
        "call_card",
        "additional_number",
        "has_recording",
        "scheme_name",
        "duration_ms",
        "recording_wav",
        "department",
        "caller_number",
    ]
)
_CONTACT_REQUIRED = ("projectId", "fullName", "origin", "responsible", "contactDirections")
_STAMP = "%Y-%m-%d %H:%M:%S"


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


@dataclass
class RingostatFake:
    auth_key: str = "fake-auth-key"
    project_id: str = "11111"
    # Staff entries as getProjectStaffListAndDirections answers them (keyed by staff id).
    staff: list[dict[str, Any]] = field(default_factory=list)
    # Call-log rows; ``calldate`` is "YYYY-MM-DD HH:MM:SS" in the project's zone.
    calls: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    outward_calls: list[dict[str, str]] = field(default_factory=list)
    # Faults to inject: the next ``fail_next`` requests answer ``fail_status``.
    fail_next: int = 0
    fail_status: int = 503
    delay_seconds: float = 0.0
    host: str = "127.0.0.1"
    port: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # ------------------------------------------------------------ server
    def start(self) -> RingostatFake:
        self._server = make_server(self.host, self.port, self, threaded=True)
        self.port = int(self._server.server_port)
        self._thread = threading.Thread(target=self._server.serve_forever, name="ringostat-fake", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if hasattr(self, "_server"):
            self._server.shutdown()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> RingostatFake:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.handle(Request(environ))(environ, start_response)

    # ------------------------------------------------------------ requests
    def handle(self, request: Request) -> Response:
        with self._lock:
            self.requests.append(
                {
                    "method": request.method,
                    "path": request.path,
                    "headers": dict(request.headers),
                    "args": request.args.to_dict(),
                    "body": request.get_data(as_text=True),
                }
            )
            failing = self.fail_next > 0
            self.fail_next -= 1 if failing else 0
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        if failing:
            return _json(self.fail_status, {"error": "temporarily unavailable"})
        if request.headers.get("Auth-key") != self.auth_key:
            return _json(401, {"error": "Невірний Auth-key"})
        route = {
            ("POST", "/callback/outward_call"): self._outward_call,
            ("POST", "/minicrm/contacts/sync"): self._contacts_sync,
            ("POST", "/api/json-rpc"): self._json_rpc,
            ("GET", "/calls/list"): self._calls_list,
        }.get((request.method, request.path))
        if route is None:
            return _json(404, {"error": "not found"})
        return route(request)

    def _project_header_ok(self, request: Request) -> bool:
        return request.headers.get("x-project-id") == self.project_id

    def _outward_call(self, request: Request) -> Response:
        extension, destination = request.form.get("extension", ""), request.form.get("destination", "")
        if not extension or not destination:
            return _json(200, {"status": "error", "message": "extension and destination are required"})
        self.outward_calls.append({"extension": extension, "destination": destination})
        return _json(200, {"status": "success"})

    def _contacts_sync(self, request: Request) -> Response:
        if not self._project_header_ok(request):
            return _json(403, {"error": "x-project-id is missing or another project's"})
        body = request.get_json(silent=True)
        contacts = body.get("contacts") if isinstance(body, dict) else None
        if not isinstance(contacts, list) or not contacts:
            return _json(400, {"error": "contacts must be a non-empty list"})
        for contact in contacts:
            missing = [name for name in _CONTACT_REQUIRED if not isinstance(contact, dict) or contact.get(name) in (None, "")]
            if missing:
                return _json(400, {"error": f"missing {', '.join(missing)}"})
            if str(contact["projectId"]) != self.project_id or not (contact.get("externalId") or contact.get("leadId")):
                return _json(400, {"error": "projectId must be the project's; externalId or leadId is required"})
            directions = contact["contactDirections"]
            if not isinstance(directions, list) or not all(
                isinstance(d, dict) and d.get("type") and d.get("value") for d in directions
            ):
                return _json(400, {"error": "contactDirections: [{type, name, value}]"})
        with self._lock:
            for contact in contacts:
                self.contacts[str(contact.get("externalId") or contact.get("leadId"))] = contact
        return _json(200, {"status": "success"})

    def _json_rpc(self, request: Request) -> Response:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or body.get("jsonrpc") != "2.0":
            return _json(200, {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "Invalid Request"}})
        call_id = body.get("id")
        if body.get("method") != "getProjectStaffListAndDirections":
            return _json(200, {"jsonrpc": "2.0", "id": call_id, "error": {"code": -32601, "message": "Method not found"}})
        params = body.get("params") or {}
        if str(params.get("projectId")) != self.project_id:
            return _json(200, {"jsonrpc": "2.0", "id": call_id, "error": {"code": -32602, "message": "Access denied"}})
        result = {str(member.get("staffId")): member for member in self.staff}
        return _json(200, {"jsonrpc": "2.0", "id": call_id, "result": result})

    def _calls_list(self, request: Request) -> Response:
        args = request.args
        if args.get("projectId", self.project_id) != self.project_id or not (
            "projectId" in args or self._project_header_ok(request)
        ):
            return _json(403, {"error": "project id is missing or another project's"})
        if args.get("export_type", "json") != "json":
            return _json(400, {"error": "this fake answers export_type=json only"})
        try:
            start, end = (datetime.strptime(args[name], _STAMP) for name in ("from", "to"))
        except (KeyError, ValueError):
            return _json(400, {"error": "from and to are required as YYYY-MM-DD HH:MM:SS"})
        fields = [name for name in args.get("fields", "").split(",") if name]
        unknown = [name for name in fields if name not in KNOWN_CALL_FIELDS]
        if not fields or unknown:
            return _json(400, {"error": f"incorrect field: {', '.join(unknown) or '(none)'}"})
        rows = [
            {name: row.get(name, "") for name in fields}
            for row in sorted(self.calls, key=lambda r: str(r["calldate"]).replace("T", " "))
            if start <= datetime.strptime(str(row["calldate"]).replace("T", " ")[:19], _STAMP) <= end
        ]
        return _json(200, rows[:CALLS_LIST_LIMIT])

    # ------------------------------------------------------------ what it saw
    def seen(self, path: str) -> list[dict[str, Any]]:
        return [request for request in self.requests if request["path"] == path]
