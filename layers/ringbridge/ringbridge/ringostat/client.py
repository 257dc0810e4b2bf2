"""A small client of Ringostat's REST API: click-to-call (X1).

``POST /callback/outward_call`` with form fields ``extension`` (whom Ringostat rings
first: the manager's SIP account) and ``destination`` (the client), header ``Auth-key``
(and ``x-project-id``). Ringostat may report a refusal inside a 200 body, so the body is
read too. Never retried: a retry could ring the manager twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import requests

from ringbridge.domain.errors import UpstreamFailed, UpstreamTimeout

OUTWARD_CALL_PATH = "/callback/outward_call"
_REASON_LENGTH = 200
_CONNECT_TIMEOUT_SECONDS = 3.0


def _refusal_in_body(text: str) -> str | None:
    """The error Ringostat put in a 2xx body, if any (JSON-RPC ``error``, ``status: error``, ``success: false``)."""
    try:
        body = json.loads(text) if text.strip() else None
    except ValueError:
        return None
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


@dataclass
class RingostatClient:
    base_url: str
    auth_key: str
    project_id: str | None = None
    timeout_seconds: float = 5.0
    session: Any = field(default_factory=requests.Session)

    def outward_call(self, extension: str, destination: str) -> dict[str, Any]:
        """Ask Ringostat to ring ``extension`` and, once answered, ``destination``; raise on any failure."""
        headers = {"Auth-key": self.auth_key, "Accept": "application/json"}
        if self.project_id:
            headers["x-project-id"] = self.project_id
        url = self.base_url.rstrip("/") + OUTWARD_CALL_PATH
        try:
            response = self.session.post(
                url,
                data={"extension": extension, "destination": destination},
                headers=headers,
                timeout=(min(_CONNECT_TIMEOUT_SECONDS, self.timeout_seconds), self.timeout_seconds),
                allow_redirects=False,
            )
        except requests.Timeout as error:
            raise UpstreamTimeout(f"Ringostat did not answer within {self.timeout_seconds:g} s") from error
        except requests.RequestException as error:
            raise UpstreamFailed(f"Ringostat is unreachable ({type(error).__name__})") from error
        text = response.text[:4096]
        if response.status_code in (401, 403):
            raise UpstreamFailed(f"Ringostat refused the call: HTTP {response.status_code} (check the Auth-key and project id)")
        if response.status_code >= 300:
            raise UpstreamFailed(f"Ringostat refused the call: HTTP {response.status_code}")
        refusal = _refusal_in_body(text)
        if refusal is not None:
            raise UpstreamFailed(f"Ringostat refused the call: {refusal[:_REASON_LENGTH]}")
        try:
            body = json.loads(text) if text.strip() else {}
        except ValueError:
            body = {}
        return body if isinstance(body, dict) else {"result": body}
