"""Funnel cards: opened from the call window (X3, F3, F5), listed, won, lost or reopened (F2, F3)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from crm_routes import phone_field, record_id_of
from ringbridge import wiring
from ringbridge.domain.calls import CALL_ID_PATTERN
from ringbridge.domain.crm_lists import CardChange, parse_card_query
from ringbridge.domain.phones import mask_phone
from ringbridge.observability import logger
from ringbridge.usecases import call_window, lifecycle
from ringbridge.web import HttpResponse, error_response, json_body, json_response, new_router, with_etag
from ringbridge.web.views import card_view, parse_if_match

router = new_router()


class CardCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    phone: str = Field(min_length=1, max_length=64)
    title: str | None = Field(default=None, min_length=1, max_length=200)
    funnel_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")
    call_id: str | None = Field(default=None, pattern=CALL_ID_PATTERN)


@router.post("/cards")
def create_card() -> HttpResponse:
    """X3: open a funnel card for the number, unless it has an active one (409 with that card)."""
    body = CardCreate.model_validate(json_body(router))
    phone = phone_field("phone", body.phone)
    funnel_id = body.funnel_id or wiring.settings().rules.funnel_id  # the pipeline's funnel (F1) unless named
    try:
        opened = call_window.open_card(
            phone,
            body.title,
            funnel_id,
            body.call_id,
            wiring.builtin_store(),
            wiring.employees(),
            wiring.calls(),
            wiring.ledger(),
        )
    except call_window.ActiveCardExists as exists:
        return error_response(409, "this number already has an active card", card={"card_id": exists.card.crm_id, "active": True})
    card, draft = opened.card, opened.draft
    logger.info("card created", extra={"phone": mask_phone(phone), "card_id": card.crm_id})
    return json_response(
        201,
        {
            "card_id": card.crm_id,
            "contact_id": draft.contact.crm_id,
            "title": draft.title,
            "funnel_id": draft.funnel_id,
            "active": True,
        },
    )


@router.get("/cards")
def list_cards() -> HttpResponse:
    """Cards by number, contact, manager or status, newest first; Queries only (see storage/builtin_records.py)."""
    query = parse_card_query(router.current_event.query_string_parameters or {}, wiring.settings().default_country)
    cards, cursor = wiring.builtin_store().list_cards(query)
    return json_response(200, {"cards": [card_view(card) for card in cards], "next_cursor": cursor})


@router.patch("/cards/<card_id>")
def patch_card(card_id: str) -> HttpResponse:
    """Won, lost or open again, and/or another manager; ``If-Match`` names the version read (F2, F3)."""
    identifier = record_id_of("card_id", card_id)
    expected = parse_if_match(router.current_event.headers.get("if-match"), "the card (its version)")
    change = CardChange.model_validate(json_body(router))
    store = wiring.builtin_store()
    card = lifecycle.change_card(identifier, change, expected, store, wiring.employees(), wiring.ledger())
    logger.info("card changed", extra={"card_id": identifier, "status": card.get("status")})
    return with_etag(json_response(200, card_view(card)), int(card.get("version", 0)))
