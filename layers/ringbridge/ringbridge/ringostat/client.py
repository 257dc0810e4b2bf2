"""The one client of Ringostat's REST API: everything ringbridge sends to Ringostat.

- click-to-call (X1): ``POST /callback/outward_call``, form fields ``extension`` (whom
  Ringostat rings first: the manager's SIP account) and ``destination`` (the client).
  Never retried: a retry could ring the manager twice.
- contact sync (S1): ``POST /minicrm/contacts/sync`` with ``{"contacts": [...]}``, headers
  ``auth-key`` and ``x-project-id`` (help.ringostat.com/en/articles/9221318; the same call
  in the public OkayCMS module devSviat/Ringostat-OkayCMS ``Helpers/RingostatHelper.php``).
  An upsert by ``externalId``, so retried.
- the staff list (C2): JSON-RPC ``getProjectStaffListAndDirections`` on ``POST /api/json-rpc``
  with ``params.projectId`` (help.ringostat.com/en/articles/9188142); the answer's ``result``
  is an object keyed by staff id (or a list), each with ``staffId``/``id``, ``fio``,
  ``email``, ``extensionNumber`` and ``directions: {main: [...], additional: [...]}`` of
  ``{type, direction, isMobile}`` (the shape ``Api\\V2\\Staff.addStaff`` takes,
  help.ringostat.com/en/articles/11855619). A read: retried.
- the call log (L1 back-fill): ``GET /calls/list`` with ``export_type=json``, ``from``/``to``
  (``YYYY-MM-DD HH:MM:SS`` in the project's zone), ``fields``; at most 6,500 calls per
  request (help.ringostat.com/uk/articles/6312678), so a full page is split in halves. A read: retried.

Every request carries ``Auth-key`` (and ``x-project-id``); Ringostat may report a refusal
inside a 200 body, so the body is always read.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests

from ringbridge.domain.employees import StaffMember
from ringbridge.domain.errors import UpstreamFailed, UpstreamTimeout

OUTWARD_CALL_PATH = "/callback/outward_call"
CONTACTS_SYNC_PATH = "/minicrm/contacts/sync"
JSON_RPC_PATH = "/api/json-rpc"
CALLS_LIST_PATH = "/calls/list"
STAFF_LIST_METHOD = "getProjectStaffListAndDirections"
# Ringostat answers at most this many calls per /calls/list request.
CALLS_LIST_LIMIT = 6500
# The fields reconciliation reads (names from the official sample request, §3.3 of the reference).
CALLS_LIST_FIELDS = (
    "uniqueid",
    "calldate",
    "caller",
    "dst",
    "call_type",
    "disposition",
    "duration",
    "billsec",
    "waittime",
    "connected_with",
    "employee_number",
    "recording",
    "has_recording",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "landing",
)
CONTACTS_PER_SYNC = 100
_RETRIES = 3
_RETRY_PAUSE_SECONDS = 0.2
_SMALLEST_WINDOW = timedelta(minutes=1)
_REASON_LENGTH = 200
_CONNECT_TIMEOUT_SECONDS = 3.0


def _refusal_in_body(text: str) -> str | None:
    """The error Ringostat put in a 2xx body, if any (JSON-RPC ``error``, ``status: error``, ``success: false``)."""
    try:
        body = json.loads(text) if text.strip() else None
    except ValueError:
        return None
    return _refusal(body)


def _refusal(body: Any) -> str | None:
    """The error in an already parsed answer, if any."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if error:
        if isinstance(error, dict):
            return str(error.get("message") or error.get("code") or error)
        return str(error)
    if str(body.get("status", "")).lower() in ("error", "fail", "failed") or body.get("success") is False:
        return str(body.get("message") or body.get("status") or "refused")
    return None


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [str(item).strip() for item in items if isinstance(item, (str, int)) and str(item).strip()]


