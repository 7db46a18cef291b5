"""What every channel adapter hands to the intake service."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class InboundAttachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One inbound contact, as any channel adapter sees it.

    ``external_id`` is the channel's own id (e-mail Message-ID, call id + event, chat frame id,
    a web form's idempotency key): delivering the same message twice stores it once.
    """

    channel: str
    body_text: str
    subject: str = ""
    body_html: str = ""  # already sanitised by the adapter
    sender_name: str = ""
    sender_email: str = ""
    sender_phone: str = ""
    organisation_number: str = ""
    language: str | None = None
    external_id: str = ""
    received_at: datetime | None = None
    # Threading hints: an explicit ticket reference (subject tag, signed link, chat session) and
    # the channel's own ids of earlier messages (In-Reply-To/References).
    thread_reference: str = ""
    thread_external_ids: tuple[str, ...] = ()
    # True when the sender is proven to own ``thread_reference`` (a signed link, a chat session).
    thread_verified: bool = False
    attachments: tuple[InboundAttachment, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)
    # Adapters that know better than the router (a department's own address) may pin these.
    department_code: str = ""
    route: bool = True
    # False when the sender must get no automatic answer (auto-submitted mail, lists, bounces,
    # a rate-limited sender): routing still runs, the router's answer is just not sent.
    auto_reply: bool = True
