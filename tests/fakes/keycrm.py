"""A strict fake of KeyCRM's Open API (``/v1``): buyers, pipelines, statuses, cards, users, sources, custom fields.

It answers in the shapes of KeyCRM's OpenAPI document (v1.2.0, https://openapi.keycrm.app/v1;
the project's own subset is ``tests/contract/keycrm_api.yaml``) and refuses what KeyCRM
refuses. Each rule below names where it comes from:

- *document*: KeyCRM's published OpenAPI document (info text, parameters, examples);
- *observed*: what independent public clients report from the live service;
- *Laravel*: KeyCRM answers as a Laravel application does (its paginator's
  ``first_page_url``/``next_page_url`` envelope and spatie/laravel-query-builder's filter
  message prove the stack); the exact texts are that stack's, unconfirmed for KeyCRM;
- *strict*: nothing says either way; the fake takes the narrow reading so the adapter
  cannot rely on it unnoticed. These should become configuration if KeyCRM turns out wider.

Run standalone: ``python -m tests.fakes.keycrm --port 8081`` (``--no-rate-limit`` to lift
the 60 requests a minute).
"""

from __future__ import annotations

import argparse
import json
import math
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from werkzeug.exceptions import NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from tests.fakes import ApiError, FakeCrmServer, json_response, serve_forever, utc_stamp

API_KEY = "fake-keycrm-key"

# Document: "up to 60 requests a minute from one IP address per API key" (info.description).
# The 429 answer and its Retry-After are Laravel's throttle; public clients retry on 429
# (valeriyherman-design/intertex-1c-keycrm-sync, src/IntertexSync.Infrastructure/KeyCrm/
# KeyCrmClient.cs, honours Retry-After; agente-dev/keycrm-mcp, src/keycrm/client.js).
REQUESTS_PER_MINUTE = 60

# Allowed filters per route, in the order KeyCRM lists them. Document: the `filter` examples of
# each route. Observed for cards, verbatim from the live 400: "Allowed filter(s) are `pipeline_id,
# status_id, source_id, created_between, updated_between`" (`contact.phone`, `client_id` and
# `buyer_id` refused; public client bogdan734/eva-ai-recruiter, src/api/inbound_router.py).
BUYER_FILTERS = ("buyer_id", "buyer_phone", "buyer_email", "created_between", "updated_between")
CARD_FILTERS = ("pipeline_id", "status_id", "source_id", "created_between", "updated_between")
USER_FILTERS = ("id", "full_name", "role_id", "status", "email", "phone", "created_between", "last_logged_between")
# Document: `GET /custom-fields` shows one filter, `model`, as a comma list of the four entities
# (example `lead,order,client,crm_product`), and `include=options` as its one association.
CUSTOM_FIELD_FILTERS = ("model",)
CUSTOM_FIELD_MODELS = ("lead", "order", "client", "crm_product")
CUSTOM_FIELD_INCLUDES = ("options",)
# Document: comma-separated lists appear in the examples of these filters only
# (`buyer_id: '4545,4546'`, `buyer_phone: '+1 555-234-1234,+1 555-234-1234'`, users' `id` and
# `role_id`). Card filters show single values only (`status_id: 1`): strict, a list is refused.
LIST_FILTERS = {"buyer_id", "buyer_phone", "buyer_email", "id", "role_id", "model"}
ID_FILTERS = {"buyer_id", "pipeline_id", "status_id", "source_id", "id", "role_id"}
RANGE_FILTERS = {"created_between", "updated_between", "last_logged_between"}

# Allowed includes. Document for cards: `contact.client, products, manager, status, payments,
# custom_fields`; `contact` alone is the parent of `contact.client` (spatie's nested includes
# allow each level, and the document's own example starts with `contact`).
CARD_INCLUDES = ("contact", "contact.client", "products", "manager", "status", "payments", "custom_fields")
# Document for buyers: `manager, shipping, company, loyalty, custom_fields`. Observed on the live
# API: the allowed list names `customFields`, not `custom_fields` (public client
# valeriyherman-design/intertex-1c-keycrm-sync, docs/05_KEYCRM_ACCOUNT_SNAPSHOT.md §8a): the
# fake follows the live list.
BUYER_INCLUDES = ("manager", "shipping", "company", "loyalty", "customFields")
# Observed: `/users` ignores `include` (same snapshot, §8a). Pipelines and statuses document no
# include: treated the same way.

