"""Funnel cards opened from the call window (X3, F3, F5)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from crm_routes import phone_field
from ringbridge import wiring
from ringbridge.domain.calls import CALL_ID_PATTERN
from ringbridge.domain.phones import mask_phone
from ringbridge.observability import logger
from ringbridge.usecases import call_window
from ringbridge.web import HttpResponse, error_response, json_body, json_response, new_router

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