def parse_staff(raw: Any) -> StaffMember | None:
    """One staff entry of ``getProjectStaffListAndDirections``; None if it names nobody."""
    if not isinstance(raw, dict):
        return None
    staff_id = next(iter(_strings(raw.get("staffId")) or _strings(raw.get("id"))), None)
    if staff_id is None:
        return None
    sip: list[str] = []
    numbers: list[str] = []
    directions = raw.get("directions")
    groups = directions.values() if isinstance(directions, dict) else [directions] if isinstance(directions, list) else []
    for group in groups:
        for direction in group if isinstance(group, list) else []:
            if not isinstance(direction, dict):
                continue
            value = next(iter(_strings(direction.get("direction")) or _strings(direction.get("value"))), None)
            if value is None:
                continue
            kind = str(direction.get("type") or "").lower()
            target = sip if kind == "sip" else numbers if kind in ("phone", "mobile", "fmc", "number") else None
            if target is not None and value not in target:
                target.append(value)
    for phone in _strings(raw.get("phone")) + _strings(raw.get("phones")):
        if phone not in numbers:
            numbers.append(phone)
    name = (next(iter(_strings(raw.get("fio")) or _strings(raw.get("name"))), "") or staff_id)[:200]
    return StaffMember(
        staff_id=staff_id,
        name=name,
        emails=tuple(_strings(raw.get("email")) + _strings(raw.get("emails"))),
        sip_accounts=tuple(sip),
        numbers=tuple(numbers),
        extension=next(iter(_strings(raw.get("extensionNumber"))), None),
    )


