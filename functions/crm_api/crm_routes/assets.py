"""The OpenAPI document and the page a browser opens, served from this function's folder."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from ringbridge.web import HttpResponse, api_key_auth, new_router

HERE = Path(__file__).resolve().parent.parent
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
        "connect-src 'self'; media-src https:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
}

router = new_router()


@cache
def _asset(name: str) -> str:
    return (HERE / name).read_text(encoding="utf-8")


@router.get("/openapi.json")
def openapi_document() -> HttpResponse:
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=_asset("openapi.json"))


@router.get("/")
def page() -> HttpResponse:
    return Response(status_code=200, content_type="text/html; charset=utf-8", body=_asset("page.html"), headers=PAGE_HEADERS)


def page_or_api_key_auth(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> HttpResponse:
    """``api_key_auth``; a browser refused on the page itself gets the page (its sign-in form), still a 401.

    The page holds no data (every list it shows is a call with the key), so showing it to anyone
    costs nothing; a program (no ``Accept: text/html``) keeps the JSON refusal.
    """
    response = api_key_auth(app, next_middleware)
    event = app.current_event
    wants_page = event.path == "/" and "text/html" in (event.headers.get("accept") or "")
    if response.status_code == 401 and event.http_method == "GET" and wants_page:
        return Response(status_code=401, content_type="text/html; charset=utf-8", body=_asset("page.html"), headers=PAGE_HEADERS)
    return response
