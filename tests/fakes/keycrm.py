"""A fake KeyCRM Open API (``/v1``): buyers, pipelines, statuses, cards, users.

Answers are shaped by KeyCRM's OpenAPI document (the contract tests check them), with
the behaviour the reference records: exact-string phone filters, only the documented
card filters (others: 400), 422 for missing required fields, Bearer key (401).
Run standalone: ``python -m tests.fakes.keycrm --port 8081``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from werkzeug.exceptions import NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from tests.fakes import ApiError, FakeCrmServer, json_response, port_argument, serve_forever, utc_stamp

API_KEY = "fake-keycrm-key"

BUYER_FILTERS = {"buyer_id", "buyer_phone", "buyer_email", "created_between", "updated_between"}
CARD_FILTERS = {"pipeline_id", "status_id", "source_id", "created_between", "updated_between"}
USER_FILTERS = {"id", "full_name", "role_id", "status", "email", "phone", "created_between", "last_logged_between"}


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(422, {"message": message, "errors": {field: [message]}})


class FakeKeyCrm(FakeCrmServer):
    name = "keycrm"

    def __init__(self, api_key: str = API_KEY, monotonic: Callable[[], float] | None = None) -> None:
        super().__init__(*([monotonic] if monotonic else []))
        self.api_key = api_key
        self.buyers: dict[int, dict[str, Any]] = {}
        self.cards: dict[int, dict[str, Any]] = {}
        self.pipelines: dict[int, dict[str, Any]] = {}
        self.statuses: dict[int, dict[str, Any]] = {}
        self.users: dict[int, dict[str, Any]] = {}
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
            ]
        )
        self.seed()

    # State

    def seed(self) -> None:
        """One sales funnel (two open statuses, two final ones) and two managers."""
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

    # Views (shaped as the OpenAPI document's schemas)

    def _buyer_view(self, buyer: dict[str, Any], include: set[str]) -> dict[str, Any]:
        keys = ("id", "full_name", "birthday", "email", "phone", "note", "created_at", "updated_at")
        view = {key: buyer[key] for key in keys}
        if "manager" in include and buyer["manager_id"] in self.users:
            view["manager"] = self.users[buyer["manager_id"]]
        if "custom_fields" in include:
            view["custom_fields"] = buyer["custom_fields"]
        return view

    def _card_view(self, card: dict[str, Any], include: set[str]) -> dict[str, Any]:
        keys = ("id", "title", "contact_id", "source_id", "manager_id", "status_id", "manager_comment")
        view: dict[str, Any] = {key: card[key] for key in keys}
        view.update({key: card[key] for key in ("created_at", "updated_at", "status_changed_at")})
        view["is_finished"] = None
        view["communicate_at"] = card["communicate_at"]  # null without a "next contact", as the API answers
        view.update({key: value for key, value in card.items() if key.startswith("utm_")})
        if "contact.client" in include or "contact" in include:
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
    def _filters(request: Request, allowed: set[str]) -> dict[str, list[str]]:
        filters = {key[7:-1]: value for key, value in request.args.items() if key.startswith("filter[") and key.endswith("]")}
        refused = sorted(set(filters) - allowed)
        if refused:
            raise ApiError(
                400,
                {
                    "message": f"Requested filter(s) `{', '.join(refused)}` are not allowed. "
                    f"Allowed filter(s) are `{', '.join(sorted(allowed))}`."
                },
            )
        return {key: [part.strip() for part in value.split(",") if part.strip()] for key, value in filters.items()}

    @staticmethod
    def _page(request: Request, items: list[dict[str, Any]]) -> Response:
        try:
            limit = int(request.args.get("limit", 15))
            page = int(request.args.get("page", 1))
        except ValueError:
            raise _invalid("limit", "The limit and page must be integers.") from None
        if not 1 <= limit <= 50 or page < 1:
            raise _invalid("limit", "The limit must be between 1 and 50.")
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

    @staticmethod
    def _include(request: Request) -> set[str]:
        return {part.strip() for part in request.args.get("include", "").split(",") if part.strip()}

    def _check_manager(self, body: dict[str, Any]) -> None:
        manager_id = body.get("manager_id")
        if manager_id is not None and manager_id not in self.users:
            raise _invalid("manager_id", "The selected manager id is invalid.")

    # Routes

    def authorized(self, request: Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.api_key}"

    def route(self, request: Request) -> Response:
        endpoint, args = self._urls.bind_to_environ(request.environ).match()
        handler = getattr(self, f"_{endpoint}_{request.method.lower()}", None)
        if handler is None:
            return json_response({"message": "Method Not Allowed"}, 405)
        response: Response = handler(request, **args)
        return response

    def _buyers_get(self, request: Request) -> Response:
        filters = self._filters(request, BUYER_FILTERS)
        buyers = list(self.buyers.values())
        if "buyer_phone" in filters:  # exact string match, as KeyCRM does
            wanted = set(filters["buyer_phone"])
            buyers = [b for b in buyers if wanted & set(b["phone"] or [])]
        if "buyer_id" in filters:
            buyers = [b for b in buyers if str(b["id"]) in filters["buyer_id"]]
        include = self._include(request)
        return self._page(request, [self._buyer_view(b, include) for b in buyers])

    def _buyers_post(self, request: Request) -> Response:
        body = self._body(request)
        if not isinstance(body.get("full_name"), str) or not body["full_name"].strip():
            raise _invalid("full_name", "The full name field is required.")
        phones = body.get("phone") or []
        if not isinstance(phones, list) or not all(isinstance(p, str) for p in phones):
            raise _invalid("phone", "The phone must be an array of strings.")
        self._check_manager(body)
        buyer_id = self.add_buyer(body["full_name"], phones, body.get("manager_id"), body.get("note"))
        self.buyers[buyer_id]["custom_fields"] = list(body.get("custom_fields") or [])
        return json_response(self._buyer_view(self.buyers[buyer_id], set()), 201)

    def _buyer_get(self, request: Request, buyer_id: int) -> Response:
        if buyer_id not in self.buyers:
            raise NotFound("Buyer not found.")
        return json_response(self._buyer_view(self.buyers[buyer_id], self._include(request)))

    def _buyer_put(self, request: Request, buyer_id: int) -> Response:
        if buyer_id not in self.buyers:
            raise NotFound("Buyer not found.")
        body = self._body(request)
        if not isinstance(body.get("full_name"), str) or not body["full_name"].strip():
            raise _invalid("full_name", "The full name field is required.")
        self._check_manager(body)
        buyer = self.buyers[buyer_id]
        for key in ("full_name", "note", "phone", "email", "manager_id", "birthday"):
            if key in body:
                buyer[key] = body[key]
        buyer["updated_at"] = utc_stamp()
        return json_response(self._buyer_view(buyer, set()), 202)

    def _pipelines_get(self, request: Request) -> Response:
        return self._page(request, list(self.pipelines.values()))

    def _statuses_get(self, request: Request, pipeline_id: int) -> Response:
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
        cards = list(self.cards.values())
        for key in ("pipeline_id", "status_id", "source_id"):
            if key in filters:
                cards = [c for c in cards if str(c[key]) in filters[key]]
        include = self._include(request)
        return self._page(request, [self._card_view(c, include) for c in cards])

    def _cards_post(self, request: Request) -> Response:
        body = self._body(request)
        contact = body.get("contact")
        if not isinstance(contact, dict):
            raise _invalid("contact", "The contact field is required.")
        pipeline_id = body.get("pipeline_id") or min(self.pipelines)
        if pipeline_id not in self.pipelines:
            raise _invalid("pipeline_id", "The selected pipeline id is invalid.")
        self._check_manager(body)
        client_id = contact.get("client_id")
        if client_id is not None:
            if client_id not in self.buyers:
                raise _invalid("contact.client_id", "The selected contact.client id is invalid.")
        else:
            if not contact.get("full_name"):
                raise _invalid("contact.full_name", "The contact.full name field is required without contact.client id.")
            client_id = self.add_buyer(contact["full_name"], [contact["phone"]] if contact.get("phone") else [])
        first_status = min(s["id"] for s in self.statuses.values() if s["pipeline_id"] == pipeline_id)
        fields = {key: value for key, value in body.items() if key not in ("contact", "pipeline_id")}
        card_id = self.add_card(client_id, first_status, **fields)
        return json_response(self._card_view(self.cards[card_id], set()), 201)

    def _card_get(self, request: Request, card_id: int) -> Response:
        if card_id not in self.cards:
            raise NotFound("Card not found.")
        # The document describes this answer as a one-item page.
        return json_response(
            {
                "total": 1,
                "current_page": 1,
                "per_page": 1,
                "data": [self._card_view(self.cards[card_id], self._include(request))],
            }
        )

    def _card_put(self, request: Request, card_id: int) -> Response:
        if card_id not in self.cards:
            raise NotFound("Card not found.")
        body = self._body(request)
        card = self.cards[card_id]
        if "status_id" in body:
            if body["status_id"] not in self.statuses:
                raise _invalid("status_id", "The selected status id is invalid.")
            card["status_id"] = body["status_id"]
            card["pipeline_id"] = self.statuses[body["status_id"]]["pipeline_id"]
        self._check_manager(body)
        for key in ("title", "note", "source_id", "manager_id", "communicate_at"):
            if key in body:
                card[key] = body[key]
        if "client_id" in body:
            card["client_id"] = body["client_id"]
        card["updated_at"] = utc_stamp()
        return json_response({"status": True}, 202)

    def _users_get(self, request: Request) -> Response:
        filters = self._filters(request, USER_FILTERS)
        users = list(self.users.values())
        if "id" in filters:
            users = [u for u in users if str(u["id"]) in filters["id"]]
        return self._page(request, users)


def main() -> None:
    port = port_argument("A fake KeyCRM Open API on 127.0.0.1")
    fake = FakeKeyCrm()
    serve_forever(fake, port, lambda url: f"fake KeyCRM at {url}/v1  (Authorization: Bearer {fake.api_key})")


if __name__ == "__main__":
    main()
