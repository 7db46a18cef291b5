from __future__ import annotations

import json
import time
from typing import Any

from django.conf import settings
from rest_framework.test import APIClient

from contactcentre.intake.phone.models import CallEvent, CallSession
from contactcentre.intake.phone.signatures import cti_signature
from contactcentre.tickets.models import Contact, LiveEvent, Message, Ticket, TicketEvent

URL = "/api/v1/intake/phone/"


def signed_headers(body: bytes, *, ts: int | None = None, secret: str | None = None) -> dict[str, str]:
    timestamp = str(int(time.time()) if ts is None else ts)
    signature = cti_signature(secret=secret or settings.CTI_WEBHOOK_SECRET, timestamp=timestamp, body=body)
    return {"HTTP_X_CC_TIMESTAMP": timestamp, "HTTP_X_CC_SIGNATURE": signature}


def post_event(client: APIClient, payload: dict[str, Any], **sign: Any):  # type: ignore[no-untyped-def]
    body = json.dumps(payload).encode()
    return client.post(URL, data=body, content_type="application/json", **signed_headers(body, **sign))


def stored_counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in (CallSession, CallEvent, Ticket, Message, TicketEvent, LiveEvent, Contact)}
