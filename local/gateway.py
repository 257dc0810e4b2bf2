"""An HTTP API (payload v2) in front of the handlers, routed by template.yaml's HttpApi events."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, unquote

from werkzeug.wrappers import Request, Response

from local.runtime import LocalFunction
from local.template import HttpRoute

# API Gateway's own payload limit.
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
_TEXT_TYPES = ("application/json", "application/x-www-form-urlencoded", "text/", "application/xml")


def build_event(request: Request, route: HttpRoute, path_parameters: dict[str, str], body: bytes) -> dict[str, Any]:
    """The event API Gateway's HTTP API sends a Lambda integration (payload format 2.0)."""
    raw_query = request.query_string.decode("latin-1")
    query: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    content_type = request.headers.get("content-type", "")
    is_text = any(content_type.startswith(kind) for kind in _TEXT_TYPES) or not body
    try:
        text_body = body.decode("utf-8") if is_text else None
    except UnicodeDecodeError:
        text_body = None
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": request.path,
        "rawQueryString": raw_query,
        "headers": {key.lower(): value for key, value in request.headers.items()},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": request.host,
            "domainPrefix": "local",
            "http": {
                "method": request.method,
                "path": unquote(request.path),
                "protocol": "HTTP/1.1",
                "sourceIp": request.remote_addr or "127.0.0.1",
                "userAgent": request.headers.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": route.route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": text_body is None,
    }
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body:
        event["body"] = text_body if text_body is not None else base64.b64encode(body).decode()
    return event


def to_response(result: Any) -> Response:
    """Shape a handler's result as API Gateway does (a bare dict becomes a JSON 200)."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return Response(json.dumps(result), status=200, content_type="application/json")
    body = result.get("body") or ""
    payload = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
    response = Response(payload, status=int(result["statusCode"]))
    for key, value in (result.get("headers") or {}).items():
        response.headers[key] = value
    for key, values in (result.get("multiValueHeaders") or {}).items():
        for value in values:
            response.headers.add(key, value)
    for cookie in result.get("cookies") or []:
        response.headers.add("Set-Cookie", cookie)
    return response


class Gateway:
    """A WSGI application: match the route, build the event, invoke, answer."""

    def __init__(self, functions: dict[str, LocalFunction], routes: Iterable[HttpRoute], access_log: bool = True) -> None:
        self.access_log = access_log
        self.functions = functions
        self.routes = [(route, route.pattern()) for route in routes]

    def match(self, method: str, path: str) -> tuple[HttpRoute, dict[str, str]] | None:
        for route, pattern in self.routes:
            found = pattern.match(path)
            if found and route.method in (method, "ANY"):
                return route, {k: unquote(v) for k, v in found.groupdict().items()}
        return None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        started = time.perf_counter()
        response = self.handle(request)
        if self.access_log:
            # Like the deployed API's access log: the route's template (GET /admin/contacts/{phone}), never the
            # path (it carries phone numbers) nor the query string (the webhook token).
            elapsed = (time.perf_counter() - started) * 1000
            print(f"{self.route_key(request)} {response.status_code} {elapsed:.1f} ms", flush=True)
        return response(environ, start_response)

    def route_key(self, request: Request) -> str:
        from ringbridge.domain.phones import mask_phone_numbers_in_text

        matched = self.match(request.method, request.path)
        if matched is None:
            return f"{request.method} {mask_phone_numbers_in_text(request.path)}"
        return matched[0].route_key

    def handle(self, request: Request) -> Response:
        matched = self.match(request.method, request.path)
        if matched is None:
            return Response(json.dumps({"message": "Not Found"}), status=404, content_type="application/json")
        if (request.content_length or 0) > MAX_PAYLOAD_BYTES:
            return Response(json.dumps({"message": "Request Entity Too Large"}), status=413, content_type="application/json")
        body = request.get_data(cache=False)
        if len(body) > MAX_PAYLOAD_BYTES:
            return Response(json.dumps({"message": "Request Entity Too Large"}), status=413, content_type="application/json")
        route, path_parameters = matched
        event = build_event(request, route, path_parameters, body)
        try:
            result = self.functions[route.function].invoke(event)
        except Exception:  # noqa: BLE001 - as API Gateway does: an integration failure is a 500
            import sys
            import traceback

            from ringbridge.domain.phones import mask_phone_numbers_in_text

            print(mask_phone_numbers_in_text(traceback.format_exc()), file=sys.stderr, flush=True)
            return Response(json.dumps({"message": "Internal Server Error"}), status=500, content_type="application/json")
        return to_response(result)