UTM_FIELDS = tuple(f"utm_{k}" for k in ("source", "medium", "campaign", "term", "content"))
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # document: every time is UTC "YYYY-MM-DD HH:MM:SS"
RANGE = re.compile(r"^\s*(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s*,\s*(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s*$")


def _allowed_list(names: Iterable[str]) -> str:
    return ", ".join(names)


class Invalid:
    """Collects field errors; raises Laravel's 422 ``{message, errors: {field: [reasons]}}``.

    Laravel: the top-level message is the generic one and only ``errors`` holds the reasons
    (KeyCRM's document lists 422 "validation error" on several routes without a body schema).
    Unknown fields are not errors: Laravel validates the fields it knows and ignores the rest
    (public clients send `status_id` when creating cards, bogdan734/eva-ai-recruiter
    src/common/keycrm.py, and `comment` on buyers, agente-dev/keycrm-mcp src/tools/customers.js;
    whether KeyCRM uses them is not documented).
    """

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ApiError(422, {"message": "The given data was invalid.", "errors": self.errors})


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_time(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.strptime(value, TIME_FORMAT)
    except ValueError:
        return False
    return True


class FakeKeyCrm(FakeCrmServer):
    name = "keycrm"

    def __init__(
        self,
        api_key: str = API_KEY,
        monotonic: Callable[[], float] | None = None,
        requests_per_minute: int | None = REQUESTS_PER_MINUTE,
    ) -> None:
        super().__init__(*([monotonic] if monotonic else []))
        self.api_key = api_key
        self.limit(requests_per_minute, 60.0)
        self.buyers: dict[int, dict[str, Any]] = {}
        self.cards: dict[int, dict[str, Any]] = {}
        self.pipelines: dict[int, dict[str, Any]] = {}
        self.statuses: dict[int, dict[str, Any]] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.sources: dict[int, dict[str, Any]] = {}
        self.custom_fields: dict[int, dict[str, Any]] = {}
        self._ids = {"buyer": 100, "card": 500, "contact": 900}
        self._urls = Map(
            [
                Rule("/v1/buyer", endpoint="buyers"),
                Rule("/v1/buyer/<int:buyer_id>", endpoint="buyer"),
                Rule("/v1/pipelines", endpoint="pipelines"),
                Rule("/v1/pipelines/<int:pipeline_id>/statuses", endpoint="statuses"),
                Rule("/v1/pipelines/cards", endpoint="cards"),
                Rule("/v1/pipelines/cards/<int:card_id>", endpoint="card"),
                Rule("/v1/users", endpoint="users"),
                # Document: the list of sources is `GET /order/source` (operation
                # getPaginatedListOfSources); no other route lists them. That a card's `source_id`
                # takes these ids is the document's reading (the same "source id" in both schemas).
                Rule("/v1/order/source", endpoint="sources"),
                Rule("/v1/custom-fields", endpoint="custom_fields"),  # document: getListOfCustomFields
            ]
        )
        self.seed()

    # State

    def seed(self) -> None:
        """Two funnels (Sales: two open statuses, two final ones; Service) and two managers."""
        self.pipelines[1] = {"id": 1, "name": "Sales", "target_type": "lead_pipeline", "target_id": "1", "use_payments": False}
        self.pipelines[2] = {"id": 2, "name": "Service", "target_type": "lead_pipeline", "target_id": "2", "use_payments": False}
        for status_id, pipeline_id, title, alias, final in (
            (11, 1, "New", "new", False),
            (12, 1, "In progress", "in_progress", False),
            (13, 1, "Won", "won", True),
            (14, 1, "Lost", "lost", True),
            (21, 2, "Open", "open", False),
            (22, 2, "Closed", "closed", True),
        ):
            self.statuses[status_id] = {
                "id": status_id,
                "pipeline_id": pipeline_id,
                "title": title,
                "alias": alias,
                "color": "#69DB7C",
                "is_final": final,
            }
        for user_id, name in ((1, "Anna Nowak"), (2, "Piotr Kowalski")):
            first, last = name.split()
            self.users[user_id] = {
                "id": user_id,
                "first_name": first,
                "last_name": last,
                "full_name": name,
                "email": f"{first.lower()}@example.com",
                "phone": None,
                "role_id": 2,
                "status": "active",
                "username": first.lower(),
                "created_at": "2024-01-01 00:00:00",
                "updated_at": "2024-01-01 00:00:00",
                "last_logged_at": "2024-01-01 00:00:00",
            }

        # Sources and custom fields as the document's `Source` and `CustomField` schemas describe them.
        for source_id, name, alias in ((1, "Website", "website"), (7, "Ringostat", "ringostat")):
            self.sources[source_id] = {
                "id": source_id,
                "name": name,
                "alias": alias,
                "driver": "manual",
                "source_uuid": None,
                "source_name": None,
                "currency_code": "UAH",
                "created_at": "2024-01-01 00:00:00",
                "updated_at": "2024-01-01 00:00:00",
            }
        for field_id, uuid, name, model in (
            (1, "CT_1", "Source", "client"),
            (2, "CT_2", "UTM source", "client"),
            (3, "LD_1", "Budget", "lead"),
        ):
            self.custom_fields[field_id] = {
                "id": field_id,
                "name": name,
                "uuid": uuid,
                "model": model,
                "type": "text",
                "required": False,
                "position": field_id,
                "is_multiple": False,
                "options": [],
            }

    def add_buyer(self, full_name: str, phones: list[str], manager_id: int | None = None, note: str | None = None) -> int:
        with self.lock:
            self._ids["buyer"] += 1
            buyer_id = self._ids["buyer"]
            now = utc_stamp()
            self.buyers[buyer_id] = {
                "id": buyer_id,
                "full_name": full_name,
                "phone": list(phones),
                "email": [],
                "note": note,
                "birthday": None,
                "manager_id": manager_id,
                "custom_fields": [],
                "created_at": now,
                "updated_at": now,
            }
            return buyer_id

    def delete_card(self, card_id: int) -> None:
        """People delete a card in KeyCRM: reading it by id answers 404 from then on."""
        with self.lock:
            del self.cards[card_id]

    def set_manager(self, buyer_id: int, manager_id: int | None) -> None:
        """People reassign a buyer in KeyCRM: its manager changes and its ``updated_at`` moves (unconfirmed)."""
        with self.lock:
            self.buyers[buyer_id]["manager_id"] = manager_id
            self.buyers[buyer_id]["updated_at"] = utc_stamp()

    def add_card(self, buyer_id: int, status_id: int, **fields: Any) -> int:
        with self.lock:
            self._ids["card"] += 1
            self._ids["contact"] += 1
            card_id = self._ids["card"]
            now = utc_stamp()
            self.cards[card_id] = {
                "id": card_id,
                "title": fields.get("title") or f"#{card_id}",
                "pipeline_id": self.statuses[status_id]["pipeline_id"],
                "status_id": status_id,
                "client_id": buyer_id,
                "contact_id": self._ids["contact"],
                "source_id": fields.get("source_id"),
                "manager_id": fields.get("manager_id"),
                "manager_comment": fields.get("manager_comment"),
                "communicate_at": fields.get("communicate_at"),
                "note": None,
                **{f"utm_{k}": fields.get(f"utm_{k}") for k in ("source", "medium", "campaign", "term", "content")},
                "created_at": now,
                "updated_at": now,
                "status_changed_at": now,
            }
            return card_id

    # Views (shaped as the document's schemas)

    def _buyer_view(self, buyer: dict[str, Any], include: set[str]) -> dict[str, Any]:
        keys = ("id", "full_name", "birthday", "email", "phone", "note", "created_at", "updated_at")
        view = {key: buyer[key] for key in keys}
        if "manager" in include and buyer["manager_id"] in self.users:
            view["manager"] = self.users[buyer["manager_id"]]
        if "customFields" in include:
            view["custom_fields"] = buyer["custom_fields"]
        return view

    def _card_view(self, card: dict[str, Any], include: set[str]) -> dict[str, Any]:
        keys = ("id", "title", "contact_id", "source_id", "manager_id", "status_id", "manager_comment")
        view: dict[str, Any] = {key: card[key] for key in keys}
        view.update({key: card[key] for key in ("created_at", "updated_at", "status_changed_at")})
        view["is_finished"] = None
        view["communicate_at"] = card["communicate_at"]  # null without a "next contact", as the API answers
        view.update({key: value for key, value in card.items() if key.startswith("utm_")})
        if include & {"contact", "contact.client"}:
            buyer = self.buyers[card["client_id"]]
            view["contact"] = {
                "id": card["contact_id"],
                "full_name": buyer["full_name"],
                "phone": (buyer["phone"] or [None])[0],
                "email": None,
                "client_id": buyer["id"],
                "created_at": card["created_at"],
                "updated_at": card["updated_at"],
            }
            if "contact.client" in include:
                view["contact"]["client"] = {
                    "id": buyer["id"],
                    "full_name": buyer["full_name"],
                    "phone": (buyer["phone"] or [None])[0],
                    "manager_id": buyer["manager_id"],
                    "note": buyer["note"],
                    "created_at": buyer["created_at"],
                    "updated_at": buyer["updated_at"],
                }
        if "manager" in include and card["manager_id"] in self.users:
            view["manager"] = self.users[card["manager_id"]]
        if "status" in include:
            status = self.statuses[card["status_id"]]
            view["status"] = {
                "id": status["id"],
                "name": status["title"],
                "alias": status["alias"],
                "pipeline_id": status["pipeline_id"],
                "is_active": True,
            }
        return view

    # Request helpers

    @staticmethod
    def _filters(request: Request, allowed: tuple[str, ...]) -> dict[str, list[str]]:
        """``filter[key]=value`` pairs, refused unless the route allows the key and the value's form."""
        filters = {key[7:-1]: value for key, value in request.args.items() if key.startswith("filter[") and key.endswith("]")}
        refused = [key for key in filters if key not in allowed]
        if refused:
            # Laravel (spatie/laravel-query-builder), observed verbatim for cards: HTTP 400.
            tail = f"Allowed filter(s) are `{_allowed_list(allowed)}`." if allowed else "No filters are allowed."
            raise ApiError(400, {"message": f"Requested filter(s) `{_allowed_list(refused)}` are not allowed. {tail}"})
        parsed: dict[str, list[str]] = {}
        for key, value in filters.items():
            if key in RANGE_FILTERS:
                if not RANGE.match(value):
                    raise ApiError(400, {"message": f"Filter `{key}` takes `YYYY-MM-DD HH:MM:SS, YYYY-MM-DD HH:MM:SS` (UTC)."})
                parsed[key] = [value]
                continue
            parts = [part.strip() for part in value.split(",")] if key in LIST_FILTERS else [value.strip()]
            if key not in LIST_FILTERS and "," in value:
                # Strict: the document shows one value for this filter.
                raise ApiError(400, {"message": f"Filter `{key}` takes a single value on this route."})
            if key in ID_FILTERS and not all(part.isdigit() for part in parts):
                raise ApiError(400, {"message": f"Filter `{key}` takes numeric ids."})
            parsed[key] = [part for part in parts if part]
        return parsed

    @staticmethod
    def _in_range(moment: str, window: str) -> bool:
        match = RANGE.match(window)
        return bool(match) and match.group(1) <= moment <= match.group(2)  # type: ignore[union-attr]

    @staticmethod
    def _include(request: Request, allowed: tuple[str, ...] | None) -> set[str]:
        """``include=a,b``; with ``allowed`` None the route ignores it, else unknown names are refused."""
        wanted = [part.strip() for part in request.args.get("include", "").split(",") if part.strip()]
        if allowed is None:
            return set()
        refused = [name for name in wanted if name not in allowed]
        if refused:
            # Laravel (spatie/laravel-query-builder's InvalidIncludeQuery), HTTP 400; observed as
            # "not allowed" on the live API (intertex snapshot §10: include=products.warehouse).
            raise ApiError(
                400,
                {
                    "message": f"Requested include(s) `{_allowed_list(refused)}` are not allowed. "
                    f"Allowed include(s) are `{_allowed_list(allowed)}`."
                },
            )
        return set(wanted)

    @staticmethod
    def _page(request: Request, items: list[dict[str, Any]]) -> Response:
        invalid = Invalid()
        values: dict[str, int] = {}
        for name, default, low, high in (("limit", 15, 1, 50), ("page", 1, 1, None)):
            raw = request.args.get(name, str(default))
            if not raw.isdigit():
                invalid.add(name, f"The {name} must be an integer.")
                continue
            values[name] = int(raw)
            if values[name] < low or (high is not None and values[name] > high):
                # Document: limit 1..50, default 15; page from 1.
                bounds = f"between {low} and {high}" if high else f"at least {low}"
                invalid.add(name, f"The {name} must be {bounds}.")
        invalid.raise_if_any()
        limit, page = values["limit"], values["page"]
        last = max(1, math.ceil(len(items) / limit))
        base = request.base_url
        return json_response(
            {
                "total": len(items),
                "current_page": page,
                "per_page": limit,
                "data": items[(page - 1) * limit : page * limit],
                "first_page_url": f"{base}?page=1",
                "last_page_url": f"{base}?page={last}",
                "next_page_url": f"{base}?page={page + 1}" if page < last else None,
            }
        )

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError:
            raise ApiError(400, {"message": "Malformed JSON body."}) from None
        if not isinstance(body, dict):
            raise ApiError(400, {"message": "The body must be a JSON object."})
        return body

    def _check_common(self, body: dict[str, Any], invalid: Invalid, prefix: str = "") -> None:
        """Types of the fields the document gives (nullable unless said otherwise)."""
        for key in ("title", "note", "manager_comment", *UTM_FIELDS):
            if body.get(key) is not None and not isinstance(body[key], str):
                invalid.add(prefix + key, f"The {key.replace('_', ' ')} must be a string.")
        for key in ("source_id", "pipeline_id", "status_id", "client_id", "company_id"):
            if body.get(key) is not None and not _is_int(body[key]):
                invalid.add(prefix + key, f"The {key.replace('_', ' ')} must be an integer.")
        manager_id = body.get("manager_id")
        if manager_id is not None and (not _is_int(manager_id) or manager_id not in self.users):
            invalid.add(prefix + "manager_id", "The selected manager id is invalid.")
        if body.get("communicate_at") is not None and not _is_time(body["communicate_at"]):
            invalid.add(prefix + "communicate_at", "The communicate at does not match the format Y-m-d H:i:s.")
        custom = body.get("custom_fields")
        if custom is not None and not (
            isinstance(custom, list) and all(isinstance(c, dict) and isinstance(c.get("uuid"), str) for c in custom)
        ):
            invalid.add(prefix + "custom_fields", "The custom fields must be a list of {uuid, value}.")

    def _check_buyer(self, body: dict[str, Any]) -> None:
        invalid = Invalid()
        if not isinstance(body.get("full_name"), str) or not body["full_name"].strip():
            invalid.add("full_name", "The full name field is required.")  # document: required on POST and PUT
        for key in ("phone", "email"):
            value = body.get(key)
            if value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                invalid.add(key, f"The {key} must be an array of strings.")  # document: arrays of strings
        self._check_common(body, invalid)
        invalid.raise_if_any()

    # Routes

    def authorized(self, request: Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.api_key}"  # document: bearerAuth

    def route(self, request: Request) -> Response:
        endpoint, args = self._urls.bind_to_environ(request.environ).match()
        handler = getattr(self, f"_{endpoint}_{request.method.lower()}", None)
        if handler is None:
            # Observed: DELETE /pipelines/cards/{id} is not allowed (bogdan734/eva-ai-recruiter,
            # src/common/keycrm.py).
            return json_response({"message": f"The {request.method} method is not supported for this route."}, 405)
        response: Response = handler(request, **args)
        return response

    def _buyers_get(self, request: Request) -> Response:
        filters = self._filters(request, BUYER_FILTERS)
        include = self._include(request, BUYER_INCLUDES)
        buyers = list(self.buyers.values())
        if "buyer_phone" in filters:
            # Observed by two independent clients: an exact match on the stored text, so numbers
            # stored in other forms are found only by listing those forms too.
            wanted = set(filters["buyer_phone"])
            buyers = [b for b in buyers if wanted & set(b["phone"] or [])]
        if "buyer_email" in filters:
            buyers = [b for b in buyers if set(filters["buyer_email"]) & set(b["email"] or [])]
        if "buyer_id" in filters:
            buyers = [b for b in buyers if str(b["id"]) in filters["buyer_id"]]
        for key, stamp in (("created_between", "created_at"), ("updated_between", "updated_at")):
            if key in filters:
                buyers = [b for b in buyers if self._in_range(b[stamp], filters[key][0])]
        return self._page(request, [self._buyer_view(b, include) for b in buyers])

    def _buyers_post(self, request: Request) -> Response:
        body = self._body(request)
        self._check_buyer(body)
        buyer_id = self.add_buyer(body["full_name"], body.get("phone") or [], body.get("manager_id"), body.get("note"))
        self.buyers[buyer_id]["custom_fields"] = list(body.get("custom_fields") or [])
        self.buyers[buyer_id]["email"] = list(body.get("email") or [])
        return json_response(self._buyer_view(self.buyers[buyer_id], set()), 201)  # document: 201 Buyer

    def _buyer_get(self, request: Request, buyer_id: int) -> Response:
        include = self._include(request, BUYER_INCLUDES)
        if buyer_id not in self.buyers:
            raise NotFound("Buyer not found.")
        return json_response(self._buyer_view(self.buyers[buyer_id], include))

    def _buyer_put(self, request: Request, buyer_id: int) -> Response:
        if buyer_id not in self.buyers:
            raise NotFound("Buyer not found.")
        body = self._body(request)
        self._check_buyer(body)
        buyer = self.buyers[buyer_id]
        # The fields not sent are kept: observed clients update with partial bodies (the document
        # does not say whether PUT replaces the buyer).
        for key in ("full_name", "note", "phone", "email", "manager_id", "birthday", "custom_fields"):
            if key in body:
                buyer[key] = body[key]
        buyer["updated_at"] = utc_stamp()
        return json_response(self._buyer_view(buyer, set()), 202)  # document: 202 Buyer

    def _pipelines_get(self, request: Request) -> Response:
        self._filters(request, ())  # strict: the document gives this route no filter
        self._include(request, None)
        return self._page(request, list(self.pipelines.values()))

    def _statuses_get(self, request: Request, pipeline_id: int) -> Response:
        self._filters(request, ())  # strict: the document gives this route no filter
        self._include(request, None)
        if pipeline_id not in self.pipelines:
            raise NotFound("Pipeline not found.")
        statuses = [
            {**s, "leads_count": sum(1 for c in self.cards.values() if c["status_id"] == s["id"])}
            for s in self.statuses.values()
            if s["pipeline_id"] == pipeline_id
        ]
        return self._page(request, statuses)

    def _cards_get(self, request: Request) -> Response:
        filters = self._filters(request, CARD_FILTERS)
        include = self._include(request, CARD_INCLUDES)
        cards = list(self.cards.values())
        for key in ("pipeline_id", "status_id", "source_id"):
            if key in filters:
                cards = [c for c in cards if str(c[key]) in filters[key]]
        for key, stamp in (("created_between", "created_at"), ("updated_between", "updated_at")):
            if key in filters:
                cards = [c for c in cards if self._in_range(c[stamp], filters[key][0])]
        return self._page(request, [self._card_view(c, include) for c in cards])

    def _cards_post(self, request: Request) -> Response:
        body = self._body(request)
        invalid = Invalid()
        contact = body.get("contact")
        if not isinstance(contact, dict):
            invalid.add("contact", "The contact field is required.")  # document: `contact` is required
            contact = {}
        client_id = contact.get("client_id")
        if client_id is not None and (not _is_int(client_id) or client_id not in self.buyers):
            invalid.add("contact.client_id", "The selected contact.client id is invalid.")
        if client_id is None and isinstance(body.get("contact"), dict) and not contact.get("full_name"):
            # Strict: without an existing buyer the card's contact needs a name.
            invalid.add("contact.full_name", "The contact.full name field is required when contact.client id is not present.")
        for key in ("full_name", "phone", "email"):
            if contact.get(key) is not None and not isinstance(contact[key], str):
                invalid.add(f"contact.{key}", f"The contact.{key.replace('_', ' ')} must be a string.")
        pipeline_id = body.get("pipeline_id")
        if pipeline_id is not None and _is_int(pipeline_id) and pipeline_id not in self.pipelines:
            invalid.add("pipeline_id", "The selected pipeline id is invalid.")
        self._check_common(body, invalid)
        invalid.raise_if_any()
        pipeline_id = pipeline_id or min(self.pipelines)  # document: the first funnel by default
        if client_id is None:
            client_id = self.add_buyer(contact["full_name"], [contact["phone"]] if contact.get("phone") else [])
        # Document: the create schema has no status; the card starts in the funnel's first status.
        first_status = min(s["id"] for s in self.statuses.values() if s["pipeline_id"] == pipeline_id)
        known = ("title", "source_id", "manager_id", "manager_comment", "communicate_at", *UTM_FIELDS)
        fields = {key: body[key] for key in known if key in body}
        card_id = self.add_card(client_id, first_status, **fields)
        return json_response(self._card_view(self.cards[card_id], set()), 201)  # document: 201 PipelineCard

    def _card_get(self, request: Request, card_id: int) -> Response:
        include = self._include(request, CARD_INCLUDES)
        if card_id not in self.cards:
            raise NotFound("Card not found.")
        # Document: this answer is a one-item page (clients that read the card's fields directly
        # are reported too: unconfirmed; the adapter takes either). A deleted card is a 404.
        page = f"{request.base_url}?page=1"
        card = self._card_view(self.cards[card_id], include)
        return json_response(
            {
                "total": 1,
                "current_page": 1,
                "per_page": 1,
                "data": [card],
                "first_page_url": page,  # Laravel: the paginator's envelope, as on every page
                "last_page_url": page,
                "next_page_url": None,
            }
        )

    def _card_put(self, request: Request, card_id: int) -> Response:
        if card_id not in self.cards:
            raise NotFound("Card not found.")
        body = self._body(request)
        invalid = Invalid()
        self._check_common(body, invalid)
        if _is_int(body.get("status_id")) and body["status_id"] not in self.statuses:
            invalid.add("status_id", "The selected status id is invalid.")
        if _is_int(body.get("client_id")) and body["client_id"] not in self.buyers:
            invalid.add("client_id", "The selected client id is invalid.")
        invalid.raise_if_any()
        card = self.cards[card_id]
        if "status_id" in body:
            # Document: a status of another funnel moves the card to that funnel.
            card["status_id"] = body["status_id"]
            card["pipeline_id"] = self.statuses[body["status_id"]]["pipeline_id"]
        # Document: the update schema is title, note, status_id, source_id, client_id, manager_id,
        # communicate_at, products, custom_fields. Anything else (manager_comment, utm_*) is
        # ignored, as Laravel ignores fields it does not validate.
        for key in ("title", "note", "source_id", "manager_id", "communicate_at", "client_id"):
            if key in body:
                card[key] = body[key]
        card["updated_at"] = utc_stamp()
        # Reported by public clients: 202, and the change lands a few seconds later. The fake
        # applies it at once (unconfirmed).
        return json_response({"status": True}, 202)

    def _users_get(self, request: Request) -> Response:
        filters = self._filters(request, USER_FILTERS)
        self._include(request, None)
        users = list(self.users.values())
        if "id" in filters:
            users = [u for u in users if str(u["id"]) in filters["id"]]
        if "status" in filters:
            if filters["status"][0] not in ("active", "pending", "blocked"):  # document: the three statuses
                raise ApiError(400, {"message": "Filter `status` takes active, pending or blocked."})
            users = [u for u in users if u["status"] == filters["status"][0]]
        if "email" in filters:
            users = [u for u in users if u["email"] == filters["email"][0]]
        return self._page(request, users)

    def _sources_get(self, request: Request) -> Response:
        self._filters(request, ())  # document: sort, limit and page only
        self._include(request, None)
        return self._page(request, list(self.sources.values()))

    def _custom_fields_get(self, request: Request) -> Response:
        filters = self._filters(request, CUSTOM_FIELD_FILTERS)
        include = self._include(request, CUSTOM_FIELD_INCLUDES)
        models = filters.get("model", list(CUSTOM_FIELD_MODELS))
        unknown = [model for model in models if model not in CUSTOM_FIELD_MODELS]
        if unknown:
            # Strict: the document names the four entities only.
            raise ApiError(400, {"message": f"Filter `model` takes {', '.join(CUSTOM_FIELD_MODELS)}."})
        fields = [f for f in self.custom_fields.values() if f["model"] in models]
        # Document: a plain array, not a page; the options of list fields only with include=options.
        return json_response([{**f, "options": f["options"]} if "options" in include else _without_options(f) for f in fields])


def _without_options(field: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in field.items() if key != "options"}


def main() -> None:
    parser = argparse.ArgumentParser(description="A strict fake KeyCRM Open API on 127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--no-rate-limit", action="store_true", help=f"lift the {REQUESTS_PER_MINUTE} requests a minute")
    arguments = parser.parse_args()
    fake = FakeKeyCrm(requests_per_minute=None if arguments.no_rate_limit else REQUESTS_PER_MINUTE)
    serve_forever(fake, int(arguments.port), lambda url: f"fake KeyCRM at {url}/v1  (Authorization: Bearer {fake.api_key})")


if __name__ == "__main__":
    main()
