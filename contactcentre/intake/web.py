"""The web-form adapter: a resident's form submission becomes one InboundMessage."""

from __future__ import annotations

from typing import Any

from .base import InboundMessage
from .services import IntakeResult, intake_receive


def web_form_receive(*, data: dict[str, Any], idempotency_key: str = "", meta: dict[str, Any] | None = None) -> IntakeResult:
    inbound = InboundMessage(
        channel="web",
        subject=data.get("subject", ""),
        body_text=data["message"],
        sender_name=data.get("name", ""),
        sender_email=data.get("email", ""),
        sender_phone=data.get("phone", ""),
        organisation_number=data.get("organisation_number", ""),
        language=data.get("language") or None,
        external_id=f"web:{idempotency_key}" if idempotency_key else "",
        meta=meta or {},
    )
    return intake_receive(inbound)