@dataclass
class RingostatClient:
    base_url: str
    auth_key: str
    project_id: str | None = None
    timeout_seconds: float = 5.0
    session: Any = field(default_factory=requests.Session)
    timezone: str = "Europe/Warsaw"
    retry_pause_seconds: float = _RETRY_PAUSE_SECONDS
    requests_made: int = 0

    # ------------------------------------------------------------ one request
    def _headers(self) -> dict[str, str]:
        headers = {"Auth-key": self.auth_key, "Accept": "application/json"}
        if self.project_id:
            headers["x-project-id"] = self.project_id
        return headers

    def _send(self, method: str, path: str, what: str, retry: bool, lenient: bool = False, **kwargs: Any) -> Any:
        """One call to Ringostat, its JSON answer; reads retry a timeout, a dropped connection, 429 and 5xx."""
        url = self.base_url.rstrip("/") + path
        attempts = _RETRIES if retry else 1
        for attempt in range(1, attempts + 1):
            last = attempt == attempts
            self.requests_made += 1
            try:
                response = self.session.request(
                    method,
                    url,
                    headers=self._headers(),
                    timeout=(min(_CONNECT_TIMEOUT_SECONDS, self.timeout_seconds), self.timeout_seconds),
                    allow_redirects=False,
                    **kwargs,
                )
            except requests.Timeout as error:
                if last:
                    raise UpstreamTimeout(f"Ringostat did not answer ({what}) within {self.timeout_seconds:g} s") from error
                self._pause(attempt)
                continue
            except requests.RequestException as error:
                if last:
                    raise UpstreamFailed(f"Ringostat is unreachable ({type(error).__name__})") from error
                self._pause(attempt)
                continue
            if (response.status_code == 429 or response.status_code >= 500) and not last:
                self._pause(attempt)
                continue
            return self._answer(response, what, lenient)
        raise UpstreamFailed(f"Ringostat refused {what}")  # pragma: no cover - the loop always returns or raises

    def _pause(self, attempt: int) -> None:
        time.sleep(self.retry_pause_seconds * attempt)

    @staticmethod
    def _answer(response: Any, what: str, lenient: bool) -> Any:
        text = response.text
        if response.status_code in (401, 403):
            raise UpstreamFailed(f"Ringostat refused {what}: HTTP {response.status_code} (check the Auth-key and project id)")
        if response.status_code >= 300:
            detail = (_refusal_in_body(text[:4096]) or "")[:_REASON_LENGTH]
            raise UpstreamFailed(f"Ringostat refused {what}: HTTP {response.status_code}" + (f" ({detail})" if detail else ""))
        try:
            body = json.loads(text) if text.strip() else None
        except ValueError as error:
            if lenient:
                return None
            raise UpstreamFailed(f"Ringostat answered {what} with something that is not JSON") from error
        refusal = _refusal(body)
        if refusal is not None:
            raise UpstreamFailed(f"Ringostat refused {what}: {refusal[:_REASON_LENGTH]}")
        return body

    # ------------------------------------------------------------ contact sync (S1)
    def sync_contacts(self, contacts: Sequence[dict[str, Any]]) -> int:
        """Send contacts to Ringostat's contact book, ``CONTACTS_PER_SYNC`` a request; return how many requests."""
        sent = 0
        for start in range(0, len(contacts), CONTACTS_PER_SYNC):
            self._send(
                "POST",
                CONTACTS_SYNC_PATH,
                "the contact sync",
                retry=True,
                json={"contacts": list(contacts[start : start + CONTACTS_PER_SYNC])},
            )
            sent += 1
        return sent

    # ------------------------------------------------------------ staff list (C2)
    def staff_list(self) -> list[StaffMember]:
        """Every employee of the project with their SIP accounts and numbers."""
        body = self._send(
            "POST",
            JSON_RPC_PATH,
            "the staff list",
            retry=True,
            json={"jsonrpc": "2.0", "id": 1, "method": STAFF_LIST_METHOD, "params": {"projectId": self.project_id}},
        )
        result = body.get("result") if isinstance(body, dict) else None
        entries: Iterable[Any] = result.values() if isinstance(result, dict) else result if isinstance(result, list) else []
        staff = [member for member in (parse_staff(entry) for entry in entries) if member is not None]
        return staff

    # ------------------------------------------------------------ call log (L1 back-fill)
    def _stamp(self, moment: datetime) -> str:
        return moment.astimezone(ZoneInfo(self.timezone)).strftime("%Y-%m-%d %H:%M:%S")

    def calls_page(self, start: datetime, end: datetime, fields: Sequence[str] = CALLS_LIST_FIELDS) -> list[dict[str, Any]]:
        """One ``/calls/list`` request: the calls started in [start, end] (at most ``CALLS_LIST_LIMIT``)."""
        params = {"export_type": "json", "from": self._stamp(start), "to": self._stamp(end), "fields": ",".join(fields)}
        if self.project_id:
            params["projectId"] = self.project_id
        body = self._send("GET", CALLS_LIST_PATH, "the call log", retry=True, params=params)
        if isinstance(body, dict):  # some installs wrap the rows
            body = next((body[key] for key in ("data", "results", "calls") if isinstance(body.get(key), list)), [])
        return [row for row in body or [] if isinstance(row, dict)]

    def calls_between(
        self, start: datetime, end: datetime, fields: Sequence[str] = CALLS_LIST_FIELDS
    ) -> Iterable[list[dict[str, Any]]]:
        """Every call of [start, end], a page at a time: a full page (the limit) is read again in halves."""
        windows = [(start, end)]
        while windows:
            low, high = windows.pop()
            page = self.calls_page(low, high, fields)
            if len(page) >= CALLS_LIST_LIMIT and high - low > _SMALLEST_WINDOW:
                middle = low + (high - low) / 2
                middle = middle.replace(microsecond=0)
                windows.extend([(middle + timedelta(seconds=1), high), (low, middle)])
                continue
            yield page

    # ------------------------------------------------------------ click-to-call (X1)
    def outward_call(self, extension: str, destination: str) -> dict[str, Any]:
        """Ask Ringostat to ring ``extension`` and, once answered, ``destination``; raise on any failure."""
        body = self._send(
            "POST",
            OUTWARD_CALL_PATH,
            "the call",
            retry=False,
            lenient=True,
            data={"extension": extension, "destination": destination},
        )
        return body if isinstance(body, dict) else {} if body is None else {"result": body}
