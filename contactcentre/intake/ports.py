"""The small interface between intake and the routing engine.

Intake hands the router a :class:`RoutingRequest` and gets a :class:`RoutingOutcome` back. The
router is chosen by dotted path in ``settings.CONTACTCENTRE_ROUTER`` (like ``EMAIL_BACKEND``), so
intake never imports the engine and the engine never imports intake.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

from django.conf import settings
from django.core.signals import setting_changed
from django.db import transaction
from django.dispatch import receiver
from django.utils.module_loading import import_string

Action = Literal["answer", "escalate", "agent"]


@dataclass(frozen=True, slots=True)
class RoutingRequest:
    text: str
    channel: str  # "web" | "email" | "phone" | "chat" | "open311"
    language: str | None = None  # a hint from the channel (form field, Accept-Language)
    subject: str = ""
    sender_email: str = ""
    sender_phone: str = ""
    contact_id: int | None = None
    ticket_id: int | None = None  # set when the text threads into an existing ticket


@dataclass(frozen=True, slots=True)
class RoutingOutcome:
    action: Action
    department: str | None = None  # department code
    article: str | None = None  # knowledge-base article slug, when action == "answer"
    confidence: float = 0.0
    language: str = "sv"
    complaint: bool = False
    business: bool = False
    explanation: str = ""
    priority: str | None = None  # "low" | "normal" | "high" | "urgent", from explicit rules
    category: str = ""
    # Filled by the router when action == "answer": the text to send to the resident.
    answer_title: str = ""
    answer_text: str = ""
    suggestions: tuple[str, ...] = field(default_factory=tuple)  # article slugs for the agent

    def as_dict(self) -> dict[str, object]:
        return {
            "action": self.action,
            "department": self.department,
            "article": self.article,
            "confidence": round(self.confidence, 3),
            "language": self.language,
            "complaint": self.complaint,
            "business": self.business,
            "explanation": self.explanation,
            "priority": self.priority,
            "category": self.category,
            "suggestions": list(self.suggestions),
        }


Router = Callable[[RoutingRequest], RoutingOutcome]


def null_router(request: RoutingRequest) -> RoutingOutcome:
    """The router used when none is configured: the contact centre handles everything."""
    return RoutingOutcome(
        action="agent",
        language=request.language or "sv",
        explanation="Ingen routningsmotor är konfigurerad; kontaktcenter hanterar ärendet.",
    )


@cache
def get_router() -> Router:
    return import_string(settings.CONTACTCENTRE_ROUTER)


@receiver(setting_changed)
def _router_setting_changed(*, setting: str, **kwargs: object) -> None:
    if setting == "CONTACTCENTRE_ROUTER":
        get_router.cache_clear()


# --- feedback: what happened to the router's decisions, so it can learn -----------------------
FeedbackKind = Literal["rerouted", "reply_article", "auto_answered", "suggested"]
log = logging.getLogger(__name__)


def feedback_on_commit(kind: FeedbackKind, *, ticket_id: int, **data: object) -> None:
    """Report an outcome to ``settings.CONTACTCENTRE_ROUTING_FEEDBACK`` after the transaction
    commits. Learning is a side effect: a failure is logged and never undoes the agent's work."""
    path = getattr(settings, "CONTACTCENTRE_ROUTING_FEEDBACK", "")
    if not path:
        return

    def deliver() -> None:
        try:
            import_string(path)(kind, ticket_id=ticket_id, **data)
        except Exception:
            log.exception("routing feedback %s for ticket %s failed", kind, ticket_id)

    transaction.on_commit(deliver)
