"""An HTTP API (payload v2) in front of the handlers, routed by template.yaml's HttpApi events."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from werkzeug.wrappers import Request, Response

from local.runtime import LocalFunction
from local.template import HttpRoute

# API Gateway's own payload limit.
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
_TEXT_TYPES = ("application/json", "application/x-www-form-urlencoded", "text/", "application/xml")
# What RFC 3986 lets a path segment carry unencoded: everything else stays percent-encoded in the raw path.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def raw_path(request: Request) -> str:
    """The path as the client sent it, percent-encoding kept (API Gateway's ``rawPath``).

    WSGI's ``PATH_INFO`` is already decoded once; the handlers decode a path parameter themselves,
    so building the event from ``PATH_INFO`` would decode ``%252B`` twice (to ``+``).
    """
    sent = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if sent:
        path = urlsplit(sent).path if "://" in sent else sent.split("?", 1)[0]
        if path.startswith("/"):
            return path
    return quote(request.path, safe=_PATH_SAFE)


def build_event(request: Request, route: HttpRoute, path_parameters: dict[str, str], body: bytes) -> dict[str, Any]:
    """The event API Gateway's HTTP API sends a Lambda integration (payload format 2.0).

    ``rawPath`` keeps the percent-encoding; ``pathParameters`` are decoded once.
    """
    path = raw_path(request)
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
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": {key.lower(): value for key, value in request.headers.items()},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": request.host,
            "domainPrefix": "local",
            "http": {
                "method": request.method,
                "path": path,
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
        """The route for a raw (still percent-encoded) path; its parameters decoded once."""
        for route, pattern in self.routes:
            found = pattern.match(path)
            if found and route.method in (method, "ANY"):
                return route, {k: unquote(v) for k, v in found.groupdict().items()}
        return None

    def allowed_methods(self, path: str) -> list[str]:
        """The methods the template declares for a raw path (empty: no such path)."""
        return sorted({route.method for route, pattern in self.routes if pattern.match(path)})

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

        matched = self.match(request.method, raw_path(request))
        if matched is None:
            return f"{request.method} {mask_phone_numbers_in_text(request.path)}"
        return matched[0].route_key

    def handle(self, request: Request) -> Response:
        matched = self.match(request.method, raw_path(request))
        if matched is None:
            return self.unmatched(request)
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

    def unmatched(self, request: Request) -> Response:
        """No route: 404 for a path the template does not declare, 405 (with ``Allow``) for a method it does not."""
        allowed = self.allowed_methods(raw_path(request))
        if not allowed:
            return Response(json.dumps({"message": "Not Found"}), status=404, content_type="application/json")
        message = f"method {request.method} not allowed here; allowed: {', '.join(allowed)}"
        response = Response(json.dumps({"message": message}), status=405, content_type="application/json")
        response.headers["Allow"] = ", ".join(allowed)
        return response
