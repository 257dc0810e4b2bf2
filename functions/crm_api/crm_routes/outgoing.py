"""Click-to-call (X1, X2): Ringostat rings the manager, then the client — or the softphone dials itself."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from crm_routes import phone_field
from ringbridge import wiring
from ringbridge.domain.phones import mask_phone
from ringbridge.observability import logger
from ringbridge.usecases import call_window
from ringbridge.web import HttpResponse, json_body, json_response, new_router

router = new_router()


class OutgoingCall(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    phone: str = Field(min_length=1, max_length=64)
    employee_id: str = Field(min_length=1, max_length=64)


@router.post("/calls/outgoing")
def start_outgoing_call() -> HttpResponse:
    body = OutgoingCall.model_validate(json_body(router))
    phone = phone_field("phone", body.phone)
    start = call_window.start_call(
        phone, body.employee_id, wiring.settings().deep_link, wiring.employees(), wiring.ringostat, wiring.ledger()
    )
    logger.info("click-to-call", extra={"phone": mask_phone(phone), "employee_id": start.employee_id, "mode": start.mode})
    if start.mode == "deep_link":
        return json_response(
            200,
            {
                "mode": "deep_link",
                "phone": phone,
                "tel_uri": f"tel:{phone}",
                "sip_uri": f"sip:{phone.lstrip('+')}",
                "sip_account": start.sip_account,
            },
        )
    return json_response(202, {"mode": "callback", "phone": phone, "sip_account": start.sip_account, "status": "ringing_manager"})
